/**
 * Who a route is to AWS IoT: the MQTT client id it connects with and the topic it publishes to. AWS IoT allows one
 * connection per client id (a second CONNECT with the same id closes the first: facts §3), so concurrent MQTT routes
 * of one run get distinct ids unless the user chose the id.
 */
import { ROUTE_IDS, ROUTES, routeKindOf, type RouteSpec } from '../src/model/index.js';
import type { Target } from '../src/target.js';
import { defaultTopicFor } from '../src/flag-limits.js';

function isMqttRoute(id: string): boolean {
  return ROUTES[routeKindOf(id)]?.protocol === 'mqtt';
}

/**
 * The per-route part of our own client id: `<port>` for the default kinds (`8883`, `443`), the kind without its
 * `mqtt-` prefix for the others (`custom-auth-443`), so that no two kinds on one port share an id.
 */
export function routeClientIdSuffix(spec: RouteSpec): string {
  return (ROUTE_IDS as readonly string[]).includes(spec.kind) ? String(spec.port) : spec.kind.replace(/^mqtt-/, '');
}

/**
 * Client id a route uses: the user's `--client-id` as is; otherwise our own random id, with a per-route suffix when
 * the run has two or more MQTT routes: `-<port>` for a default kind (`iot-doctor-ab12-8883`), `-<kind>` for the
 * others (`-custom-auth-443`), then `-<variant>` for an instance (`-8883-via-proxy`).
 */
export function routeClientId(target: Target, spec: RouteSpec): string {
  const mqttRoutes = target.routes.filter(isMqttRoute);
  if (target.clientIdFromUser || mqttRoutes.length < 2) return target.clientId;
  const variant = spec.variant ? `-${spec.variant.toLowerCase().replace(/[^a-z0-9]+/g, '-')}` : '';
  return `${target.clientId}-${routeClientIdSuffix(spec)}${variant}`;
}

/**
 * Topic an MQTT route subscribes and publishes to: the user's --topic, else one under its own client id, which
 * is what policies written with ${iot:ClientId} allow.
 */
export function routeTopic(target: Target, spec: RouteSpec): string {
  return topicForClientId(target, routeClientId(target, spec));
}

/**
 * The probe topic for a client id: `--topic` when given, else `iot-doctor/<clientId>/probe` (`#` and `+` of the id
 * replaced by `_`: they cannot stand in a topic, see `defaultTopicFor`).
 */
export function topicForClientId(target: Target, clientId: string): string {
  return target.topicFromUser ? target.topic : defaultTopicFor(clientId);
}
