/**
 * The route checks: one check per route of the run (`route.<route>`), each one connection observed stage by stage
 * (for the four default routes: dns → tcp → tls → alpn → client-auth → protocol → round-trip). The stages are run
 * by the engine (route-engine.ts); what a route is comes from its `RouteSpec` (src/model/route.ts).
 */
import {
  ROUTES,
  routeCheckId,
  routeSpecOf,
  type CheckResult,
  type RouteId,
  type RouteSpec,
} from '../src/model/index.js';
import { finishRoute, runRoute } from './route-engine.js';
import type { CheckContext, DoctorCheck } from './types.js';

const NEVER_ABORTED = new AbortController().signal;

/**
 * Probe one route and return one result per stage of `spec.stages`, in stage order. `signal` (default: never
 * aborted) destroys the route's sockets when it aborts. The run's hub always hears that the route ended, so other
 * routes stop waiting for it.
 */
export async function probeRoute(
  spec: RouteSpec,
  ctx: CheckContext,
  signal: AbortSignal = NEVER_ABORTED,
): Promise<CheckResult[]> {
  try {
    return finishRoute(spec, await runRoute(spec, ctx, signal));
  } finally {
    if (spec.protocol === 'mqtt') ctx.hub.mqttEnded(spec.id);
    else ctx.hub.httpsEnded(spec.id);
  }
}

/**
 * The check of one route: by id (a registered kind, or an instance id `<kind> <variant>` read back with
 * `routeSpecOf`) or by a spec built with `routeVariant`. Throws when the id names no registered kind.
 */
export function routeCheck(route: RouteId | RouteSpec): DoctorCheck {
  const spec = typeof route === 'string' ? (ROUTES[route] ?? routeSpecOf(route)) : route;
  if (!spec) throw new Error(`unknown route ${String(route)}`);
  return {
    id: routeCheckId(spec.id),
    title: spec.title,
    family: 'route',
    run: (ctx: CheckContext, _deps, signal?: AbortSignal) => probeRoute(spec, ctx, signal),
  };
}
