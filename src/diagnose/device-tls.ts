/**
 * The device's own TLS stack (`--tls-version`, `--ciphers`, `--max-record`, `--no-sni`, `--no-alpn`): which device
 * setting makes a route fail. The `tls` cell of a failed device handshake carries `device`: what a modern client got
 * over the same path and what the endpoint accepts instead (checks/stages/tls-device.ts), so the verdict holds
 * whether the endpoint answers with an alert (70, 40) or closes without one (AWS's reaction is unconfirmed:
 * field-notes §3.2).
 */
import { type CheckResult, type Finding } from '../model/index.js';
import { finding, ids, isFailing, list, num, str, uniq, type Facts } from './facts.js';

interface DeviceComparison {
  modernHandshake?: string;
  withSni?: string;
  acceptedVersions?: string[];
  acceptedCiphers?: string[];
  flags?: string[];
  version?: string;
  ciphers?: string[];
}

function comparison(cell: CheckResult): DeviceComparison | undefined {
  const d = cell.evidence['device'];
  return d && typeof d === 'object' ? (d as DeviceComparison) : undefined;
}

/** Failed `tls` cells that carry a device comparison. */
function deviceTlsCells(facts: Facts): { cell: CheckResult; device: DeviceComparison }[] {
  return facts
    .relevantRoutes()
    .map((r) => facts.cell(r, 'tls'))
    .filter((c): c is CheckResult => !!c && isFailing(c) && !!comparison(c))
    .map((cell) => ({ cell, device: comparison(cell)! }));
}

function how(cell: CheckResult): string {
  const alert = str(cell.evidence['alert']);
  return alert ? `alert ${alert} (${num(cell.evidence['alertNumber'])})` : `${cell.code}: ${cell.summary}`;
}

/** TLS_VERSION_UNSUPPORTED: the endpoint refuses the only version the device speaks (facts §2.1 policies). */
export function tlsVersionUnsupported(facts: Facts): Finding[] {
  const hits = deviceTlsCells(facts).filter(
    ({ device }) => device.version && device.acceptedVersions && !device.acceptedVersions.includes(device.version),
  );
  if (hits.length === 0) return [];
  const { cell, device } = hits[0]!;
  const accepted = device.acceptedVersions ?? [];
  return [
    finding('TLS_VERSION_UNSUPPORTED', {
      severity: 'critical',
      confidence: accepted.length > 0 ? 'certain' : 'likely',
      title: `The endpoint refuses TLS ${device.version}, the only version the device speaks`,
      explanation:
        `The device's handshake (TLS ${device.version} only) ended with ${how(cell)}; offered alone, ` +
        `${accepted.length ? `only TLS ${list(accepted)} ${accepted.length === 1 ? 'is' : 'are'} accepted` : 'no version was accepted'}. ` +
        "AWS IoT picks the versions by the domain configuration's security policy: IoTSecurityPolicy_TLS13_1_3_2022_10 refuses TLS 1.2.",
      remediation: [
        accepted.includes('1.3')
          ? "Enable TLS 1.3 in the device's TLS library, or"
          : 'Enable a version the endpoint accepts on the device, or',
        "change the endpoint's security policy to one that allows the device's version (aws iot update-domain-configuration --domain-configuration-name iot:Data-ATS --tls-config securityPolicy=IoTSecurityPolicy_TLS13_1_2_2022_10).",
      ],
      params: {
        deviceVersion: device.version,
        acceptedVersions: accepted,
        alert: str(cell.evidence['alert']) ?? null,
        routes: hits.map((h) => h.cell.route),
      },
      evidence: ids(hits.map((h) => h.cell)),
    }),
  ];
}

/** NO_SHARED_CIPHER: none of the device's TLS 1.2 suites is accepted; names the ones that are, found by trying. */
export function noSharedCipher(facts: Facts): Finding[] {
  const hits = deviceTlsCells(facts).filter(
    ({ device }) =>
      device.ciphers &&
      device.acceptedCiphers &&
      !device.ciphers.some((c) => device.acceptedCiphers!.includes(c)) &&
      !(device.version && device.acceptedVersions && !device.acceptedVersions.includes(device.version)),
  );
  if (hits.length === 0) return [];
  const { cell, device } = hits[0]!;
  const accepted = device.acceptedCiphers ?? [];
  return [
    finding('NO_SHARED_CIPHER', {
      severity: 'critical',
      confidence: accepted.length > 0 ? 'certain' : 'likely',
      title: 'The endpoint accepts none of the cipher suites the device offers',
      explanation:
        `The device offers ${list(device.ciphers ?? [])}; the handshake ended with ${how(cell)}. Offered one at a time, ` +
        `the endpoint accepts ${accepted.length ? list(accepted) : 'none of the AWS IoT TLS 1.2 suites'}.`,
      remediation: [
        accepted.length
          ? `Add one of ${list(accepted.slice(0, 4), 'or')} to the device's cipher list (AWS recommends ECDHE-ECDSA-AES128-GCM-SHA256 / ECDHE-RSA-AES128-GCM-SHA256).`
          : "Check the endpoint's security policy (aws iot describe-domain-configuration).",
      ],
      params: {
        deviceCiphers: device.ciphers ?? [],
        acceptedCiphers: accepted,
        alert: str(cell.evidence['alert']) ?? null,
        routes: hits.map((h) => h.cell.route),
      },
      evidence: ids(hits.map((h) => h.cell)),
    }),
  ];
}

/**
 * SNI_MISSING after the handshake: the device sent no SNI, TLS completed, the route then failed, and the cloud check
 * says the certificate is SNI_ONLY (registered without a CA: facts §2.2), which AWS refuses without SNI.
 */
function sniOnlyWithoutSni(facts: Facts): Finding[] {
  const cert = facts.results.find((r) => r.evidence['sniRequired'] === true);
  if (!cert) return [];
  const routes = facts
    .relevantRoutes()
    .filter(
      (r) =>
        facts.cell(r, 'tls')?.status === 'pass' && facts.cell(r, 'tls')?.evidence['sni'] === null && facts.blocker(r),
    );
  if (routes.length === 0) return [];
  const after = routes.map((r) => facts.blocker(r)!);
  return [
    finding('SNI_MISSING', {
      severity: 'critical',
      confidence: 'certain',
      title: 'The device sends no SNI, and its certificate is SNI_ONLY',
      explanation:
        `The certificate is registered in SNI_ONLY mode (without a CA), and AWS IoT accepts such a certificate only ` +
        `when the ClientHello names the endpoint. The device sends no server name, so ${list(after.map((c) => `${c.route} stops at ${c.stage} (${c.code})`))}.`,
      remediation: [
        "Set the server name in the device's TLS library to the endpoint name (e.g. mbedtls_ssl_set_hostname, or the SDK's SNI option).",
        'Or register the certificate with its CA (DEFAULT mode), which AWS accepts without SNI.',
      ],
      params: { routes, certificateMode: 'SNI_ONLY' },
      evidence: ids([cert, ...routes.map((r) => facts.cell(r, 'tls')), ...after]),
    }),
  ];
}

/** SNI_MISSING: the route fails (or gets another server's certificate) only without SNI (facts §2.2). */
export function sniMissing(facts: Facts): Finding[] {
  const hits = deviceTlsCells(facts).filter(({ device }) => device.withSni === 'ok');
  if (hits.length === 0) return sniOnlyWithoutSni(facts);
  const { cell } = hits[0]!;
  const otherCert = cell.code === 'TLS_HOSTNAME_MISMATCH' || cell.code === 'TLS_CHAIN_UNTRUSTED';
  return [
    finding('SNI_MISSING', {
      severity: 'critical',
      confidence: 'certain',
      title: 'The device sends no SNI, and the endpoint needs it',
      explanation:
        `Without a server name the endpoint ${otherCert ? "presents another server's certificate" : `ends the handshake (${how(cell)})`}; ` +
        'with SNI the same handshake works. AWS IoT requires SNI for certificates registered without a CA (SNI_ONLY), ' +
        'custom domains, VPC endpoints and configured TLS policies.',
      remediation: [
        "Set the server name in the device's TLS library to the endpoint name (e.g. mbedtls_ssl_set_hostname, or the SDK's SNI option).",
      ],
      params: { routes: hits.map((h) => h.cell.route), code: cell.code },
      evidence: ids(hits.map((h) => h.cell)),
    }),
  ];
}

/** TLS_RECORD_TOO_LARGE: the server sends a record or Certificate message larger than `--max-record`. */
export function tlsRecordTooLarge(facts: Facts): Finding[] {
  const cells = facts.routeCells(['TLS_RECORD_TOO_LARGE'], 'tls');
  if (cells.length === 0) return [];
  const needed = Math.max(...cells.map((c) => num(c.evidence['bytesNeeded']) ?? 0));
  const max = num(cells[0]!.evidence['maxRecord']);
  return [
    finding('TLS_RECORD_TOO_LARGE', {
      severity: 'critical',
      confidence: 'certain',
      title: `The server sends ${needed} bytes at once; the device's TLS input buffer holds ${max}`,
      explanation:
        `Measured on the wire: largest record ${num(cells[0]!.evidence['largestRecordBytes'])} bytes, Certificate message ` +
        `${num(cells[0]!.evidence['certificateMessageBytes']) ?? 'encrypted (TLS 1.3)'} bytes. A TLS stack whose input buffer is smaller fails the handshake. ` +
        "AWS's default chain is four certificates, and a custom domain may send up to 16 KB of chain.",
      remediation: [
        `Give the device's TLS library an input buffer of at least ${needed} bytes; 16384 (MBEDTLS_SSL_IN_CONTENT_LEN) is what AWS's embedded SDK requires, since Maximum Fragment Length is not something to rely on.`,
      ],
      params: { bytesNeeded: needed, maxRecord: max ?? null, routes: uniq(cells.map((c) => c.route)) },
      evidence: ids(cells),
    }),
  ];
}

/** ALPN_NOT_OFFERED: on 443 the device offers no ALPN, and the route then fails (facts §1: X.509 on 443 needs it). */
export function alpnNotOffered(facts: Facts): Finding[] {
  const routes = facts
    .relevantRoutes()
    .filter((r) => facts.cell(r, 'alpn')?.code === 'ALPN_NOT_OFFERED' && facts.blocker(r));
  if (routes.length === 0) return [];
  const wanted = uniq(routes.map((r) => str(facts.cell(r, 'alpn')?.evidence['wanted']) ?? ''));
  const after = routes.map((r) => facts.blocker(r)!);
  return [
    finding('ALPN_NOT_OFFERED', {
      severity: 'critical',
      confidence: 'certain',
      title: `On 443 the device offers no ALPN, so AWS IoT does not take its client certificate`,
      explanation:
        `On port 443 AWS IoT picks the authentication by ALPN: ${list(wanted)} means "client certificate". Without it the ` +
        `connection is treated as SigV4 or custom authentication, and here ${list(after.map((c) => `${c.route} stops at ${c.stage} (${c.code})`))}.`,
      remediation: [
        `Set ALPN ${list(wanted, 'or')} in the device's TLS configuration for port 443 (a common client-library setting mistake).`,
        'Or use port 8883 (MQTT) / 8443 (HTTPS), which need no ALPN.',
      ],
      params: { routes, wanted },
      evidence: ids([...routes.map((r) => facts.cell(r, 'alpn')), ...after]),
    }),
  ];
}
