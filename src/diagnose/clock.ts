/**
 * Clock causes, and the clock facts every rule that reasons about time reads first. TLS judges certificates and AWS
 * judges SigV4 signatures by the clock (facts §9 row 4): an unset or far-off clock makes valid certificates look not
 * yet valid or expired and a genuine chain look untrusted, so the clock is decided before any of those.
 */
import type { CheckResult, Finding } from '../model/index.js';
import type { ResultCode } from './codes.js';
import { finding, ids, isCode, list, num, routeSeverity, str, uniq, type Facts } from './facts.js';

/** Route cells a wrong clock explains: the server certificate out of its validity by this machine's clock. */
export const CLOCK_SERVER_CELL_CODES: readonly ResultCode[] = [
  'TLS_SERVER_CERT_EXPIRED',
  'TLS_SERVER_CERT_NOT_YET_VALID',
];

/** What the run says about this machine's clock. Every field absent means nothing was measured. */
export interface ClockFacts {
  /** A result that saw the clock before 2020 (cert.validity: code CLOCK_LOOKS_UNSET or `clockLooksUnset`). */
  unset?: CheckResult;
  /** clock.skew beyond its tolerance (the server's `date` header against this clock). */
  skew?: CheckResult;
  /** clock.skew within its tolerance: the clock is known to be right. */
  ok?: CheckResult;
  /** The device certificate out of its validity by this clock but valid by the server's. */
  contradiction: CheckResult[];
  /**
   * The device certificate and every server certificate seen are out of their validity the same way (all before
   * notBefore, or all after notAfter) while nothing measured the clock: a far-off clock is the one explanation.
   */
  inferred?: 'behind' | 'ahead';
  /** This machine's time as the results recorded it (ISO 8601), when any did. */
  localTime?: string;
  /** Server minus local clock in seconds, when clock.skew measured it. */
  offsetSeconds?: number;
  serverDate?: string;
}

/** The clock looks wrong: unset, measured off, contradicted by the server's clock, or inferred far off. */
export function clockWrong(c: ClockFacts): boolean {
  return !!(c.unset || c.skew || c.contradiction.length > 0 || c.inferred);
}

function localValidity(facts: Facts): CheckResult | undefined {
  return facts.is('cert.validity', 'CERT_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_CHAIN_EXPIRED');
}

/** Both the device certificate and every server certificate out of validity in the same direction. */
function inferDirection(facts: Facts, local: CheckResult | undefined): 'behind' | 'ahead' | undefined {
  const tls = facts.relevantRoutes().flatMap((r) => {
    const c = facts.cell(r, 'tls');
    return c && c.status !== 'skip' ? [c] : [];
  });
  if (!local || tls.length === 0) return undefined;
  if (isCode(local, 'CERT_NOT_YET_VALID') && tls.every((c) => isCode(c, 'TLS_SERVER_CERT_NOT_YET_VALID'))) {
    return 'behind';
  }
  if (isCode(local, 'CERT_EXPIRED') && tls.every((c) => isCode(c, 'TLS_SERVER_CERT_EXPIRED'))) return 'ahead';
  return undefined;
}

/** The clock facts of a run (pure; see ClockFacts). */
export function clockFacts(facts: Facts): ClockFacts {
  const validity = facts.get('cert.validity');
  const unset =
    validity && (isCode(validity, 'CLOCK_LOOKS_UNSET') || validity.evidence['clockLooksUnset'] === true)
      ? validity
      : undefined;
  const skew = facts.is('clock.skew', 'CLOCK_SKEW');
  const ok = facts.is('clock.skew', 'CLOCK_OK');
  const local = localValidity(facts);
  const serverValid = facts.is('clock.cert-validity', 'CERT_VALID_BY_SERVER_CLOCK');
  const contradiction = local && serverValid ? [local, serverValid] : [];
  const inferred = !ok && !skew && !unset && contradiction.length === 0 ? inferDirection(facts, local) : undefined;
  const localTime = str(unset?.evidence['now']) ?? str(local?.evidence['now']) ?? str(skew?.evidence['localTime']);
  const offsetSeconds = num(skew?.evidence['offsetSeconds']);
  const serverDate = str(skew?.evidence['serverDate']);
  return {
    ...(unset ? { unset } : {}),
    ...(skew ? { skew } : {}),
    ...(ok ? { ok } : {}),
    contradiction,
    ...(inferred ? { inferred } : {}),
    ...(localTime ? { localTime } : {}),
    ...(offsetSeconds !== undefined ? { offsetSeconds } : {}),
    ...(serverDate ? { serverDate } : {}),
  };
}

/** The results a wrong clock explains: certificates judged out of date by it, and a chain not valid at this time. */
export function clockExplains(facts: Facts, c: ClockFacts): CheckResult[] {
  if (!clockWrong(c)) return [];
  const local = localValidity(facts);
  const serverByServerClock = facts.is('clock.cert-validity', 'CERT_EXPIRED_BY_SERVER_CLOCK');
  return [
    // A device certificate out of date by the server's clock too is really out of date: not the clock's doing.
    ...(local && !serverByServerClock && !facts.is('clock.cert-validity', 'CERT_NOT_YET_VALID_BY_SERVER_CLOCK')
      ? [local]
      : []),
    ...c.contradiction,
    ...facts.routeCells(CLOCK_SERVER_CELL_CODES, 'tls'),
    ...[facts.is('ca.verifies-endpoint', 'CA_CHAIN_NOT_TIME_VALID')].filter((r): r is CheckResult => !!r),
  ];
}

function describeOffset(seconds: number): string {
  const abs = Math.abs(seconds);
  if (abs >= 86_400) return `${Math.round(abs / 86_400)} days`;
  if (abs >= 3_600) return `${Math.round(abs / 3_600)} hours`;
  if (abs >= 120) return `${Math.round(abs / 60)} minutes`;
  return `${Math.round(abs)} seconds`;
}

/** What the explained results are, in words: "the device certificate looks not yet valid; ...". */
function explainedText(facts: Facts, explained: readonly CheckResult[]): string {
  const parts: string[] = [];
  const local = explained.find((r) => r.id === 'cert.validity');
  if (local) {
    parts.push(
      `the device certificate looks ${isCode(local, 'CERT_NOT_YET_VALID') ? 'not yet valid' : 'expired'} (${local.summary})`,
    );
  }
  const cells = explained.filter((r) => r.route && r.stage === 'tls');
  if (cells.length > 0) {
    const routes = uniq(cells.map((r) => r.route!));
    const how = isCode(cells[0], 'TLS_SERVER_CERT_NOT_YET_VALID') ? 'not yet valid' : 'expired';
    parts.push(`the endpoint's certificate looks ${how} on ${list(routes)}, so TLS refuses it`);
  }
  if (explained.some((r) => r.id === 'ca.verifies-endpoint')) {
    parts.push('the CA file anchors the server chain, which fails only on its dates');
  }
  return parts.length > 0 ? ` Here it explains what failed: ${parts.join('; ')}.` : '';
}

const CLOCK_REMEDIATION = [
  'Set the clock before connecting: enable time synchronisation (NTP or SNTP) on the device and allow it through the firewall (UDP 123 to the time servers).',
  'On devices without a real-time clock, wait until the time is set before opening the TLS connection to AWS IoT.',
];

/** CLOCK_LOOKS_UNSET: this machine's clock reads a date before 2020 (no RTC, NTP not synced yet). */
export function clockLooksUnset(facts: Facts): Finding[] {
  const c = clockFacts(facts);
  if (!c.unset) return [];
  const explained = clockExplains(facts, c);
  const measured =
    c.offsetSeconds !== undefined
      ? ` The AWS server's clock is ${describeOffset(c.offsetSeconds)} ahead${c.serverDate ? ` (${c.serverDate})` : ''}.`
      : '';
  return [
    finding('CLOCK_LOOKS_UNSET', {
      severity: explained.length > 0 ? routeSeverity(facts) : 'warning',
      confidence: 'certain',
      title: `The clock reads ${c.localTime ?? 'a date before 2020'}: it is not set`,
      explanation: `This machine's clock reads ${c.localTime ?? 'a date before 2020'}, which cannot be the time: the clock was never set (no real-time clock, or NTP has not synced yet).${measured} TLS judges every certificate against this clock, so valid certificates look not yet valid, and signed AWS requests (SigV4) are refused.${explained.length > 0 ? explainedText(facts, explained) : ' Nothing failed because of it in this run yet.'} Judge the certificates again once the clock is set.`,
      remediation: [...CLOCK_REMEDIATION, 'Compare by hand: date -u'],
      params: { localTime: c.localTime ?? null, offsetSeconds: c.offsetSeconds ?? null, explains: ids(explained) },
      evidence: ids([c.unset, c.skew, ...explained]),
    }),
  ];
}

/** CLOCK_SKEW: this machine's clock is off compared with the server (measured, contradicted or inferred). */
export function clockSkew(facts: Facts): Finding[] {
  const c = clockFacts(facts);
  if (c.unset || !clockWrong(c)) return [];
  const explained = clockExplains(facts, c);
  const offset = c.offsetSeconds ?? null;
  const how =
    offset !== null
      ? `differs from the AWS server's clock by ${describeOffset(offset)}${c.serverDate ? ` (server date ${c.serverDate})` : ''}`
      : c.contradiction.length > 0
        ? "disagrees with the server's: the device certificate is valid by the server's clock but not by this one"
        : `looks ${c.inferred === 'behind' ? 'far behind' : 'far ahead'}: the device certificate and every server certificate look ${c.inferred === 'behind' ? 'not yet valid' : 'expired'} by it at once${c.localTime ? ` (it reads ${c.localTime})` : ''}`;
  return [
    finding('CLOCK_SKEW', {
      severity: explained.length > 0 ? routeSeverity(facts) : 'warning',
      confidence: c.skew || c.contradiction.length > 0 ? 'certain' : 'likely',
      title: offset !== null ? `The clock is off by ${describeOffset(offset)}` : 'The clock is wrong',
      explanation: `This machine's clock ${how}. TLS judges every certificate against the local clock, so a wrong clock makes valid certificates look expired or not yet valid, and signed AWS API requests are refused when the clock is off by more than 5 minutes.${explained.length > 0 ? explainedText(facts, explained) : ' Connections still work now, but certificate checks and renewals will fail as the gap grows.'}`,
      remediation: [
        ...CLOCK_REMEDIATION,
        `Compare by hand: date -u${c.serverDate ? ` (the server said ${c.serverDate})` : ''}`,
      ],
      params: { offsetSeconds: offset, serverDate: c.serverDate ?? null, localTime: c.localTime ?? null },
      evidence: ids([c.skew, ...explained]),
    }),
  ];
}
