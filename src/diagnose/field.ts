/**
 * Field paths: the proxy the site requires or mis-serves (field-notes §1), and an address family whose path is
 * broken while the other works (field-notes §2). Routes through the proxy carry the variant `via proxy`; the IPv6
 * instance of a kind is `<kind> IPv6` when the plain id probed IPv4 (checks/route-plan.ts).
 */
import { ALPN_MQTT, routeKindOf, routeSpecOf, type CheckResult, type Finding, type RouteId } from '../model/index.js';
import type { ResultCode } from './codes.js';
import {
  TCP_BLOCK_HOW,
  byCode,
  isCode,
  TRANSPORT_TLS_CODES,
  finding,
  ids,
  isFailing,
  list,
  num,
  str,
  uniq,
  type Facts,
} from './facts.js';

const VIA_PROXY = ' via proxy';

/** True for a route through the proxy. */
export function isProxied(route: RouteId): boolean {
  return route.endsWith(VIA_PROXY);
}

function proxyOf(facts: Facts): { proxy: string; source: string } | undefined {
  const cell = facts.results.find((r) => r.route && isProxied(r.route) && typeof r.evidence['proxy'] === 'string');
  return cell
    ? { proxy: String(cell.evidence['proxy']), source: str(cell.evidence['proxySource']) ?? '--proxy' }
    : undefined;
}

/** The route failed before TLS completed: it never reached the endpoint (DNS, TCP, or TLS cut off). */
function cutOff(facts: Facts, route: RouteId): CheckResult | undefined {
  const b = facts.blocker(route);
  if (!b) return undefined;
  if (b.stage === 'dns' || b.stage === 'tcp' || b.stage === 'proxy') return b;
  return b.stage === 'tls' && isCode(b, ...TRANSPORT_TLS_CODES) ? b : undefined;
}

function proxyAdvice(working: RouteId[]): string {
  const kinds = working.map(routeKindOf);
  if (kinds.includes('mqtt-443'))
    return `MQTT works through it on 443 with ALPN ${ALPN_MQTT} (mqtt-443 via proxy): configure the device for that route.`;
  return 'Most proxies tunnel only 443: use MQTT on 443 with ALPN x-amzn-mqtt-ca, or MQTT over WebSocket (wss, SigV4) on 443.';
}

/** PROXY_REQUIRED: every direct route is cut off, and a route through the proxy works (field-notes §1.8, js#10). */
export function proxyRequired(facts: Facts): Finding[] {
  const routes = facts.relevantRoutes();
  const direct = routes.filter((r) => !isProxied(r));
  const working = routes.filter((r) => isProxied(r) && facts.works(r));
  if (direct.length === 0 || working.length === 0) return [];
  const blockers = direct.map((r) => cutOff(facts, r));
  if (blockers.some((b) => !b)) return [];
  const cfg = proxyOf(facts);
  const how = uniq(blockers.map((b) => `${b!.stage} ${b!.code}`));
  return [
    finding('PROXY_REQUIRED', {
      severity: 'critical',
      confidence: 'certain',
      title: `Direct connections fail here; through the proxy ${list(working.map(routeKindOf))} work`,
      explanation:
        `From this network the device cannot reach AWS IoT directly (${list(how)}), but the proxy ${cfg?.proxy ?? ''} ` +
        `(from ${cfg?.source ?? 'the configuration'}) tunnels to it. The device must be configured to use that proxy: ` +
        'SDKs without proxy support retry the direct path forever (DNS errors or timeouts) although the site is fine.',
      remediation: [
        `Configure the device's proxy: ${cfg?.proxy ?? 'the proxy above'} (HTTP CONNECT; the AWS CRT SDKs take HttpProxyOptions, the AWS IoT Device Client http-proxy.conf, Greengrass networkProxy).`,
        proxyAdvice(working),
        'Device SDKs offer only Basic proxy authentication; the password is not shown here.',
      ],
      params: { proxy: cfg?.proxy ?? null, source: cfg?.source ?? null, working, direct, how },
      evidence: ids([...blockers, ...working.map((r) => facts.cell(r, 'proxy'))]),
    }),
  ];
}

/** Proxy cells (of routes that count) with one of the codes. */
function proxyCells(facts: Facts, codes: readonly ResultCode[]): CheckResult[] {
  return facts.routeCells(codes, 'proxy');
}

/** PROXY_BLOCKS_PORT: the proxy refuses CONNECT to some AWS IoT ports (typically all but 443: field-notes §1.3). */
export function proxyBlocksPort(facts: Facts): Finding[] {
  const denied = proxyCells(facts, ['PROXY_DENIED']);
  if (denied.length === 0) return [];
  const allowed = facts.relevantRoutes().filter((r) => isProxied(r) && facts.passed(r, 'proxy'));
  const portOfCell = (c: CheckResult): number => routeSpecOf(c.route ?? '')?.port ?? 0;
  const refusedPorts = uniq(denied.map(portOfCell)).sort((a, b) => a - b);
  const allowedPorts = uniq(allowed.map((r) => routeSpecOf(r)?.port ?? 0)).sort((a, b) => a - b);
  const answer =
    str(denied[0]!.evidence['statusLine']) ??
    `SOCKS5 REP ${num(denied[0]!.evidence['rep'])} (${str(denied[0]!.evidence['repName'])})`;
  return [
    finding('PROXY_BLOCKS_PORT', {
      severity: allowed.length > 0 ? 'error' : 'critical',
      confidence: 'certain',
      title: `The proxy refuses tunnels to port ${list(refusedPorts.map(String))}${allowedPorts.length ? `; it allows ${list(allowedPorts.map(String))}` : ''}`,
      explanation:
        `Asked for a tunnel to the endpoint on ${list(refusedPorts.map(String))}, the proxy answered "${answer}": its policy ` +
        "refuses those ports (Squid's stock configuration tunnels only 443).",
      remediation: [
        ...(allowedPorts.includes(443)
          ? [
              `Use port 443: ${allowed.map(routeKindOf).join(', ')} work through this proxy (MQTT with ALPN ${ALPN_MQTT}).`,
            ]
          : []),
        `Or ask the proxy's administrators to allow CONNECT to ${list(refusedPorts.map(String))} for the AWS IoT endpoint.`,
      ],
      params: { refusedPorts, allowedPorts, answer, routes: denied.map((c) => c.route) },
      evidence: ids(denied),
    }),
  ];
}

/** PROXY_AUTH_REQUIRED: 407 (or the SOCKS5 equivalent): credentials missing or refused. */
export function proxyAuthRequired(facts: Facts): Finding[] {
  const cells = proxyCells(facts, ['PROXY_AUTH_REQUIRED']);
  if (cells.length === 0) return [];
  const first = cells[0]!;
  const sent = first.evidence['credentialsSent'] === true;
  const challenge = Array.isArray(first.evidence['proxyAuthenticate'])
    ? (first.evidence['proxyAuthenticate'] as string[])
    : [];
  return [
    finding('PROXY_AUTH_REQUIRED', {
      severity: 'critical',
      confidence: 'certain',
      title: sent ? 'The proxy refused the credentials' : 'The proxy wants credentials',
      explanation:
        `The proxy answered "${str(first.evidence['statusLine']) ?? first.summary}"${challenge.length ? ` with Proxy-Authenticate: ${challenge.join(', ')}` : ''}. ` +
        (sent ? 'The user name and password given were not accepted.' : 'No user name and password were given.'),
      remediation: [
        sent
          ? 'Check the proxy user name and password (the password is never shown here).'
          : 'Give the proxy credentials in the URL: --proxy http://USER:PASSWORD@host:port (or in HTTPS_PROXY).',
        'AWS IoT device SDKs support only Basic proxy authentication: a proxy that offers only Negotiate/NTLM needs an exception for the IoT endpoint.',
      ],
      params: { credentialsSent: sent, proxyAuthenticate: challenge, routes: cells.map((c) => c.route) },
      evidence: ids(cells),
    }),
  ];
}

const UNREACHABLE_PROXY: readonly ResultCode[] = ['PROXY_TIMEOUT', 'PROXY_CLOSED', 'PROXY_BAD_REPLY'];

/** PROXY_UNREACHABLE: the configured proxy does not answer (its name, TCP, or the proxy protocol). */
export function proxyUnreachable(facts: Facts): Finding[] {
  const routes = facts.relevantRoutes().filter(isProxied);
  const cells = routes
    .map((r) => facts.blocker(r))
    .filter(
      (b): b is CheckResult =>
        !!b && (b.stage === 'dns' || b.stage === 'tcp' || (b.stage === 'proxy' && isCode(b, ...UNREACHABLE_PROXY))),
    );
  if (cells.length === 0) return [];
  const direct = facts.relevantRoutes().filter((r) => !isProxied(r) && facts.works(r));
  const cfg = proxyOf(facts);
  const first = cells[0]!;
  const where =
    first.stage === 'tcp'
      ? `${str(first.evidence['address'])}:${num(first.evidence['port'])} ${byCode(TCP_BLOCK_HOW, first.code) ?? first.code}`
      : `${first.stage}: ${first.code}`;
  return [
    finding('PROXY_UNREACHABLE', {
      severity: direct.length > 0 ? 'warning' : 'error',
      confidence: 'certain',
      title:
        direct.length > 0
          ? 'The configured proxy does not answer, but the direct path works'
          : 'The configured proxy does not answer',
      explanation:
        `The proxy ${cfg?.proxy ?? ''} (from ${cfg?.source ?? 'the configuration'}) could not be used (${where}). ` +
        (direct.length > 0
          ? `The endpoint is reachable without it (${list(direct)} work): the device must NOT be configured with this proxy.`
          : 'Wrong proxy address or port, or the proxy is down.'),
      remediation:
        direct.length > 0
          ? [
              'Remove this proxy from the device configuration (or fix HTTPS_PROXY / ALL_PROXY; --no-proxy ignores them).',
            ]
          : [
              'Check the proxy address and port with the network administrators.',
              `Try it by hand: curl -v -p --proxy ${cfg?.proxy.replace(/:[^:@/]*@/, '@') ?? 'PROXY'} telnet://<endpoint>:443`,
            ],
      params: { proxy: cfg?.proxy ?? null, source: cfg?.source ?? null, directWorks: direct, code: first.code },
      evidence: ids(cells),
    }),
  ];
}

/** The plain (IPv4) route and its IPv6 instance, when both ran. */
function familyPairs(facts: Facts): { v4: RouteId; v6: RouteId }[] {
  const routes = facts.relevantRoutes();
  return routes
    .filter((r) => r.endsWith(' IPv6'))
    .map((v6) => ({ v4: routeKindOf(v6), v6 }))
    .filter((p) => routes.includes(p.v4));
}

function familyBroken(facts: Facts, broken: 4 | 6): Finding[] {
  const pairs = familyPairs(facts).filter((p) => {
    const bad = broken === 6 ? p.v6 : p.v4;
    const good = broken === 6 ? p.v4 : p.v6;
    return !!cutOff(facts, bad) && facts.getsThrough(good);
  });
  if (pairs.length === 0) return [];
  const bad = pairs.map((p) => (broken === 6 ? p.v6 : p.v4));
  const cells = bad.map((r) => cutOff(facts, r)!);
  const address = str(cells[0]!.evidence['address']);
  const other = broken === 6 ? 4 : 6;
  return [
    finding(broken === 6 ? 'IPV6_PATH_BROKEN' : 'IPV4_PATH_BROKEN', {
      severity: 'error',
      confidence: 'certain',
      title: `The endpoint's IPv${broken} path fails here; IPv${other} works`,
      explanation:
        `The endpoint publishes ${broken === 6 ? 'AAAA' : 'A'} records and IPv${broken} ${address ? `(${address}) ` : ''}fails ` +
        `(${list(uniq(cells.map((c) => `${c.stage} ${c.code}`)))}) while IPv${other} gets through. Clients that try both ` +
        `families recover (the AWS CRT does); devices without fallback (AWS SDK for Android, mosquitto, aws-cli) fail, ` +
        'often only on some networks, so the failure looks intermittent.',
      remediation: [
        `Fix the site's IPv${broken} routing or firewall for the AWS IoT endpoint.`,
        `Until then, force IPv${other} on the device (resolve only ${other === 4 ? 'A' : 'AAAA'} records / prefer IPv${other}), or use a client with Happy Eyeballs fallback.`,
        `Check by hand: iot-doctor check … -${broken} and -${other}.`,
      ],
      params: { family: broken, routes: bad, address: address ?? null },
      evidence: ids(cells),
    }),
  ];
}

/** IPV6_PATH_BROKEN: AAAA published, the IPv6 path fails, IPv4 works (field-notes §2.2-§2.4). */
export function ipv6PathBroken(facts: Facts): Finding[] {
  return familyBroken(facts, 6);
}

/** IPV4_PATH_BROKEN: the reverse: the IPv4 path fails, IPv6 works. */
export function ipv4PathBroken(facts: Facts): Finding[] {
  return familyBroken(facts, 4);
}

/** Field findings that explain the generic symptoms of their routes. */
const FIELD_ROOTS: ReadonlySet<string> = new Set([
  'PROXY_REQUIRED',
  'PROXY_AUTH_REQUIRED',
  'PROXY_UNREACHABLE',
  'PROXY_BLOCKS_PORT',
  'IPV6_PATH_BROKEN',
  'IPV4_PATH_BROKEN',
  'SNI_MISSING',
  'TLS_VERSION_UNSUPPORTED',
  'NO_SHARED_CIPHER',
  'TLS_RECORD_TOO_LARGE',
  'ALPN_NOT_OFFERED',
]);

/**
 * Findings of the generic rules (DNS_FAILURE, PORT_BLOCKED, ALL_ROUTES_BLOCKED, SNI_FILTERED, a name mismatch, a
 * foreign chain) whose failing evidence a field finding already explains (the direct path behind PROXY_REQUIRED, the
 * proxy's own port behind PROXY_UNREACHABLE, the IPv6 routes behind IPV6_PATH_BROKEN, another server's certificate
 * behind SNI_MISSING) are consequences of it: drop them.
 */
export function foldIntoFieldFindings(facts: Facts, findings: Finding[]): void {
  const roots = findings.filter((f) => FIELD_ROOTS.has(f.code));
  if (roots.length === 0) return;
  const explained = new Set(roots.flatMap((f) => f.evidence));
  const generic = new Set([
    'DNS_FAILURE',
    'PORT_BLOCKED',
    'ALL_ROUTES_BLOCKED',
    'SNI_FILTERED',
    'ENDPOINT_NAME_MISMATCH',
    'WRONG_CA_FILE',
    'TLS_INTERCEPTED',
    'ALPN_STRIPPED',
  ]);
  for (let i = findings.length - 1; i >= 0; i--) {
    const f = findings[i]!;
    const failing = f.evidence.filter((id) => isFailing(facts.get(id)));
    if (generic.has(f.code) && failing.length > 0 && failing.every((id) => explained.has(id))) findings.splice(i, 1);
  }
}
