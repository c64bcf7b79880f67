/**
 * Where a route connects, from the target alone (no DNS, no API): its host name and the `--connect-to` rule that
 * applies. Light on purpose: `check` computes it before the catalogue loads, to start the routes' DNS and TCP early
 * (src/probes/head-start.ts), and the stage engine computes it again for each route (checks/route-engine.ts).
 */
import type { RouteSpec } from '../src/model/index.js';
import type { Target } from '../src/target.js';
import type { Destination } from './route-stage.js';

/** The host name a route is for: the data endpoint, or the credential-provider endpoint (empty when unknown). */
export function routeHostName(target: Target, spec: RouteSpec): string {
  return spec.host === 'credentials' ? (target.credentials?.endpoint ?? '') : target.endpoint;
}

/** Where a route for host `name` connects: that name on the kind's port, or what a matching `--connect-to` says. */
export function destinationFor(target: Target, spec: RouteSpec, name: string): Destination {
  const lower = name.toLowerCase();
  const rule = target.connectTo.find(
    (r) => (r.host === '' || r.host.toLowerCase() === lower) && (r.port === 0 || r.port === spec.port),
  );
  if (!rule) return { name, host: name, port: spec.port, override: false };
  // A rule that only changes the port still resolves the endpoint name through DNS.
  return { name, host: rule.address || name, port: rule.toPort || spec.port, override: rule.address !== '' };
}
