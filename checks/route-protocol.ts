/**
 * Former home of the route identity (client id, topic): kept as a re-export for code that still imports it here.
 * New code imports `./route-identity.js` (identity) and `./route-reproduce.js` (reproduce commands).
 */
export { routeClientId, routeTopic, topicForClientId } from './route-identity.js';
