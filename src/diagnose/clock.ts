/** Clock causes: the device clock differs from AWS, or looks unset. */
import type { Finding } from '../model/index.js';
import { finding, ids, num, routeSeverity, str, type Facts } from './facts.js';

function describeOffset(seconds: number): string {
  const abs = Math.abs(seconds);
  if (abs >= 86_400) return `${Math.round(abs / 86_400)} days`;
  if (abs >= 3_600) return `${Math.round(abs / 3_600)} hours`;
  if (abs >= 120) return `${Math.round(abs / 60)} minutes`;
  return `${Math.round(abs)} seconds`;
}

/** CLOCK_SKEW: this machine's clock is off compared with the server, or it looks unset. */
export function clockSkew(facts: Facts): Finding[] {
  const skew = facts.is('clock.skew', 'CLOCK_SKEW');
  const unset = facts.is('cert.validity', 'CLOCK_LOOKS_UNSET');
  const localInvalid = facts.is('cert.validity', 'CERT_EXPIRED', 'CERT_NOT_YET_VALID');
  const serverValid = facts.is('clock.cert-validity', 'CERT_VALID_BY_SERVER_CLOCK');
  const contradiction = localInvalid && serverValid ? [localInvalid, serverValid] : [];
  if (!skew && !unset && contradiction.length === 0) return [];
  const serverCertOff = facts.routeCells(['TLS_SERVER_CERT_EXPIRED', 'TLS_SERVER_CERT_NOT_YET_VALID'], 'tls');
  const chainOffTime = facts.is('ca.verifies-endpoint', 'CA_CHAIN_NOT_TIME_VALID');
  const explains = [...contradiction, ...serverCertOff, ...(chainOffTime ? [chainOffTime] : [])];
  const offsetSeconds = num(skew?.evidence['offsetSeconds']) ?? null;
  const serverDate = str(skew?.evidence['serverDate']) ?? null;
  const localTime = str(unset?.evidence['now']) ?? str(localInvalid?.evidence['now']) ?? null;
  const how =
    offsetSeconds !== null
      ? `differs from the AWS server's clock by ${describeOffset(offsetSeconds)}${serverDate ? ` (server date ${serverDate})` : ''}`
      : unset
        ? `reads ${localTime ?? 'a date before 2020'}, so it looks unset (no RTC, or NTP has not synced)`
        : "disagrees with the server: the certificate is valid by the server's clock but not by this one";
  return [
    finding('CLOCK_SKEW', {
      severity: explains.length > 0 ? routeSeverity(facts) : 'warning',
      confidence: skew || contradiction.length > 0 ? 'certain' : 'likely',
      title: offsetSeconds !== null ? `The clock is off by ${describeOffset(offsetSeconds)}` : 'The clock is wrong',
      explanation: `This machine's clock ${how}. TLS judges every certificate against the local clock, so a wrong clock makes valid certificates look expired or not yet valid, and signed AWS API requests are refused when the clock is off by more than 5 minutes.${explains.length > 0 ? ' Here it already makes certificates look invalid.' : ' Connections still work now, but certificate checks and renewals will fail as the gap grows.'}`,
      remediation: [
        'Enable time synchronisation (NTP or SNTP) on the device and allow it through the firewall (UDP 123 to the time servers).',
        'On devices without a real-time clock, wait for the time to be set before connecting to AWS IoT.',
        `Compare by hand: date -u${serverDate ? ` (the server said ${serverDate})` : ''}`,
      ],
      params: { offsetSeconds, serverDate, localTime },
      evidence: ids([skew, unset, ...explains]),
    }),
  ];
}
