/**
 * clock.cert-validity: the device certificate's validity period judged by the server's clock (the `date` header of
 * an AWS IoT HTTPS answer), which is what AWS IoT itself uses; this machine's clock may be wrong.
 */
import type { CheckResult } from '../src/model/index.js';
import { buildResult, type Outcome } from '../src/model/result.js';
import { shq } from '../src/probes/shell.js';
import { HTTPS_ROUTE_CHECKS, clockUnknownReason, httpsRoutesProbed, serverTimeFrom } from './clock-skew.js';
import type { DoctorCheck } from './types.js';

/** Every code clock.cert-validity reports. */
export const CLOCK_CERT_VALIDITY_CODES = [
  'CLOCK_UNKNOWN',
  'CERT_NOT_YET_VALID_BY_SERVER_CLOCK',
  'CERT_EXPIRED_BY_SERVER_CLOCK',
  'CERT_VALID_BY_SERVER_CLOCK',
] as const;
export type ClockCertValidityCode = (typeof CLOCK_CERT_VALIDITY_CODES)[number];

const META = { id: 'clock.cert-validity', title: "Device certificate valid by the server's clock" };

/**
 * clock.cert-validity: fails when the server's clock is before the certificate's notBefore or after its notAfter;
 * skips (CLOCK_UNKNOWN) when no HTTPS route got an answer or none was probed (said which); no result at all without a device certificate.
 */
export const clockCertValidityCheck: DoctorCheck = {
  ...META,
  family: 'clock',
  needs: HTTPS_ROUTE_CHECKS,
  async run(ctx, deps): Promise<CheckResult[]> {
    const leaf = ctx.credentials.cert?.leaf;
    if (!leaf) return [];
    const t = serverTimeFrom(deps.values());
    const outcome: Outcome<ClockCertValidityCode> = ((): Outcome<ClockCertValidityCode> => {
      if (!t) {
        const summary = `server clock unknown: ${clockUnknownReason(httpsRoutesProbed(deps))}`;
        return { status: 'skip', code: 'CLOCK_UNKNOWN', summary };
      }
      const serverNow = Date.parse(t.serverDate);
      const notBefore = new Date(Date.parse(leaf.validFrom)).toISOString();
      const notAfter = new Date(Date.parse(leaf.validTo)).toISOString();
      const evidence = { serverDate: t.serverDate, notBefore, notAfter };
      const reproduce = `openssl x509 -in ${shq(ctx.target.certPath ?? 'cert.pem')} -noout -dates`;
      if (serverNow < Date.parse(notBefore)) {
        return {
          status: 'fail',
          code: 'CERT_NOT_YET_VALID_BY_SERVER_CLOCK',
          evidence,
          summary: `by the server's clock the device certificate is not valid before ${notBefore}`,
          hint: 'The certificate was issued with a start date in the future: reissue it, or wait until then.',
          reproduce,
        };
      }
      if (serverNow > Date.parse(notAfter)) {
        return {
          status: 'fail',
          code: 'CERT_EXPIRED_BY_SERVER_CLOCK',
          evidence,
          summary: `by the server's clock the device certificate expired on ${notAfter}`,
          hint: 'Issue a new device certificate, register and activate it, and attach the policy.',
          reproduce,
        };
      }
      const summary = `valid until ${notAfter} by the server's clock`;
      return { status: 'pass', code: 'CERT_VALID_BY_SERVER_CLOCK', evidence, summary };
    })();
    return [buildResult(META, { durationMs: 0 }, outcome)];
  },
};
