/**
 * TLS causes: a chain that is not the endpoint's (interception), a CA file that cannot verify the real chain, a
 * certificate that does not cover the endpoint name, and ALPN that does not reach the server.
 */
import {
  ALPN_CUSTOM_AUTH,
  ROUTES,
  routeKindOf,
  routeSpecOf,
  type CheckResult,
  type Finding,
  type RouteId,
} from '../model/index.js';
import {
  chainLooksAmazon,
  chainOf,
  finding,
  ids,
  list,
  num,
  routeSeverity,
  str,
  topIssuer,
  uniq,
  type Facts,
  isCode,
} from './facts.js';
import { CLOCK_SERVER_CELL_CODES, clockFacts, clockWrong } from './clock.js';
import type { ResultCode } from './codes.js';

/** CA-file verdicts of `ca.contents` that point at a wrong server trust file. */
const WRONG_CA_CONTENTS: readonly ResultCode[] = [
  'CA_IS_DEVICE_ISSUER',
  'CA_NO_AMAZON_ROOT',
  'CA_LEGACY_VERISIGN_ROOT',
  'CA_ONLY_RESERVED_AMAZON_ROOTS',
  'CA_NO_CA_CERT',
];

/** What the CA-file checks say: the verdict against the presented chain, and the file's contents. */
function caVerdict(facts: Facts): { verify?: CheckResult; wouldVerifyWith?: string; contents?: CheckResult } {
  const verify = facts.is('ca.verifies-endpoint', 'CA_DOES_NOT_VERIFY_CHAIN');
  const contents = facts.is('ca.contents', ...WRONG_CA_CONTENTS);
  const would = str(verify?.evidence['wouldVerifyWith']);
  return {
    ...(verify ? { verify } : {}),
    ...(would ? { wouldVerifyWith: would } : {}),
    ...(contents ? { contents } : {}),
  };
}

/** WRONG_CA_FILE: the CA file does not verify the server chain, and the chain does verify with the Amazon roots. */
export function wrongCaFile(facts: Facts): Finding[] {
  const untrusted = facts.routeCells(['TLS_CHAIN_UNTRUSTED'], 'tls');
  const { verify, wouldVerifyWith, contents } = caVerdict(facts);
  if (!verify && untrusted.length === 0) return [];
  const amazonChain = untrusted.some((c) => chainLooksAmazon(chainOf(c)));
  let confidence: 'certain' | 'likely';
  if (wouldVerifyWith) confidence = 'certain';
  else if (
    untrusted.length > 0 &&
    contents &&
    (amazonChain || isCode(contents, 'CA_IS_DEVICE_ISSUER') || isCode(contents, 'CA_NO_CA_CERT'))
  )
    confidence = 'likely';
  else return [];
  const caFile = str(verify?.evidence['caFile']) ?? str(contents?.evidence['path']) ?? 'the CA file';
  const routes = uniq(untrusted.map((c) => c.route!));
  const deviceIssuer = isCode(contents, 'CA_IS_DEVICE_ISSUER');
  const name = facts.endpointName() ?? '<endpoint>';
  return [
    finding('WRONG_CA_FILE', {
      severity: untrusted.length > 0 ? routeSeverity(facts) : 'error',
      confidence,
      title: `The CA file does not verify the endpoint${wouldVerifyWith ? `, which chains to ${wouldVerifyWith}` : ''}`,
      explanation: `The device checks the server with ${caFile}, and that file cannot verify the chain the endpoint presents${routes.length > 0 ? ` (seen on ${list(routes)})` : ''}.${wouldVerifyWith ? ` The same chain verifies with the Amazon roots (${wouldVerifyWith}), so the server is genuine and the file is wrong.` : ''}${deviceIssuer ? ' The file holds the CA that issued the device certificate: that CA is for AWS to check the device, not for the device to check AWS.' : ''}${isCode(contents, 'CA_NO_CA_CERT') ? ` It holds no CA certificate at all (${contents!.summary}).` : ''} AWS IoT ATS endpoints chain to Amazon Root CA 1 (RSA) or Amazon Root CA 3 (EC).`,
      remediation: [
        'Give the device AmazonRootCA1.pem and AmazonRootCA3.pem (one bundle file if the stack takes several) from https://www.amazontrust.com/repository/ as its server CA.',
        `Check by hand: openssl s_client -connect ${facts.connectTarget(routes[0])} -servername ${name} -CAfile AmazonRootCA1.pem -verify_return_error </dev/null`,
        'Some strict TLS stacks (wolfSSL, old OpenSSL) also need the Starfield Services Root CA G2 cross-sign in the bundle.',
      ],
      params: { caFile, wouldVerifyWith: wouldVerifyWith ?? null, routes, caContents: contents?.code ?? null },
      evidence: ids([verify, contents, ...untrusted]),
      candidates:
        confidence === 'certain'
          ? []
          : [
              {
                code: 'WRONG_CA_FILE',
                title: 'The CA file is not the Amazon root',
                decidedBy: 'ca.verifies-endpoint (does the chain verify with the Amazon roots?)',
              },
              {
                code: 'TLS_INTERCEPTED',
                title: 'A proxy re-signs the connection',
                decidedBy: 'the issuer of the presented chain (openssl s_client -showcerts)',
              },
            ],
    }),
  ];
}

/** The tls cells whose leaf certificate differs from the genuine one (Amazon-chained, else verified), by route. */
function divergentCells(tlsCells: readonly CheckResult[]): {
  leafByRoute: Map<RouteId, string>;
  divergent: CheckResult[];
} {
  const leafByRoute = new Map<RouteId, string>();
  for (const c of tlsCells) {
    const fp = chainOf(c)[0]?.fingerprint256;
    if (fp) leafByRoute.set(c.route!, fp);
  }
  const distinct = uniq([...leafByRoute.values()]);
  // The odd ones out: the genuine certificate is the one presented with an Amazon chain (or, for a custom domain or
  // the lab, the one the CA file verifies); only the ports presenting another one are intercepted.
  const amazon = tlsCells.filter((c) => chainLooksAmazon(chainOf(c)));
  const genuine = new Set(
    (amazon.length > 0 ? amazon : tlsCells.filter((c) => c.status === 'pass')).map((c) => leafByRoute.get(c.route!)),
  );
  const divergent =
    distinct.length > 1 && tlsCells.some((c) => c.status !== 'pass' || !chainLooksAmazon(chainOf(c)))
      ? tlsCells.filter(
          (c) => leafByRoute.has(c.route!) && (genuine.size === 0 || !genuine.has(leafByRoute.get(c.route!))),
        )
      : [];
  return { leafByRoute, divergent };
}

/** The ids a TLS_INTERCEPTED finding rests on: the intercepted cells, their blockers and the CA verdicts. */
function interceptEvidence(
  facts: Facts,
  used: readonly CheckResult[],
  untrustedVerdict: CheckResult | undefined,
  reasons: readonly string[],
): string[] {
  return ids([
    ...used,
    ...used.map((c) => facts.blocker(c.route!)),
    ...(untrustedVerdict ? [untrustedVerdict] : []),
    // One ca.verifies-endpoint result per distinct chain: the intercepted ports' ones belong here too.
    ...facts.results.filter(
      (r) =>
        r.id.startsWith('ca.verifies-endpoint:') &&
        isCode(r, 'CA_DOES_NOT_VERIFY_CHAIN') &&
        used.some((c) => c.route === r.evidence['route']),
    ),
    ...(reasons.includes('server-certificate-out-of-date')
      ? [facts.get('clock.skew'), facts.is('ca.verifies-endpoint', 'CA_CHAIN_NOT_TIME_VALID')]
      : []),
  ]);
}

/** TLS_INTERCEPTED: the chain the device sees is not the endpoint's. */
export function tlsIntercepted(facts: Facts, wrongCa: readonly Finding[]): Finding[] {
  const routes = facts.relevantRoutes();
  const tlsCells = routes
    .map((r) => facts.cell(r, 'tls'))
    .filter((c): c is CheckResult => !!c && chainOf(c).length > 0);
  const { verify, wouldVerifyWith } = caVerdict(facts);

  // 1. The CA file does not verify the chain, and the chain does not look like the Amazon hierarchy.
  const foreign = tlsCells.filter((c) => isCode(c, 'TLS_CHAIN_UNTRUSTED') && !chainLooksAmazon(chainOf(c)));
  // 2. Different ports present different leaf certificates, and at least one is foreign or untrusted.
  const { leafByRoute, divergent } = divergentCells(tlsCells);
  // 3. A server certificate out of its validity while the clock does not look wrong: AWS does not serve expired
  // certificates. Alone it is SERVER_CERT_OUT_OF_DATE (server-cert.ts); here it only adds to another reason.
  const clock = clockFacts(facts);
  const outOfDate = clockWrong(clock) ? [] : facts.routeCells(CLOCK_SERVER_CELL_CODES, 'tls');

  const reasons: string[] = [];
  if (foreign.length > 0 && wrongCa.length === 0 && !wouldVerifyWith) reasons.push('untrusted-issuer');
  if (divergent.length > 0) reasons.push('chain-differs-between-ports');
  if (reasons.length === 0) return [];
  if (outOfDate.length > 0) reasons.push('server-certificate-out-of-date');

  const used = uniq([...(reasons.includes('untrusted-issuer') ? foreign : []), ...divergent, ...outOfDate]);
  const issuers = uniq(used.map((c) => topIssuer(chainOf(c))).filter((i): i is string => !!i));
  const fingerprints: Record<string, string> = {};
  for (const [route, fp] of leafByRoute) fingerprints[route] = fp;
  const confidence =
    reasons.includes('untrusted-issuer') || reasons.includes('chain-differs-between-ports') ? 'likely' : 'possible';
  const name = facts.endpointName() ?? '<endpoint>';
  const parts: string[] = [];
  if (reasons.includes('untrusted-issuer')) {
    parts.push(
      `the server chain on ${list(uniq(foreign.map((c) => c.route!)))} is issued by ${list(issuers.map((i) => `"${i}"`)) || 'an unknown CA'}, not by Amazon Trust Services, and the CA file does not trust it`,
    );
  }
  if (reasons.includes('chain-differs-between-ports')) {
    parts.push(
      `the ports present different server certificates (${[...leafByRoute.entries()].map(([r, fp]) => `${r} ${fp.slice(0, 11)}…`).join(', ')})`,
    );
  }
  if (reasons.includes('server-certificate-out-of-date')) {
    parts.push(
      `the server certificate on ${list(uniq(outOfDate.map((c) => c.route!)))} is outside its validity period${clock.ok ? " while this machine's clock agrees with the server's" : ''}; AWS IoT never serves such a certificate`,
    );
  }
  return [
    finding('TLS_INTERCEPTED', {
      severity: routeSeverity(facts),
      confidence,
      title: "The server certificate is not the endpoint's: TLS is intercepted or answered by another server",
      explanation: `The device is not talking to AWS IoT directly: ${parts.join('; and ')}. A TLS-inspecting proxy (corporate security gateways do this) re-signs connections with its own CA. Mutual TLS cannot pass through such a proxy: even when the device trusted the proxy CA, AWS would never see the client certificate.`,
      remediation: [
        `Ask the network administrator to exclude ${name} (or *.iot.<region>.amazonaws.com) from TLS inspection, or to let the device bypass the proxy.`,
        `See the chain by hand: openssl s_client -connect ${facts.connectTarget(used[0]?.route ?? undefined)} -servername ${name} -showcerts </dev/null (AWS IoT chains end at Amazon Root CA 1/3 or Starfield).`,
        'Check that no --connect-to, --resolve, hosts-file entry or DNS override points the name at another server.',
      ],
      params: { reasons, routes: uniq(used.map((c) => c.route!)), issuers, fingerprints },
      evidence: interceptEvidence(facts, used, verify && !wouldVerifyWith ? verify : undefined, reasons),
      candidates: [
        {
          code: 'INSPECTING_PROXY',
          title: 'A TLS-inspecting proxy or firewall re-signs the connection',
          decidedBy: 'the issuer of the presented chain; the network administrator',
        },
        {
          code: 'WRONG_SERVER',
          title: 'The name or --connect-to address leads to another server',
          decidedBy: 'the dns and tcp stage evidence (addresses used)',
        },
        {
          code: 'CUSTOM_DOMAIN',
          title: 'A custom domain with its own server certificate',
          decidedBy: 'aws iot describe-domain-configuration (is the name a configured custom domain?)',
        },
      ],
    }),
  ];
}

/**
 * Handshakes the server refused right at the ClientHello on every TLS route: an alert 112 unrecognized_name or 40
 * handshake_failure, or a close without a byte back. How AWS answers a wrong SNI is undocumented (facts §2.2: "will
 * fail"), so none of these is proof of a wrong name on its own.
 */
function handshakeRefusals(facts: Facts): CheckResult[] {
  const tls = facts.relevantRoutes().map((r) => facts.cell(r, 'tls'));
  const refused = tls.filter(
    (c): c is CheckResult =>
      !!c &&
      c.status === 'fail' &&
      ((isCode(c, 'TLS_ALERT') && ['unrecognized_name', 'handshake_failure'].includes(String(c.evidence['alert']))) ||
        ((isCode(c, 'TLS_CLOSED') || isCode(c, 'TLS_RESET')) && !num(c.evidence['bytesFromServer']))),
  );
  return refused.length > 0 && refused.length === tls.length ? refused : [];
}

/**
 * How sure a refused handshake points at the name: likely when the API says the name is not this account's
 * endpoint, or the name is the legacy one; likely for unrecognized_name alone (its RFC 6066 meaning); otherwise
 * possible (a version or cipher mismatch, or an SNI filter, refuse the same way). Undefined: not this rule's case.
 */
function refusalConfidence(facts: Facts, cells: CheckResult[], name: string): 'likely' | 'possible' | undefined {
  if (cells.length === 0) return undefined;
  if (facts.is('cloud.endpoint', 'ENDPOINT_OTHER_ACCOUNT', 'ENDPOINT_REGION_MISMATCH') || isLegacyName(name)) {
    return 'likely';
  }
  if (cells.every((c) => c.evidence['alert'] === 'unrecognized_name')) return 'likely';
  if (cells.every((c) => isCode(c, 'TLS_ALERT'))) return 'possible';
  return undefined;
}

/**
 * ENDPOINT_NAME_MISMATCH: the server certificate does not cover the endpoint name (certain), or the server refused
 * the handshake for it on every route (likely or possible: AWS's reaction to a wrong SNI is unconfirmed, facts §2.2).
 */
export function endpointNameMismatch(facts: Facts): Finding[] {
  const certCells = facts.routeCells(['TLS_HOSTNAME_MISMATCH'], 'tls');
  const refusals = certCells.length > 0 ? [] : handshakeRefusals(facts);
  const name = str((certCells[0] ?? refusals[0])?.evidence['sni']) ?? facts.endpointName() ?? 'the endpoint';
  const confidence = certCells.length > 0 ? 'certain' : refusalConfidence(facts, refusals, name);
  if (!confidence) return [];
  const cells = certCells.length > 0 ? certCells : refusals;
  const leaf = chainOf(cells.find((c) => chainOf(c).length > 0))[0];
  const certificateNames = leaf?.subjectAltName
    ? leaf.subjectAltName.split(/,\s*/).map((s) => s.replace(/^DNS:/, ''))
    : leaf?.subject
      ? [leaf.subject]
      : [];
  const legacy = isLegacyName(name);
  const how = refusals.map((c) => (isCode(c, 'TLS_ALERT') ? String(c.evidence['alert']) : 'a close'));
  const saw =
    certCells.length > 0
      ? `the certificate it got is for ${list(certificateNames.slice(0, 4)) || 'other names'}`
      : `the server refused the handshake right after the ClientHello (${list(uniq(how))}); AWS answers a name it ` +
        'does not serve by failing the handshake, but how is not documented, so the same refusal can also mean a ' +
        'TLS version or cipher mismatch or a filter on the way';
  return [
    finding('ENDPOINT_NAME_MISMATCH', {
      severity: routeSeverity(facts),
      confidence,
      title:
        certCells.length > 0
          ? `The server certificate does not cover ${name}`
          : `The server refused the TLS handshake for ${name}`,
      explanation: `The device asked for ${name}, but ${saw}. Either the endpoint name is wrong (a typo, the legacy name without -ats, another region), a custom domain lacks its certificate, or something other than AWS IoT answers at that address.`,
      remediation: [
        'Use the endpoint from `aws iot describe-endpoint --endpoint-type iot:Data-ATS` exactly as returned.',
        ...(legacy
          ? ['The name has no -ats: that is the deprecated Symantec/VeriSign endpoint; switch to the -ats one.']
          : []),
        'For a custom domain, check its domain configuration and server certificate (aws iot describe-domain-configuration).',
      ],
      params: { endpoint: name, certificateNames, routes: uniq(cells.map((c) => c.route!)) },
      evidence: ids(cells),
      candidates: [
        {
          code: 'WRONG_ENDPOINT_NAME',
          title: 'The endpoint name is mistyped, legacy or of another region',
          decidedBy: 'cloud.endpoint (aws iot describe-endpoint --endpoint-type iot:Data-ATS)',
        },
        {
          code: 'TLS_INTERCEPTED',
          title: 'A proxy or another server answers',
          decidedBy: 'the presented chain issuer (openssl s_client -showcerts)',
        },
        ...(certCells.length > 0
          ? []
          : [
              {
                code: 'TLS_VERSION_OR_CIPHER',
                title: 'The server refuses the TLS version or cipher suites offered',
                decidedBy:
                  'openssl s_client -connect <endpoint>:8883 -servername <the describe-endpoint name> (passes when it is the name)',
              },
            ]),
      ],
    }),
  ];
}

/** `<prefix>.iot.<region>.amazonaws.com` without -ats: the legacy VeriSign endpoint. */
export function isLegacyName(name: string): boolean {
  return /^[a-z0-9]+\.iot\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/i.test(name);
}

/** ALPN_STRIPPED: on 443 the server did not select the ALPN protocol the route offered. */
export function alpnStripped(facts: Facts): Finding[] {
  // Custom-authentication routes (ALPN mqtt, facts §1 row 3) are not among the default routes `routeCells` reads.
  const customAlpn = facts.results.filter(
    (r) =>
      r.route &&
      r.stage === 'alpn' &&
      ROUTES[routeKindOf(r.route)]?.auth === 'custom' &&
      isCode(r, 'ALPN_NOT_SELECTED', 'ALPN_UNEXPECTED'),
  );
  const alpnCells = [...facts.routeCells(['ALPN_NOT_SELECTED', 'ALPN_UNEXPECTED'], 'alpn'), ...customAlpn];
  const missingToken = facts
    .routeCells(['HTTP_MISSING_AUTH_TOKEN'], 'protocol')
    .filter((c) => !isCode(facts.cell(c.route!, 'alpn'), 'ALPN_SELECTED'));
  const cells = [...alpnCells, ...missingToken];
  if (cells.length === 0) return [];
  const routes = uniq(cells.map((c) => c.route!));
  const offered = uniq(routes.map((r) => ROUTES[routeKindOf(r)]?.alpn).filter((a): a is string => !!a));
  const byMeaning = (custom: boolean): string[] => offered.filter((a) => (a === ALPN_CUSTOM_AUTH) === custom);
  const meaning = [
    [byMeaning(false), 'client certificate'],
    [byMeaning(true), 'custom authentication'],
  ] as const;
  const meaningText = meaning
    .filter(([names]) => names.length > 0)
    .map(([names, what]) => `${names.join(' / ')} means "${what}"`)
    .join(', ');
  const selected = uniq(
    alpnCells.map((c) => c.evidence['selected']).filter((s): s is string => typeof s === 'string' && s !== ''),
  );
  const alternatives = facts
    .routes()
    .filter(
      (r) =>
        !routes.includes(r) &&
        !routeSpecOf(r)!.alpn &&
        facts.works(r) &&
        routes.some((b) => routeSpecOf(b)?.protocol === routeSpecOf(r)?.protocol),
    );
  return [
    finding('ALPN_STRIPPED', {
      severity: routeSeverity(facts),
      confidence: alpnCells.length > 0 ? 'certain' : 'likely',
      title: `ALPN ${list(offered, 'and')} ${offered.length > 1 ? 'do' : 'does'} not reach AWS IoT on port 443`,
      explanation: `On port 443 AWS IoT decides how to authenticate from the ALPN protocol in the TLS handshake: ${meaningText}. Here the server ${selected.length > 0 ? `selected ${list(selected)} instead` : alpnCells.length > 0 ? 'selected no protocol' : 'answered 403 "Missing Authentication Token", which is what it does when the client certificate is not used'}. Something in the path (a TLS-terminating proxy or firewall) removes ALPN, or the server is not AWS IoT. Without it, MQTT on 443${byMeaning(true).length > 0 ? ' (custom authentication included)' : ''} gets no CONNACK and HTTPS publish gets 403.`,
      remediation: [
        ...alternatives.map((r) => `Use ${r} (port ${routeSpecOf(r)!.port}), which works from this network.`),
        'Ask the network administrator to let TLS to the endpoint through unmodified on 443 (no TLS termination or re-encryption).',
        `Check by hand (the full output shows "ALPN protocol:"): openssl s_client -connect ${facts.connectTarget(routes[0])} -servername ${facts.endpointName() ?? '<endpoint>'} -alpn ${offered[0] ?? 'x-amzn-mqtt-ca'} </dev/null`,
      ],
      params: { routes, offered, selected: selected[0] ?? null, ...(alternatives.length > 0 ? { alternatives } : {}) },
      evidence: ids([...cells, ...routes.map((r) => facts.blocker(r))]),
    }),
  ];
}
