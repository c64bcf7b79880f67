/**
 * Network causes: the name does not resolve, a port is filtered, nothing gets through, TLS is cut off after the
 * ClientHello (SNI filtering).
 */
import { ALPN_MQTT, routeSpecOf, type CheckResult, type Finding, type RouteId } from '../model/index.js';
import {
  TCP_BLOCK_HOW,
  TRANSPORT_TLS_CODES,
  finding,
  ids,
  isFailing,
  list,
  num,
  plural,
  portOf,
  routeSeverity,
  str,
  uniq,
  type Facts,
  isCode,
  byCode,
} from './facts.js';
import type { ResultCode } from './codes.js';

const DNS_FAIL_CODES: readonly ResultCode[] = [
  'DNS_NXDOMAIN',
  'DNS_NO_ANSWER',
  'DNS_TEMPORARY_FAILURE',
  'DNS_TIMEOUT',
  'DNS_ERROR',
];

const DNS_EXPLANATIONS: Record<string, string> = {
  DNS_NXDOMAIN:
    'the DNS answered that the name does not exist. The endpoint name has a typo, belongs to another region, or was copied from an old configuration.',
  DNS_NO_ANSWER:
    'the DNS knows the name but returned no address for it: a split-horizon zone or a filtering resolver may hide it.',
  DNS_TEMPORARY_FAILURE:
    'the resolver could not be reached or failed to answer: the device has no working DNS server, or outbound DNS is blocked.',
  DNS_TIMEOUT:
    'the resolver did not answer in time: the DNS server is unreachable or outbound DNS (port 53) is filtered.',
  DNS_ERROR: 'name resolution failed with an unexpected error.',
};

/** DNS_FAILURE: the endpoint name does not resolve, or resolves to a private address where AWS has public ones. */
export function dnsFailure(facts: Facts): Finding[] {
  const out: Finding[] = [];
  const failed = facts.routeCells(DNS_FAIL_CODES, 'dns');
  if (failed.length > 0) {
    const first = failed[0]!;
    const name = str(first.evidence['name']) ?? facts.endpointName() ?? 'the endpoint';
    const everyRoute = facts.relevantRoutes().every((r) => isFailing(facts.cell(r, 'dns')));
    out.push(
      finding('DNS_FAILURE', {
        severity: everyRoute ? 'critical' : routeSeverity(facts),
        confidence: 'certain',
        title: `The endpoint name ${name} does not resolve`,
        explanation: `Before any connection the device must turn ${name} into an address, and ${byCode(DNS_EXPLANATIONS, first.code) ?? DNS_EXPLANATIONS.DNS_ERROR} No route can start without it.`,
        remediation: [
          isCode(first, 'DNS_NXDOMAIN')
            ? 'Copy the endpoint from `aws iot describe-endpoint --endpoint-type iot:Data-ATS` (it ends in -ats.iot.<region>.amazonaws.com) and compare it letter by letter with the device configuration.'
            : 'Check the DNS server the device uses (DHCP or static setting) and that outbound DNS (UDP and TCP 53) is allowed.',
          `Try it by hand from the same network: nslookup ${name}`,
          'If the site requires a DNS override or a proxy, configure the device for it (or pin the address with --resolve to test the rest).',
        ],
        params: {
          name,
          code: first.code,
          error: str(first.evidence['error']) ?? null,
          routes: failed.map((r) => r.route),
        },
        evidence: ids(failed),
      }),
    );
  }
  const privateCells = facts.routeCells(['DNS_PRIVATE_ADDRESS'], 'dns');
  if (privateCells.length > 0) {
    const first = privateCells[0]!;
    const name = str(first.evidence['name']) ?? facts.endpointName() ?? 'the endpoint';
    const addresses = Array.isArray(first.evidence['addresses'])
      ? (first.evidence['addresses'] as unknown[]).map(String)
      : [];
    const routesFailedLater = privateCells.filter((c) => c.route && facts.blocker(c.route));
    out.push(
      finding('DNS_FAILURE', {
        severity: 'warning',
        confidence: routesFailedLater.length > 0 ? 'likely' : 'possible',
        title: `${name} resolves to a private address`,
        explanation: `AWS IoT data endpoints have public addresses, but here ${name} resolves to ${list(addresses) || 'a private address'}. That is a hosts-file entry, a split DNS zone, a proxy or an AWS PrivateLink (VPC) endpoint. When it is intended (a VPC endpoint) all is well; otherwise the device talks to something that is not AWS IoT.`,
        remediation: [
          `Find where the answer comes from: nslookup ${name} against the site DNS server and a public one, and check /etc/hosts on the device.`,
          'If a VPC interface endpoint for AWS IoT is intended, keep it; otherwise remove the override.',
        ],
        params: { name, addresses, code: 'DNS_PRIVATE_ADDRESS', routes: privateCells.map((r) => r.route) },
        evidence: ids(privateCells),
      }),
    );
  }
  return out;
}

/** Routes that get past TCP and TLS and select their ALPN, which a blocked route could move to. */
function alternativeFor(facts: Facts, route: RouteId): RouteId | undefined {
  const spec = routeSpecOf(route)!;
  const candidates = facts
    .routes()
    .filter((r) => r !== route && routeSpecOf(r)!.protocol === spec.protocol && routeSpecOf(r)!.port !== spec.port);
  return candidates.find((r) => facts.works(r)) ?? candidates.find((r) => facts.getsThrough(r));
}

const HOW_EXPLANATION: Record<'timeout' | 'refused' | 'unreachable', (ports: string) => string> = {
  timeout: (p) =>
    `Connection attempts to ${p} got no answer at all before the deadline: the packets are silently dropped. That is what an egress firewall does with a port it does not allow.`,
  refused: (p) =>
    `Connection attempts to ${p} were answered with a TCP reset: a firewall rejects the port, or nothing listens on it at the address used (check any --connect-to or --resolve override).`,
  unreachable: (p) =>
    `The network answered connection attempts to ${p} with "unreachable" or "administratively prohibited": a router or firewall rule refuses that destination.`,
};

/** PORT_BLOCKED: the TCP connection to a port times out, is refused or unreachable. */
export function portBlocked(facts: Facts): Finding[] {
  const blocked = facts.relevantRoutes().flatMap((route) => {
    const tcp = facts.cell(route, 'tcp');
    const how = tcp && tcp.status === 'fail' ? byCode(TCP_BLOCK_HOW, tcp.code) : undefined;
    return how && tcp ? [{ route, tcp, how }] : [];
  });
  const out: Finding[] = [];
  for (const how of ['timeout', 'refused', 'unreachable'] as const) {
    const group = blocked.filter((b) => b.how === how);
    if (group.length === 0) continue;
    const ports = uniq(group.map((b) => portOf(b.route))).sort((a, b) => a - b);
    const portsText = list(ports.map(String));
    const otherTcpPassed = facts
      .routes()
      .filter((r) => !group.some((b) => b.route === r))
      .map((r) => facts.cell(r, 'tcp'))
      .filter((c): c is CheckResult => c?.status === 'pass');
    const alternatives = uniq(group.map((b) => alternativeFor(facts, b.route)).filter((r): r is RouteId => !!r));
    const remediation: string[] = [];
    for (const alt of alternatives) {
      const spec = routeSpecOf(alt)!;
      remediation.push(
        spec.alpn
          ? `Move the device to port ${spec.port} with ALPN ${spec.alpn}: ${alt} works from this network.${spec.alpn === ALPN_MQTT ? ' Most AWS IoT device SDKs offer that ALPN by themselves when the port is 443; with a plain MQTT library, set the ALPN protocol list yourself.' : ''}`
          : `Use port ${spec.port} (${alt}), which works from this network.`,
      );
    }
    const untested = group.map((b) => b.route).filter((r) => r === 'mqtt-8883' && !facts.routes().includes('mqtt-443'));
    if (untested.length > 0 && alternatives.length === 0) {
      remediation.push(
        `Check whether 443 with ALPN ${ALPN_MQTT} works instead: iot-doctor check --routes mqtt-443 (same flags).`,
      );
    }
    // "Or" only after a way around: the first remedy must be one that applies to this run.
    remediation.push(
      `${remediation.length > 0 ? 'Or ask' : 'Ask'} the network administrator to allow outbound TCP ${portsText} to ${facts.endpointName() ?? 'the endpoint'} (by host name where the firewall supports it).`,
    );
    const reproduce = group[0]!.tcp.reproduce;
    if (reproduce) remediation.push(`Check it by hand from the same network: ${reproduce}`);
    const short = deadlineTooShort(
      facts,
      group.map((b) => b.tcp),
    );
    out.push(
      finding('PORT_BLOCKED', {
        severity: routeSeverity(facts),
        confidence: short !== undefined ? 'possible' : otherTcpPassed.length > 0 ? 'certain' : 'likely',
        title: `Outbound TCP ${ports.length > 1 ? `ports ${portsText} are` : `port ${portsText} is`} blocked (${how})`,
        explanation: `${HOW_EXPLANATION[how](`${ports.length > 1 ? 'ports' : 'port'} ${portsText}`)}${otherTcpPassed.length > 0 ? ` Other ports of the same endpoint connect, so the endpoint itself is reachable.` : ''}${alternatives.length > 0 ? ` ${list(alternatives)} ${plural(alternatives.length, 'works', 'work')} from here, so the device has a way around it.` : ''}${short === undefined ? '' : shortDeadlineNote(short)}`,
        remediation,
        params: {
          ports,
          how,
          routes: group.map((b) => b.route),
          ...(alternatives.length > 0 ? { alternatives } : {}),
          address: str(group[0]!.tcp.evidence['address']) ?? null,
        },
        evidence: ids([
          ...group.map((b) => b.tcp),
          ...alternatives.flatMap((r) =>
            [facts.cell(r, 'tcp'), facts.cell(r, 'alpn'), facts.cell(r, 'protocol')].filter(
              (c) => c?.status === 'pass',
            ),
          ),
        ]),
      }),
    );
  }
  return out;
}

/**
 * Shortest deadline under which a silent drop is called a block with certainty: 3000 ms (TCP resends a lost SYN
 * after 1 s, then after 2 s more: RFC 6298 §2.1, §5.5), or 3 × the slowest TCP connect measured in this run.
 */
export const CERTAIN_DROP_MIN_MS = 3000;

/**
 * The deadline of the timed-out cells among `cells` when it is too short to call a silent drop certain (see
 * CERTAIN_DROP_MIN_MS); undefined when the deadline allows a verdict or no cell timed out (or says its deadline).
 */
export function deadlineTooShort(facts: Facts, cells: readonly CheckResult[]): number | undefined {
  const timed = cells.filter((c) => isCode(c, 'TCP_TIMEOUT', 'TLS_STALLED'));
  const deadlines = timed.map((c) => num(c.evidence['timeoutMs'])).filter((n): n is number => n !== undefined);
  if (deadlines.length === 0) return undefined;
  const slowest = Math.max(
    0,
    ...facts.results.filter((r) => r.stage === 'tcp' && r.status === 'pass').map((r) => r.durationMs),
  );
  const deadline = Math.min(...deadlines);
  return deadline < Math.max(CERTAIN_DROP_MIN_MS, 3 * slowest) ? deadline : undefined;
}

function shortDeadlineNote(ms: number): string {
  return ` The deadline was only ${ms} ms, too short to tell a silent drop from a slow path (a lost SYN is resent after 1 s): this is not certain until a run with --timeout 5000 or more says the same.`;
}

/** Stage results that show the route was stopped on the way: TCP failures and TLS transport failures. */
function networkBlocker(facts: Facts, route: RouteId): CheckResult | undefined {
  const b = facts.blocker(route);
  if (!b) return undefined;
  if (b.stage === 'tcp') return b;
  if (b.stage === 'tls' && isCode(b, ...TRANSPORT_TLS_CODES)) return b;
  return undefined;
}

/** ALL_ROUTES_BLOCKED: the name resolves, yet every route is stopped at TCP or at the start of TLS. */
export function allRoutesBlocked(facts: Facts): Finding[] {
  const routes = facts.relevantRoutes();
  if (routes.length === 0) return [];
  const dnsOk = routes
    .map((r) => facts.cell(r, 'dns'))
    .filter((c) => c && (c.status === 'pass' || c.status === 'warn'));
  if (dnsOk.length === 0) return [];
  const blockers = routes.map((r) => networkBlocker(facts, r));
  if (blockers.some((b) => !b)) return [];
  // TCP opened everywhere and TLS was refused for a name the API says is not this account's endpoint: that is a
  // wrong name (ENDPOINT_NAME_MISMATCH; AWS's reaction to a wrong SNI is unconfirmed, facts §2.2), not the network.
  const nameSuspect = facts.is('cloud.endpoint', 'ENDPOINT_OTHER_ACCOUNT', 'ENDPOINT_REGION_MISMATCH');
  if (nameSuspect && blockers.every((b) => b!.stage === 'tls')) return [];
  const how: Record<string, string> = {};
  routes.forEach((r, i) => (how[r] = blockers[i]!.code));
  const addresses = uniq(
    dnsOk.flatMap((c) =>
      Array.isArray(c!.evidence['addresses']) ? (c!.evidence['addresses'] as unknown[]).map(String) : [],
    ),
  );
  const short = deadlineTooShort(facts, blockers as CheckResult[]);
  return [
    finding('ALL_ROUTES_BLOCKED', {
      severity: 'critical',
      confidence: short === undefined ? 'certain' : 'possible',
      title: 'The endpoint name resolves, but no route gets through',
      explanation: `DNS works (${addresses.length > 0 ? list(addresses) : 'an address was found'}), yet every route was stopped on the way: ${routes.map((r) => `${r} at ${blockers[routes.indexOf(r)]!.stage} (${how[r]})`).join(', ')}. This network lets no traffic to AWS IoT out: an egress firewall that allows only web browsing through a proxy, a network without Internet access, or an address that does not belong to AWS.${short === undefined ? '' : shortDeadlineNote(short)}`,
      remediation: [
        ...(short === undefined ? [] : [`Run again with --timeout 5000 (this run allowed ${short} ms per step).`]),
        'Ask the network administrator which outbound ports are allowed, and for TCP 443 (or 8883) to the endpoint host name to be opened.',
        'If the site has a mandatory HTTP proxy, the device must use it (HTTP CONNECT) or be exempted from it; check HTTPS_PROXY on this machine.',
        'Compare from another network (a phone hotspot): if it works there, the site network is the cause.',
      ],
      params: { routes, how, addresses },
      evidence: ids([...dnsOk, ...blockers]),
      candidates: [
        {
          code: 'EGRESS_FIREWALL',
          title: 'An egress firewall blocks every port to the endpoint',
          decidedBy: 'the network administrator, or the same probe from another network',
        },
        {
          code: 'PROXY_REQUIRED',
          title: 'Only a web proxy may reach the Internet',
          decidedBy: 'HTTPS_PROXY / the site proxy settings (curl -v https://example.com without a proxy)',
        },
        {
          code: 'WRONG_ADDRESS',
          title: 'The name resolves to an address that is not AWS IoT',
          decidedBy: 'the dns stage evidence (a private or unexpected address, --connect-to or --resolve)',
        },
      ],
    }),
  ];
}

/** SNI_FILTERED: TCP opens, then TLS is cut off right after the ClientHello (reset, close or silence). */
export function sniFiltered(facts: Facts): Finding[] {
  const hit = facts.relevantRoutes().flatMap((route) => {
    const tcp = facts.cell(route, 'tcp');
    const tls = facts.cell(route, 'tls');
    if (tcp?.status !== 'pass' || tls?.status !== 'fail') return [];
    // Bytes from the server mean a ServerHello came back: then it is not the ClientHello that was cut off.
    if (num(tls.evidence['bytesFromServer'])) return [];
    const how = isCode(tls, 'TLS_RESET')
      ? 'reset'
      : isCode(tls, 'TLS_CLOSED')
        ? 'closed'
        : isCode(tls, 'TLS_STALLED')
          ? 'stalled'
          : undefined;
    return how ? [{ route, tcp, tls, how }] : [];
  });
  if (hit.length === 0) return [];
  const out: Finding[] = [];
  for (const how of ['reset', 'closed', 'stalled'] as const) {
    const group = hit.filter((h) => h.how === how);
    if (group.length === 0) continue;
    const ports = uniq(group.map((h) => portOf(h.route))).sort((a, b) => a - b);
    const portsText = list(ports.map(String));
    const tlsElsewhere = facts
      .routes()
      .filter((r) => !group.some((h) => h.route === r))
      .map((r) => facts.cell(r, 'tls'))
      .filter(
        (c): c is CheckResult =>
          !!c &&
          (c.status === 'pass' ||
            (c.status === 'fail' && !isCode(c, ...TRANSPORT_TLS_CODES) && !isCode(c, 'TLS_ALERT'))),
      );
    const sni = str(group[0]!.tls.evidence['sni']) ?? facts.endpointName() ?? 'the endpoint';
    const what = how === 'reset' ? 'reset' : how === 'closed' ? 'closed without an answer' : 'left without an answer';
    const confidence = how === 'reset' && tlsElsewhere.length > 0 ? 'likely' : 'possible';
    out.push(
      finding('SNI_FILTERED', {
        severity: routeSeverity(facts),
        confidence,
        title: `TLS on ${ports.length > 1 ? 'ports' : 'port'} ${portsText} is cut off right after the ClientHello`,
        explanation: `The TCP connection to ${ports.length > 1 ? 'ports' : 'port'} ${portsText} opens, but as soon as the device sends its TLS ClientHello (which names ${sni} in the SNI field) the connection is ${what}. A firewall or proxy that filters by server name does exactly this${tlsElsewhere.length > 0 ? `; the TLS handshake does complete on ${list(uniq(tlsElsewhere.map((c) => c.route!)))}, so the endpoint itself speaks TLS` : ''}.`,
        remediation: [
          `Ask the network administrator whether ${sni} (or *.iot.<region>.amazonaws.com) is on a TLS/SNI filter list for ${ports.length > 1 ? 'ports' : 'port'} ${portsText}, and for it to be allowed.`,
          `Tell filtering apart from the server by hand: openssl s_client -connect ${facts.connectTarget(group[0]!.route)} -servername ${sni} versus the same with -servername example.com; only the first failing means SNI filtering.`,
          ...(tlsElsewhere.length > 0
            ? [`Meanwhile use a route that gets through: ${list(uniq(tlsElsewhere.map((c) => c.route!)))}.`]
            : []),
        ],
        params: { ports, how, routes: group.map((h) => h.route), sni },
        evidence: ids([...group.flatMap((h) => [h.tcp, h.tls]), ...tlsElsewhere]),
        candidates:
          confidence === 'possible'
            ? [
                {
                  code: 'SNI_FILTER',
                  title: `A firewall filters TLS by the server name ${sni}`,
                  decidedBy:
                    'openssl s_client with -servername example.com on the same port (passes when it is the name that is filtered)',
                },
                {
                  code: 'INSPECTING_PROXY',
                  title: 'A proxy holds or drops TLS it cannot inspect',
                  decidedBy: 'the same probe from another network',
                },
                {
                  code: 'NOT_TLS_SERVER',
                  title: 'The address does not serve TLS on this port',
                  decidedBy: '--connect-to / --resolve and the dns stage evidence',
                },
              ]
            : [],
      }),
    );
  }
  return out;
}
