/** The words under each route column head, for every renderer (the routes themselves: `routesIn`, src/model). */
import { routeSpecOf, type RouteId } from '../model/index.js';

/** "ALPN x-amzn-mqtt-ca" / "no ALPN" for a route's column head (the kind's ALPN). */
export function alpnLabel(route: RouteId): string {
  const alpn = routeSpecOf(route)?.alpn;
  return alpn ? `ALPN ${alpn}` : 'no ALPN';
}
