/**
 * Which route instances a run probes. Each selected kind over the direct path, once per address family DNS returns
 * (`mqtt-8883` on the first family, `mqtt-8883 IPv6` when the endpoint also publishes AAAA: Happy Eyeballs would
 * hide a broken IPv6 path that devices without fallback hit, field-notes §2.3), or only the family of `-4` / `-6`;
 * and, with a proxy configured, each kind again through it (`mqtt-8883 via proxy`), or only those (`--proxy-only`).
 */
import { ROUTES, routeKindOf, routeVariant, type RouteId, type RouteSpec } from '../src/model/index.js';
import type { DnsOutcome } from '../src/probes/dns.js';
import type { Family } from '../src/probes/families.js';
import type { Target } from '../src/target.js';

/** Variant words of a route through the proxy. */
export const VIA_PROXY = 'via proxy';
/** Variant words of a route over IPv6 when the plain id is the IPv4 one. */
export const OVER_IPV6 = 'IPv6';

/** The spec of a route instance id of this run: kind, then `via proxy` (transport and proxy row) or `IPv6`. */
export function routeInstance(id: RouteId, target: Target): RouteSpec {
  const kind = ROUTES[routeKindOf(id)];
  if (!kind) throw new Error(`unknown route ${id}`);
  const words = id.slice(kind.id.length).trim();
  if (words === VIA_PROXY) {
    return routeVariant(kind, { variant: VIA_PROXY, transport: 'proxy', insert: [{ stage: 'proxy', after: 'tcp' }] });
  }
  if (words === OVER_IPV6) return routeVariant(kind, { variant: OVER_IPV6, family: 6 });
  if (words !== '') throw new Error(`unknown route variant "${words}" of ${kind.id}`);
  const family = target.family ?? target.plannedFamilies?.[0];
  return family ? { ...kind, family } : kind;
}

/** The endpoint addresses the run knows without asking DNS (`--resolve`), or undefined. */
function pinnedFamilies(target: Target): Family[] | undefined {
  const pin = target.resolve.find((p) => p.host.toLowerCase() === target.endpoint.toLowerCase());
  if (!pin) return undefined;
  return [...new Set(pin.addresses.map((a): Family => (a.includes(':') ? 6 : 4)))];
}

/** A `--connect-to` rule that gives an address for the endpoint: then that address is the only one. */
function connectsElsewhere(target: Target): boolean {
  return target.connectTo.some((r) => r.address !== '' && (r.host === '' || r.host === target.endpoint.toLowerCase()));
}

/**
 * The families to probe over the direct path: `-4`/`-6`; else those of `--resolve`; else those DNS returns (A first).
 * Empty when it cannot be known (DNS failed, `--connect-to` with an address): then the routes probe what they get.
 */
export async function plannedFamilies(
  target: Target,
  resolve: (name: string) => Promise<DnsOutcome>,
): Promise<Family[]> {
  if (target.family) return [target.family];
  if (connectsElsewhere(target)) return [];
  const pinned = pinnedFamilies(target);
  if (pinned) return pinned.sort();
  const answer = await resolve(target.endpoint);
  if (!answer.ok) return [];
  return [...new Set(answer.addresses.map((a) => a.family))].sort();
}

/**
 * The route instance ids of a run, in matrix order: per kind the plain id, then its `IPv6` instance when both
 * families are published, then (with a proxy) the `via proxy` instances. `target.routes` holds kind ids.
 */
export function planRoutes(target: Target, families: readonly Family[]): RouteId[] {
  const kinds = target.routes;
  const direct = target.proxyOnly
    ? []
    : kinds.flatMap((k) => (families.length > 1 && !target.family ? [k, `${k} ${OVER_IPV6}`] : [k]));
  const viaProxy = target.proxy ? kinds.map((k) => `${k} ${VIA_PROXY}`) : [];
  return [...direct, ...viaProxy];
}

/**
 * Why the direct routes probe `families` (one line for the report): `-4`/`-6`, `--proxy-only`, a `--connect-to`
 * address, `--resolve`, or what DNS published (a missing AAAA or A record is named), or DNS gave no answer.
 */
export function familiesReason(target: Target, families: readonly Family[]): string {
  if (target.proxyOnly) return 'none: --proxy-only (no direct route)';
  if (target.family) return target.family === 4 ? '-4 (--ipv4)' : '-6 (--ipv6)';
  if (connectsElsewhere(target)) return 'the family of the address --connect-to gives';
  if (pinnedFamilies(target)) return '--resolve gives the addresses';
  if (families.length === 0) return 'DNS gave no address: each route probes what it gets';
  if (families.length > 1) return 'A and AAAA published';
  return families[0] === 4 ? `no AAAA record for ${target.endpoint}` : `no A record for ${target.endpoint}`;
}

/** The target with its route instances planned (`routes` become instance ids, `plannedFamilies` set). */
export async function planTarget(target: Target, resolve: (name: string) => Promise<DnsOutcome>): Promise<Target> {
  const needsDirect = !target.proxyOnly && target.routes.length > 0;
  const families = needsDirect ? await plannedFamilies(target, resolve) : [];
  return {
    ...target,
    routes: planRoutes(target, families),
    plannedFamilies: families,
    ...(target.routes.length > 0 ? { familiesReason: familiesReason(target, families) } : {}),
  };
}
