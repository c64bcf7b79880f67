/**
 * The device clock against the server's: AWS IoT's HTTPS responses carry a `date` header (1 s resolution). A device
 * whose clock is wrong sees valid certificates as expired or not yet valid, and its SigV4 requests are refused.
 */
import type { CheckResult } from '../src/model/index.js';
import { shq } from '../src/probes/shell.js';
import type { CheckContext, DoctorCheck } from './types.js';

export const CLOCK_TOLERANCE_SECONDS = 120;
const HTTPS_ROUTE_CHECKS = ['route.https-8443', 'route.https-443'];

interface ServerTime {
  serverDate: string;
  receivedAt: string;
  offsetSeconds: number;
  route: string;
}

/** Server minus local clock, from the first HTTPS protocol result that carries a date header. */
export function serverTimeFrom(results: Iterable<readonly CheckResult[]>): ServerTime | undefined {
  for (const list of results) {
    for (const r of list) {
      const { serverDate, receivedAt } = r.evidence as { serverDate?: string; receivedAt?: string };
      if (r.stage !== 'protocol' || !serverDate || !receivedAt) continue;
      const server = Date.parse(serverDate);
      const local = Date.parse(receivedAt);
      if (Number.isNaN(server) || Number.isNaN(local)) continue;
      // The header is truncated to the second: the true server time is up to 1 s later.
      const offsetSeconds = Math.round((server + 500 - local) / 1000);
      return { serverDate, receivedAt, offsetSeconds, route: r.route ?? '' };
    }
  }
  return undefined;
}

function reproduce(ctx: CheckContext): string {
  const t = ctx.target;
  const flags = [`--cacert ${shq(t.caPath ?? 'AmazonRootCA1.pem')}`];
  if (t.certPath) flags.push(`--cert ${shq(t.certPath)}`);
  if (t.keyPath) flags.push(`--key ${shq(t.keyPath)}`);
  return `curl -s -o /dev/null -D - ${flags.join(' ')} -X POST 'https://${t.endpoint}:8443/topics/iot-doctor%2Fclock' | grep -i '^date:'; date -u`;
}

function formatOffset(seconds: number): string {
  const abs = Math.abs(seconds);
  const text = abs >= 3600 ? `${(abs / 3600).toFixed(1)} h` : abs >= 120 ? `${Math.round(abs / 60)} min` : `${abs} s`;
  return `${text} ${seconds > 0 ? 'behind' : 'ahead of'} the server`;
}

const TITLE = `Device clock within ${CLOCK_TOLERANCE_SECONDS / 60} minutes of the server's`;

export const clockSkewCheck: DoctorCheck = {
  id: 'clock.skew',
  title: TITLE,
  family: 'clock',
  needs: HTTPS_ROUTE_CHECKS,
  async run(ctx, deps): Promise<CheckResult[]> {
    const started = performance.now();
    const t = serverTimeFrom(deps.values());
    const base = { id: 'clock.skew', route: null, stage: null, title: TITLE };
    const durationMs = Math.round(performance.now() - started);
    const clockSkewResult = ((): CheckResult => {
      if (!t) {
        return {
          ...base, status: 'skip', code: 'CLOCK_UNKNOWN', durationMs, evidence: { localTime: ctx.now().toISOString() },
          summary: 'no HTTPS route got an answer, so the server clock could not be read',
        };
      }
      const evidence = { offsetSeconds: t.offsetSeconds, serverDate: t.serverDate, localTime: t.receivedAt, route: t.route, toleranceSeconds: CLOCK_TOLERANCE_SECONDS };
      if (Math.abs(t.offsetSeconds) > CLOCK_TOLERANCE_SECONDS) {
        return {
          ...base, status: 'warn', code: 'CLOCK_SKEW', durationMs, evidence, reproduce: reproduce(ctx),
          summary: `this machine's clock is ${formatOffset(t.offsetSeconds)} (server says ${t.serverDate})`,
          hint: 'Set the clock from NTP (UDP 123 must be allowed) or a reliable time source. A wrong clock makes valid certificates look expired or not yet valid, and breaks SigV4.',
        };
      }
      return {
        ...base, status: 'pass', code: 'CLOCK_OK', durationMs, evidence,
        summary: t.offsetSeconds === 0 ? 'in step with the server' : `${formatOffset(t.offsetSeconds)}, within tolerance`,
      };
    })();
    const results = [clockSkewResult];
    const leaf = ctx.credentials.cert?.leaf;
    const validityBase = { id: 'clock.cert-validity', route: null, stage: null, title: 'Device certificate valid by the server\'s clock' };
    if (!leaf) return results;
    if (!t) {
      results.push({ ...validityBase, status: 'skip', code: 'CLOCK_UNKNOWN', durationMs: 0, evidence: {}, summary: 'server clock unknown' });
      return results;
    }
    const serverNow = Date.parse(t.serverDate);
    const notBefore = Date.parse(leaf.validFrom);
    const notAfter = Date.parse(leaf.validTo);
    const evidence = { serverDate: t.serverDate, notBefore: new Date(notBefore).toISOString(), notAfter: new Date(notAfter).toISOString() };
    if (serverNow < notBefore) {
      results.push({
        ...validityBase, status: 'fail', code: 'CERT_NOT_YET_VALID_BY_SERVER_CLOCK', durationMs: 0, evidence,
        summary: `by the server's clock the device certificate is not valid before ${evidence.notBefore}`,
        hint: 'The certificate was issued with a start date in the future: reissue it, or wait until then.',
        reproduce: `openssl x509 -in ${shq(ctx.target.certPath ?? 'cert.pem')} -noout -dates`,
      });
    } else if (serverNow > notAfter) {
      results.push({
        ...validityBase, status: 'fail', code: 'CERT_EXPIRED_BY_SERVER_CLOCK', durationMs: 0, evidence,
        summary: `by the server's clock the device certificate expired on ${evidence.notAfter}`,
        hint: 'Issue a new device certificate, register and activate it, and attach the policy.',
        reproduce: `openssl x509 -in ${shq(ctx.target.certPath ?? 'cert.pem')} -noout -dates`,
      });
    } else {
      results.push({ ...validityBase, status: 'pass', code: 'CERT_VALID_BY_SERVER_CLOCK', durationMs: 0, evidence, summary: `valid until ${evidence.notAfter} by the server's clock` });
    }
    return results;
  },
};
