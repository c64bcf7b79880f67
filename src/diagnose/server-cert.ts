/**
 * SERVER_CERT_OUT_OF_DATE: the endpoint presents a certificate outside its validity period. AWS IoT serves only
 * current certificates (facts §2.3: ATS certificates chain to Amazon Root CA 1/3), so either something other than
 * AWS IoT answers, or this machine's clock is wrong; the finding names the dates it saw and tells the two apart.
 */
import type { CheckResult, Finding } from '../model/index.js';
import { CLOCK_SERVER_CELL_CODES, clockFacts, clockWrong } from './clock.js';
import { finding, ids, isCode, list, routeSeverity, str, uniq, type Facts } from './facts.js';

/** The leaf's validity dates as the tls cell recorded them (`chain[0].validFrom/validTo`). */
function leafDates(c: CheckResult): { validFrom?: string; validTo?: string } {
  const chain = c.evidence['chain'];
  const leaf = Array.isArray(chain) && chain[0] && typeof chain[0] === 'object' ? chain[0] : {};
  const o = leaf as Record<string, unknown>;
  const validFrom = str(o['validFrom']);
  const validTo = str(o['validTo']);
  return { ...(validFrom ? { validFrom } : {}), ...(validTo ? { validTo } : {}) };
}

/** Why the server clock is unknown: clock.skew's `httpsRoutes` evidence is empty when no HTTPS route was probed. */
function serverClockUnread(facts: Facts): string {
  const probed = facts.get('clock.skew')?.evidence['httpsRoutes'];
  return Array.isArray(probed) && probed.length === 0
    ? 'was not read (no HTTPS route was probed)'
    : 'could not be read (no HTTPS route answered)';
}

/**
 * SERVER_CERT_OUT_OF_DATE: server certificates expired or not yet valid on routes that count, the clock not known
 * to be wrong, and no TLS_INTERCEPTED finding (`intercepted`) that already names them. Likely "not AWS IoT" when
 * clock.skew found the clock right; otherwise possible, with the clock as the other candidate.
 */
export function serverCertOutOfDate(facts: Facts, intercepted: readonly Finding[]): Finding[] {
  const clock = clockFacts(facts);
  if (clockWrong(clock) || intercepted.length > 0) return [];
  const cells = facts.routeCells(CLOCK_SERVER_CELL_CODES, 'tls');
  if (cells.length === 0) return [];
  const expired = cells.filter((c) => isCode(c, 'TLS_SERVER_CERT_EXPIRED'));
  const routes = uniq(cells.map((c) => c.route!));
  const first = cells[0]!;
  const dates = leafDates(first);
  const what =
    expired.length === cells.length
      ? `expired${dates.validTo ? ` on ${dates.validTo}` : ''}`
      : expired.length === 0
        ? `is not valid until ${dates.validFrom ?? 'a later date'}`
        : 'is outside its validity period';
  const name = facts.endpointName() ?? '<endpoint>';
  const clockRight = !!clock.ok;
  const clockText = clockRight
    ? "This machine's clock agrees with the server's date header, so the dates are real"
    : `This machine's clock reads ${clock.localTime ?? 'a plausible date'} and the server's clock ${serverClockUnread(facts)}, so a wrong clock is not ruled out`;
  return [
    finding('SERVER_CERT_OUT_OF_DATE', {
      severity: routeSeverity(facts),
      confidence: clockRight ? 'likely' : 'possible',
      title: `The server certificate on ${list(routes)} ${what}`,
      explanation: `The endpoint presented a certificate that ${what} (${first.summary}), and TLS refuses it. AWS IoT serves only current certificates, so either something other than AWS IoT answers at ${facts.connectTarget(first.route ?? undefined)} (a TLS-inspecting proxy, or a --connect-to, --resolve, hosts-file or DNS entry pointing elsewhere) or this machine's clock is wrong. ${clockText}.`,
      remediation: [
        `See who answers and the certificate's dates: openssl s_client -connect ${facts.connectTarget(first.route ?? undefined)} -servername ${name} -showcerts </dev/null | openssl x509 -noout -issuer -dates (AWS IoT's chain ends at Amazon Root CA 1/3 or Starfield and is always current).`,
        clockRight
          ? 'Remove whatever sends the device elsewhere (a --connect-to, --resolve, hosts-file or DNS entry), or ask the network administrator to exclude the endpoint from TLS inspection.'
          : 'If the issuer is Amazon, compare this clock with a trusted one (date -u) and set it from NTP; otherwise remove whatever sends the device elsewhere.',
      ],
      params: { routes, expired: expired.length === cells.length, ...dates, clockChecked: clockRight },
      evidence: ids([...cells, ...(clock.ok ? [clock.ok] : [])]),
      candidates: clockRight
        ? []
        : [
            {
              code: 'TLS_INTERCEPTED',
              title: 'Something other than AWS IoT answers (a proxy, or the name points elsewhere)',
              decidedBy: 'the issuer of the presented chain (openssl s_client -showcerts)',
            },
            {
              code: 'CLOCK_SKEW',
              title: "This machine's clock is wrong",
              decidedBy: "clock.skew (the server's date header), or date -u against a trusted clock",
            },
          ],
    }),
  ];
}
