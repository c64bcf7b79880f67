/**
 * Routes and stages as data. A route KIND (`mqtt-8883`, `https-443`, …) says where and how to connect: protocol,
 * port, ALPN, transport and the ordered stages of its one connection. A route INSTANCE is a kind plus optional
 * variant words (`mqtt-8883 via proxy`, `mqtt-443 IPv6`): its id is the kind id, then the variant, separated by a
 * space. The stage engine (checks/route-engine.ts) runs any instance; it never names a kind.
 * Facts: AWS IoT Core ports and ALPN per protocol, aws-iot-facts.md §2 (AWS "Protocols, port mappings, and
 * authentication").
 */

/** ALPN protocol id that selects MQTT with X.509 client authentication on port 443 (facts §2). */
export const ALPN_MQTT = 'x-amzn-mqtt-ca';
/** ALPN protocol id that selects HTTPS with X.509 client authentication on port 443 (facts §2). */
export const ALPN_HTTP = 'x-amzn-http-ca';
/** ALPN protocol id that selects MQTT with custom authentication on port 443 (facts §1 row 3; field notes §5.1). */
export const ALPN_CUSTOM_AUTH = 'mqtt';

/** The default routes of a run, in matrix column order: the four mTLS routes of AWS IoT Core's data endpoint. */
export const ROUTE_IDS = ['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443'] as const;

/** Id of a registered route kind: a key of `ROUTES` (`mqtt-8883`, …). */
export type RouteKindId = string;

/**
 * Id of a route instance as reports show it: a kind id, optionally followed by a space and variant words
 * (`mqtt-8883`, `mqtt-8883 via proxy`). Matrix cell ids are `route.<RouteId>.<StageId>`.
 */
export type RouteId = string;

/** The application protocol a route speaks after its connection is up. */
export type RouteProtocol = 'mqtt' | 'https' | 'credentials';

/**
 * How a route's bytes reach the endpoint. `direct`: a TCP connection from this machine to the endpoint's address.
 * Other transports (HTTP CONNECT or SOCKS proxy tunnels) register their own stage implementations.
 */
export type TransportId = string;

/** Every stage a route can show, in the canonical matrix order. A new stage id is added here and in `STAGE_TITLES`. */
export const STAGE_IDS = [
  'dns',
  'tcp',
  'proxy',
  'tls',
  'alpn',
  'client-auth',
  'upgrade',
  'protocol',
  'round-trip',
] as const;
/** One stage of a route (one matrix row). */
export type StageId = (typeof STAGE_IDS)[number];

/** The matrix row titles: each states what the stage expects. */
export const STAGE_TITLES: Readonly<Record<StageId, string>> = {
  dns: 'Endpoint name resolves',
  tcp: 'TCP connection opens',
  proxy: 'Proxy opens a tunnel to the endpoint (HTTP CONNECT / SOCKS5)',
  tls: 'TLS handshake with SNI, server chain and name verified',
  alpn: 'Server selects the offered ALPN protocol',
  'client-auth': 'Server accepts the client certificate',
  upgrade: 'WebSocket upgrade to MQTT accepted (SigV4-signed GET /mqtt)',
  protocol: 'Protocol answers (MQTT CONNACK / HTTPS publish)',
  'round-trip': 'Message makes the round trip',
};

/** The stages of the four mTLS route kinds over a direct connection, in order. */
export const MTLS_STAGES: readonly StageId[] = ['dns', 'tcp', 'tls', 'alpn', 'client-auth', 'protocol', 'round-trip'];

/** A route kind or instance: what the stage engine needs to probe it, and what reports show about it. */
export interface RouteSpec {
  /** Instance id (equal to `kind` for a plain kind). */
  id: RouteId;
  /** The registered kind this route is (a key of `ROUTES`). */
  kind: RouteKindId;
  protocol: RouteProtocol;
  /** The TCP port AWS IoT Core serves this route on. `--connect-to` may aim elsewhere. */
  port: number;
  /** ALPN protocol the client offers, or null when the route uses none. */
  alpn: string | null;
  title: string;
  /** How the connection is made (`direct` for the four default routes). */
  transport: TransportId;
  /** The matrix rows of this route, in order; every one becomes a cell (run, failed or skipped). */
  stages: readonly StageId[];
  /** Variant words after the kind id in `id` (`via proxy`, `IPv6`); absent on a plain kind. */
  variant?: string;
  /** Only this address family (4 or 6) is used from the DNS answer; absent = the first address DNS returns. */
  family?: 4 | 6;
  /** Which host the route connects to: the data endpoint (absent) or the credential-provider endpoint. */
  host?: 'credentials';
  /**
   * How the device authenticates when it is not the X.509 client certificate: `custom` (a custom authorizer, MQTT
   * username/password; facts §1 row 3), `sigv4` (an IAM identity signing the WebSocket URL; facts §1 row 4). Absent:
   * the device certificate (mTLS).
   */
  auth?: 'custom' | 'sigv4';
}

/** The registered route kinds, by id. A new kind is one entry here (its stages must have implementations). */
export const ROUTES: Readonly<Record<RouteKindId, RouteSpec>> = {
  'mqtt-8883': mtls('mqtt-8883', 'mqtt', 8883, null, 'MQTT mTLS on 8883'),
  'mqtt-443': mtls('mqtt-443', 'mqtt', 443, ALPN_MQTT, `MQTT mTLS on 443 (ALPN ${ALPN_MQTT})`),
  'https-8443': mtls('https-8443', 'https', 8443, null, 'HTTPS mTLS on 8443'),
  'https-443': mtls('https-443', 'https', 443, ALPN_HTTP, `HTTPS mTLS on 443 (ALPN ${ALPN_HTTP})`),
  'credentials-443': {
    ...mtls('credentials-443', 'credentials', 443, null, 'Credential provider (mTLS on 443)'),
    stages: ['dns', 'tcp', 'tls', 'protocol'],
    host: 'credentials',
  },
  'mqtt-custom-auth-443': {
    ...mtls('mqtt-custom-auth-443', 'mqtt', 443, ALPN_CUSTOM_AUTH, `MQTT custom authentication on 443 (ALPN mqtt)`),
    stages: ['dns', 'tcp', 'tls', 'alpn', 'protocol', 'round-trip'],
    auth: 'custom',
  },
  'mqtt-wss-443': {
    ...mtls('mqtt-wss-443', 'mqtt', 443, null, 'MQTT over WebSocket on 443 (SigV4)'),
    stages: ['dns', 'tcp', 'tls', 'upgrade', 'protocol', 'round-trip'],
    auth: 'sigv4',
  },
};

function mtls(id: string, protocol: RouteProtocol, port: number, alpn: string | null, title: string): RouteSpec {
  return { id, kind: id, protocol, port, alpn, title, transport: 'direct', stages: MTLS_STAGES };
}

/** True when `value` is a registered route kind id (what `--routes` and site profiles accept). */
export function isRouteId(value: string): value is RouteId {
  return Object.hasOwn(ROUTES, value);
}

/** The kind part of a route instance id: the text before the first space (`mqtt-8883 via proxy` → `mqtt-8883`). */
export function routeKindOf(id: RouteId): RouteKindId {
  const space = id.indexOf(' ');
  return space < 0 ? id : id.slice(0, space);
}

/**
 * The spec of a route instance id read back from a report: its kind's spec with the instance id and variant words.
 * Transport and family of a variant are not recoverable from the id: runs build instances with `routeVariant`.
 * Returns undefined when the kind is not registered.
 */
export function routeSpecOf(id: RouteId): RouteSpec | undefined {
  const kind = ROUTES[routeKindOf(id)];
  if (!kind) return undefined;
  return id === kind.id ? kind : { ...kind, id, variant: id.slice(kind.id.length + 1) };
}

/** What makes an instance differ from its kind: `routeVariant` applies it. */
export interface RouteVariant {
  /** Words appended to the id and the title (`via proxy`, `IPv6`). */
  variant: string;
  transport?: TransportId;
  family?: 4 | 6;
  /** Stages to insert, each right after the named stage (`{ stage: 'proxy', after: 'tcp' }`). */
  insert?: readonly { stage: StageId; after: StageId }[];
}

/**
 * A route instance derived from a kind: id `<kind.id> <variant>`, title with the variant in parentheses, the
 * transport/family given, and extra stages inserted. Throws when `insert.after` is not a stage of the kind.
 */
export function routeVariant(kind: RouteSpec, v: RouteVariant): RouteSpec {
  const stages = [...kind.stages];
  for (const { stage, after } of v.insert ?? []) {
    const at = stages.indexOf(after);
    if (at < 0) throw new Error(`route ${kind.id} has no stage ${after} to insert ${stage} after`);
    stages.splice(at + 1, 0, stage);
  }
  const variant = kind.variant ? `${kind.variant} ${v.variant}` : v.variant;
  return {
    ...kind,
    id: `${kind.id} ${v.variant}`,
    title: `${kind.title} (${v.variant})`,
    variant,
    transport: v.transport ?? kind.transport,
    stages,
    ...(v.family ? { family: v.family } : kind.family ? { family: kind.family } : {}),
  };
}

/**
 * The ordered union of several stage lists (one per route of a run): the matrix rows. Each list's order is kept;
 * stages unknown to one list are placed after their predecessor in the list that has them (`[dns, tcp, tls]` ∪
 * `[dns, tcp, proxy, tls]` → `[dns, tcp, proxy, tls]`). Ties follow the canonical `STAGE_IDS` order.
 */
export function orderedStageUnion(lists: readonly (readonly StageId[])[]): StageId[] {
  const out: StageId[] = [];
  for (const list of lists) {
    let cursor = -1;
    for (const stage of list) {
      const at = out.indexOf(stage);
      if (at >= 0) {
        cursor = Math.max(cursor, at);
        continue;
      }
      let pos = cursor + 1;
      const rank = STAGE_IDS.indexOf(stage);
      while (pos < out.length && !list.includes(out[pos]!) && STAGE_IDS.indexOf(out[pos]!) < rank) pos += 1;
      out.splice(pos, 0, stage);
      cursor = pos;
    }
  }
  return out;
}

/** The id of a matrix cell: `route.<route>.<stage>` (e.g. `route.mqtt-443.alpn`). */
export function routeResultId(route: RouteId, stage: StageId): string {
  return `route.${route}.${stage}`;
}

/** The id of the check that probes a route: `route.<route>`. */
export function routeCheckId(route: RouteId): string {
  return `route.${route}`;
}

/** True when `id` names the check of a route of a registered kind (`route.mqtt-8883`, `route.mqtt-8883 via proxy`). */
export function isRouteCheckId(id: string): boolean {
  return id.startsWith('route.') && routeSpecOf(id.slice('route.'.length)) !== undefined;
}

/**
 * The routes present in `results` (cells with a route and a stage), in registry order (`ROUTES` keys), each instance
 * right after its kind: what the reporters show as matrix columns, whatever kinds the run had.
 */
export function routesIn(results: readonly { route?: string | null; stage?: string | null }[]): RouteId[] {
  const present = [...new Set(results.filter((r) => r.route && r.stage).map((r) => r.route!))];
  const kinds = Object.keys(ROUTES);
  const rank = (id: string): number => {
    const k = kinds.indexOf(routeKindOf(id));
    return k < 0 ? kinds.length : k;
  };
  return present.sort((a, b) => rank(a) - rank(b) || (a === routeKindOf(a) ? -1 : b === routeKindOf(b) ? 1 : 0));
}
