/**
 * The run's target and the parsers of the flags that describe it. Every parser throws `UsageError` with one line
 * naming the flag and the bad value; none touches the network.
 */
import { BROKER_LIMITS_SOURCE, TIMEOUT_FLOOR_MS, shorten } from './flag-limits.js';
import type { DeviceTls } from './probes/device-tls.js';
import type { Family } from './probes/families.js';
import type { ProxyConfig } from './probes/proxy-config.js';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { UsageError } from './errors.js';
import { ROUTES, ROUTE_IDS, isRouteId, routeSpecOf, type RouteId } from './model/index.js';

/** `--connect-to HOST:PORT:ADDR:PORT` (curl style): connect to ADDR:PORT when the route wants HOST:PORT. */
export interface ConnectTo {
  host: string;
  port: number;
  address: string;
  toPort: number;
}

/** Everything a run needs to know about what to probe, built by the CLI from flags, environment and profile. */
export interface Target {
  endpoint: string;
  routes: RouteId[];
  /** The proxy of the run (`--proxy` or HTTPS_PROXY/ALL_PROXY, NO_PROXY applied); routes `<kind> via proxy` use it. */
  proxy?: ProxyConfig;
  /** Why no proxy applies although one is configured (NO_PROXY), or that --no-proxy ignored the environment. */
  proxyNote?: string;
  /** One line: why the proxy is used (`--proxy`, `HTTPS_PROXY from the environment`) or why none is. */
  proxyReason?: string;
  /** Only the routes through the proxy (`--proxy-only`). */
  proxyOnly?: boolean;
  /** `-4` / `-6`: probe only this address family. Absent: every family DNS returns. */
  family?: Family;
  /** Families the plan found in DNS for the endpoint (set by `planTarget`); plain route ids use the first. */
  plannedFamilies?: Family[];
  /** Why `plannedFamilies` holds what it holds (`-4`, `--resolve`, no AAAA record …), set by `planTarget`. */
  familiesReason?: string;
  /** The device's TLS stack (`--tls-version`, `--ciphers`, `--max-record`, `--no-sni`, `--no-alpn`). */
  deviceTls?: DeviceTls;
  connectTo: ConnectTo[];
  /** `--resolve HOST:ADDR` style pins: the name resolves to these addresses without DNS. */
  resolve: { host: string; addresses: string[] }[];
  certPath?: string;
  keyPath?: string;
  caPath?: string;
  keyPassphrase?: string;
  /** Ask this DNS server (ADDR or ADDR:PORT) instead of the system resolver. */
  dnsServer?: string;
  clientId: string;
  /** True when the user chose the client id (a live device may be kicked off). */
  clientIdFromUser: boolean;
  topic: string;
  /** True when the user chose the topic; otherwise each MQTT route uses iot-doctor/<its client id>/probe. */
  topicFromUser: boolean;
  mqttVersion: 4 | 5;
  keepaliveSeconds: number;
  timeoutMs: number;
  /** Run the protocol and round-trip stages (MQTT CONNECT, HTTPS publish). Off: stop after client-auth. */
  protocol: boolean;
  warnDays: number;
  region?: string;
  /** The AWS profile (`--profile`) whose credentials the cloud checks use; not the site profile (`--site-profile`). */
  awsProfile?: string;
  apiEndpoint?: string;
  /** AWS IoT certificate id when no certificate file is at hand (cloud checks from a report). */
  certificateId?: string;
  /** Run the cloud checks (they skip by themselves without AWS credentials). */
  cloud: boolean;
  /** Credential provider (`credentials-443`): role alias, thing-name header, endpoint (facts §6, field notes §6). */
  credentials?: CredentialProviderTarget;
  /** The thing cloud.connectivity asks about (`--thing-name`); absent: the thing attached to the certificate. */
  thingName?: string;
  /**
   * Wall-clock start (ms epoch) of the window cloud.logs reads AWS IoT's records from when the probes ran earlier
   * (`check --from`: the report's `startedAt`); absent: this run's own start.
   */
  recordedSinceMs?: number;
  /** CloudWatch Logs group of the AWS IoT logs (`--log-group`); absent: AWSIotLogsV2 (field notes §7.6). */
  logGroup?: string;
  /** `--no-logs`: cloud.logs does not read CloudWatch Logs. */
  noLogs?: boolean;
  /**
   * How long each MQTT route holds its session after the round trip, watching for a takeover (`--hold-ms`, ms);
   * absent: 3000 with a user-given client id, else 0.
   */
  holdMs?: number;
  /** Custom authentication (`mqtt-custom-auth-443`): authorizer, token, signature, username, password (field notes §5). */
  customAuth?: CustomAuthTarget;
  /** The region SigV4 signs with when the user set one (`--region`, else `AWS_REGION`), as the SDKs do. */
  signingRegion?: string;
  /** Where `signingRegion` came from. */
  signingRegionFrom?: '--region' | 'AWS_REGION';
}

/**
 * What the `mqtt-custom-auth-443` route sends in its MQTT CONNECT (field notes §5.2). `token`, `signature` and
 * `password` are secrets: they go into the CONNECT and the TestInvokeAuthorizer call, never into a result, a report or
 * a log.
 */
export interface CustomAuthTarget {
  /** `x-amz-customauthorizer-name`; absent: the account's default authorizer. */
  authorizer?: string;
  token?: string;
  /** The query-parameter name the token travels under (the authorizer's `tokenKeyName`). */
  tokenKeyName?: string;
  /** Base64 RSA-SHA256 signature of the token (given, or made with `--token-signing-key`). */
  signature?: string;
  /** Where the signature came from, for the evidence. */
  signatureFrom?: 'flag' | 'signing-key';
  /** The user part of the MQTT username (before `?`). */
  username?: string;
  password?: string;
}

/** What the `credentials-443` route asks the credential provider for (field notes §6.1). */
export interface CredentialProviderTarget {
  roleAlias: string;
  /** Sent as `x-amzn-iot-thingname` when given. */
  thingName?: string;
  /** `--credentials-endpoint`, or the account's `iot:CredentialProvider` endpoint; absent when neither is known. */
  endpoint?: string;
}

/**
 * What can be a DNS name at all (RFC 1035 §2.3.4 lengths; RFC 2181 §11: any label content is legal in DNS): labels of
 * 1-63 letters, digits, `-` or `_` (not starting with `-`, which tools would read as an option), 253 characters in
 * all. The stricter host-name rule (no `_`) is not applied: a thing name pasted as the prefix
 * (`MyDevices_-ats.iot...`) must reach DNS and be diagnosed, not refused.
 */
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9_][a-z0-9_-]{0,62}(\.[a-z0-9_][a-z0-9_-]{0,62})*$/i;

/** The endpoint must be a host name: SNI and the certificate name check need one. */
export function parseEndpoint(raw: string): string {
  let value = raw.trim();
  if (/^[a-z]+:\/\//i.test(value)) {
    throw new UsageError(
      `--endpoint takes a host name, not a URL: try --endpoint ${value.replace(/^[a-z]+:\/\//i, '').split(/[/:]/)[0]}`,
    );
  }
  if (value.startsWith('[') || isIP(value)) {
    throw new UsageError(
      `--endpoint must be a host name like abc123-ats.iot.eu-west-1.amazonaws.com, not an IP address (${value}): ` +
        'SNI and the certificate check need the name. To aim at an address, keep the name and add ' +
        `--connect-to ::${value.includes(':') && !value.startsWith('[') ? `[${value}]` : value}:`,
    );
  }
  if (value.endsWith('.')) value = value.slice(0, -1);
  if (value.includes(':'))
    throw new UsageError(`--endpoint takes a host name without a port (${value}); the routes choose the ports`);
  if (!HOSTNAME.test(value)) throw new UsageError(`--endpoint "${raw}" is not a valid host name`);
  return value.toLowerCase();
}

function splitHostPort(spec: string, what: string): string[] {
  // Split on ':' except inside [IPv6] brackets.
  const parts: string[] = [];
  let current = '';
  let depth = 0;
  for (const ch of spec) {
    if (ch === '[') depth += 1;
    if (ch === ']') depth -= 1;
    if (ch === ':' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  if (depth !== 0) throw new UsageError(`${what} "${spec}": unbalanced brackets`);
  return parts.map((p) => p.replace(/^\[(.*)\]$/, '$1'));
}

function parsePort(raw: string, spec: string, what: string): number {
  if (raw === '') return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UsageError(`${what} "${spec}": "${raw}" is not a port number`);
  return n;
}

/** curl's --connect-to HOST1:PORT1:HOST2:PORT2; empty parts mean "any" (left) or "unchanged" (right). */
export function parseConnectTo(spec: string): ConnectTo {
  const parts = splitHostPort(spec, '--connect-to');
  if (parts.length !== 4) {
    throw new UsageError(
      `--connect-to "${spec}" must look like HOST:PORT:ADDRESS:PORT, ` +
        'e.g. abc-ats.iot.eu-west-1.amazonaws.com:8883:10.0.0.5:8883',
    );
  }
  const [host = '', port = '', address = '', toPort = ''] = parts;
  return {
    // A fully qualified name's trailing dot names the same host (RFC 1034 §3.1), as --endpoint takes it.
    host: host.toLowerCase().replace(/\.$/, ''),
    port: parsePort(port, spec, '--connect-to'),
    address,
    toPort: parsePort(toPort, spec, '--connect-to'),
  };
}

/** curl's --resolve HOST:PORT:ADDR[,ADDR...]; the port is accepted for compatibility and may be '*'. */
export function parseResolve(spec: string): { host: string; addresses: string[] } {
  const firstColon = spec.indexOf(':');
  const secondColon = spec.indexOf(':', firstColon + 1);
  if (firstColon < 1 || secondColon < 0) throw new UsageError(`--resolve "${spec}" must look like HOST:PORT:ADDRESS`);
  const host = spec.slice(0, firstColon).toLowerCase();
  const port = spec.slice(firstColon + 1, secondColon);
  if (port !== '*' && port !== '') parsePort(port, spec, '--resolve');
  const addresses = spec
    .slice(secondColon + 1)
    .split(',')
    .map((a) => a.replace(/^\[(.*)\]$/, '$1'));
  for (const a of addresses) if (!isIP(a)) throw new UsageError(`--resolve "${spec}": "${a}" is not an IP address`);
  return { host, addresses };
}

/** `--dns-server ADDR[:PORT]`, IPv6 as [ADDR]:PORT. */
export function parseDnsServer(spec: string): string {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec) ?? /^([^:]+)(?::(\d+))?$/.exec(spec);
  const address = m?.[1];
  if (!m || !address || !isIP(address)) {
    if (isIP(spec)) return spec;
    throw new UsageError(`--dns-server "${spec}" must be an IP address, optionally with :PORT`);
  }
  if (m[2] !== undefined) parsePort(m[2], spec, '--dns-server');
  return spec;
}

/**
 * `--routes` (repeated and/or comma-separated) to route ids in `ROUTE_IDS` order, duplicates dropped; none given
 * means every route. An unknown name, or only empty ones (`--routes ,`), throws `UsageError` listing the known ones.
 */
export function parseRoutes(given: readonly string[] | string | undefined, extra: readonly RouteId[] = []): RouteId[] {
  const kinds = Object.keys(ROUTES);
  const values = typeof given === 'string' ? [given] : given;
  if (!values || values.length === 0)
    return kinds.filter((id) => (ROUTE_IDS as readonly string[]).includes(id) || extra.includes(id));
  const routes = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  if (routes.length === 0) throw new UsageError(`--routes needs at least one route (${kinds.join(', ')})`);
  for (const r of routes) {
    if (!isRouteId(r)) throw new UsageError(`unknown route "${r}"; choose from ${kinds.join(', ')}`);
  }
  return kinds.filter((id) => routes.includes(id));
}

/**
 * `--timeout` in milliseconds, rounded: default 5000, at least TIMEOUT_FLOOR_MS (1000: TCP's initial retransmission
 * timeout, RFC 6298 §2.1), at most 600 000 (10 minutes).
 */
export function parseTimeout(value: number | undefined): number {
  if (value === undefined) return 5000;
  if (!Number.isFinite(value) || Math.round(value) < 1)
    throw new UsageError(`--timeout must be a positive number of milliseconds, got ${value}`);
  if (value < TIMEOUT_FLOOR_MS) {
    const meant = value < 600 ? ` (it is in milliseconds: for ${value} seconds give ${Math.round(value * 1000)})` : '';
    throw new UsageError(
      `--timeout ${value} ms is below the ${TIMEOUT_FLOOR_MS} ms floor: one lost TCP SYN already takes 1 s to ` +
        `resend (RFC 6298)${meant}`,
    );
  }
  if (value > 600_000) throw new UsageError(`--timeout ${value} ms is more than 10 minutes; use a smaller value`);
  return Math.round(value);
}

/** A fresh MQTT client id `iot-doctor-<8 hex>`, unlikely to collide with (and kick off) a live device's. */
export function defaultClientId(): string {
  return `iot-doctor-${randomBytes(4).toString('hex')}`;
}

const CLIENT_ID = /^[^$][\x20-\x7e]{0,127}$/;

/**
 * `--client-id`: at most 128 bytes of printable ASCII, not starting with `$` (AWS IoT broker quotas, facts §3.1);
 * none given means a fresh default id (`fromUser` false).
 */
export function parseClientId(value: string | undefined): { clientId: string; fromUser: boolean } {
  if (value === undefined || value === '') return { clientId: defaultClientId(), fromUser: false };
  if (!CLIENT_ID.test(value) || Buffer.byteLength(value) > 128) {
    throw new UsageError(
      `--client-id "${shorten(value)}" is not usable: at most 128 bytes of printable ASCII, not starting with $ ` +
        `(${BROKER_LIMITS_SOURCE})`,
    );
  }
  return { clientId: value, fromUser: true };
}

/**
 * An AWS region name as `--region` or `AWS_REGION` may give it: lowercase letters, a dash-separated name and a
 * number (`eu-west-1`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`, `eusc-de-east-1`), at most 50 characters.
 * Deliberately looser than today's list so a new region needs no release; strict enough that the value is safe
 * in a signed scope and a shell line (AWS region and zone names, docs.aws.amazon.com/global-infrastructure).
 */
const REGION_NAME = /^[a-z]{2,}(-[a-z0-9]+)*-[0-9]+$/;

/**
 * `value` when it is an AWS region name (REGION_NAME); `from` names its source in the message (`--region` or
 * `AWS_REGION`).
 * @throws UsageError with one line naming the source and the expected shape.
 */
export function parseRegion(value: string, from: '--region' | 'AWS_REGION' = '--region'): string {
  if (value.length > 50 || !REGION_NAME.test(value)) {
    throw new UsageError(
      `${from} ${JSON.stringify(shorten(value))} is not an AWS region name (lowercase letters, digits and dashes ` +
        'ending in a number, e.g. eu-west-1)',
    );
  }
  return value;
}

/** Region from `<prefix>-ats.iot.<region>.amazonaws.com` (also .amazonaws.com.cn). */
export function regionFromEndpoint(endpoint: string): string | undefined {
  return /\.iot\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(endpoint)?.[1];
}

/**
 * The `--connect-to` rules no route of the run would use (host and port match no selected route; a rule with an
 * empty host or port matches any), as one message each, e.g. `--connect-to other.example.com:8883:127.0.0.1:1
 * matches no route of this run (they go to abc-ats…:8883, …:443, …:8443): it is not used`. Said before probing, so
 * a rule that silently falls back to DNS is never mistaken for the path tested.
 */
export function unmatchedConnectTo(target: Target): string[] {
  const dests = target.routes.map((id) => {
    const spec = ROUTES[id];
    return { host: spec.host === 'credentials' ? target.credentials?.endpoint : target.endpoint, port: spec.port };
  });
  const goesTo = [...new Set(dests.map((d) => `${d.host ?? '<credential-provider endpoint>'}:${d.port}`))].join(', ');
  return target.connectTo
    .filter(
      (r) =>
        !dests.some(
          (d) => (r.host === '' || d.host === undefined || r.host === d.host) && (r.port === 0 || r.port === d.port),
        ),
    )
    .map(
      (r) =>
        `--connect-to ${r.host}:${r.port || ''}:${r.address.includes(':') ? `[${r.address}]` : r.address}:${r.toPort || ''} matches no route of this run ` +
        `(they go to ${goesTo || 'no host'}): it is not used`,
    );
}

/**
 * How long a route holds its MQTT session after the round trip, in ms: `--hold-ms`, else 3000 ms with a user's
 * client id (to see a takeover by the device: field notes §8). The run's deadline grows by it.
 */
export function holdMsFor(target: Pick<Target, 'holdMs' | 'clientIdFromUser'>): number {
  return target.holdMs ?? (target.clientIdFromUser ? 3_000 : 0);
}

/**
 * What the session holds add to a run's deadline, in ms: one `holdMsFor` when the routes hold side by side (each with
 * its own client id), one per MQTT route when they share the user's client id and so take turns (each hold follows
 * the previous route's). Without it, three MQTT routes holding 3 s each used up an 8 s deadline, and the checks that
 * end by it (cloud.logs) were cut short.
 */
export function holdBudgetMs(target: Pick<Target, 'holdMs' | 'clientIdFromUser' | 'routes'>): number {
  const turns = target.clientIdFromUser ? target.routes.filter((r) => routeSpecOf(r)?.protocol === 'mqtt').length : 1;
  return holdMsFor(target) * Math.max(1, turns);
}

/**
 * Throws `UsageError` when `-4`/`-6` (`target.family`) contradicts an address the user pinned for the endpoint: a
 * `--connect-to` rule for it (or for any host) whose ADDRESS is a literal of the other family, or a `--resolve` pin of
 * it whose addresses are all of the other family. Such a run could only probe the other family, or nothing.
 */
export function checkFamilyPins(target: Target): void {
  const family = target.family;
  if (!family) return;
  const other = family === 4 ? 6 : 4;
  const flag = `-${family}`;
  const forEndpoint = (host: string): boolean => host === '' || host === target.endpoint;
  for (const r of target.connectTo) {
    const address = r.address.replace(/^\[(.*)\]$/, '$1');
    if (forEndpoint(r.host) && isIP(address) === other) {
      throw new UsageError(
        `${flag} conflicts with the IPv${other} address of --connect-to ${r.host}:${r.port || ''}:` +
          `${other === 6 ? `[${address}]` : address}:` +
          `${r.toPort || ''}: the route would connect over IPv${other}; drop ${flag} or give an IPv${family} address`,
      );
    }
  }
  for (const p of target.resolve) {
    if (p.host.toLowerCase() === target.endpoint && p.addresses.every((a) => isIP(a) === other)) {
      throw new UsageError(
        `${flag} conflicts with --resolve ${p.host}:${p.addresses.join(',')}: it pins only IPv${other} ` +
          `addresses; drop ${flag} or pin an IPv${family} address`,
      );
    }
  }
}
