import type { X509Certificate } from 'node:crypto';
import type { Evidence } from '../src/model/index.js';
import { buildResult, type Outcome } from '../src/model/result.js';
import { certDetails, formatDn } from '../src/probes/pem.js';
import { DAY_MS, isoDate, credentialCheck, x509Cmd, type LocalCheck, LOCAL_SKIP_CODES } from './local-util.js';

const META = { id: 'cert.validity', title: 'Certificate is within its validity period' };

/** Every code cert.validity reports. */
export const CERT_VALIDITY_CODES = [
  'CERT_VALIDITY_OK',
  'CERT_EXPIRES_SOON',
  'CERT_EXPIRED',
  'CERT_CHAIN_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CLOCK_LOOKS_UNSET',
  ...LOCAL_SKIP_CODES,
] as const;

/** Before this, a clock is almost certainly unset (embedded devices without RTC boot in 1970). */
const PLAUSIBLE_CLOCK = Date.UTC(2020, 0, 1);

function days(ms: number): number {
  return Math.floor(Math.abs(ms) / DAY_MS);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** CERT_CHAIN_EXPIRED for the first chain certificate out of its validity period at `now`; undefined when none is. */
function chainOutcome(
  chain: readonly X509Certificate[],
  now: Date,
  evidence: Evidence,
  clockHint: string | undefined,
  reproduce: string,
): Outcome | undefined {
  for (const c of chain) {
    const d = certDetails(c);
    if (now < d.notBefore || now > d.notAfter) {
      return {
        status: 'fail',
        code: 'CERT_CHAIN_EXPIRED',
        summary: `the chain certificate ${formatDn(c.subject)} in the certificate file is ${now > d.notAfter ? `expired since ${isoDate(d.notAfter)}` : `not valid until ${isoDate(d.notBefore)}`}`,
        evidence: {
          ...evidence,
          chainSubject: formatDn(c.subject),
          chainNotBefore: isoDate(d.notBefore),
          chainNotAfter: isoDate(d.notAfter),
        },
        hint:
          clockHint ?? 'replace the intermediate certificate in the file with its current version from the issuing CA',
        reproduce,
      };
    }
  }
  return undefined;
}

/** cert.validity: not yet valid, expired, or expiring within warnDays, judged by this machine's clock. */
export const certValidityCheck: LocalCheck = credentialCheck(META, ['cert'], (ctx, started) => {
  const cert = ctx.credentials.cert!;
  const now = ctx.now();
  const { notBefore, notAfter } = certDetails(cert.leaf);
  const clockUnset = now.getTime() < PLAUSIBLE_CLOCK;
  const evidence = {
    notBefore: isoDate(notBefore),
    notAfter: isoDate(notAfter),
    now: isoDate(now),
    warnDays: ctx.target.warnDays,
    ...(clockUnset ? { clockLooksUnset: true } : {}),
  };
  const reproduce = `${x509Cmd(cert, '-noout -dates')}; date -u`;
  const clockHint = `this machine's clock reads ${isoDate(now)}, which looks unset (no RTC, or NTP not synced yet): set the clock first, then judge the certificate`;
  if (now < notBefore) {
    return [
      buildResult(META, started, {
        status: 'fail',
        code: 'CERT_NOT_YET_VALID',
        summary: `the certificate is not valid until ${isoDate(notBefore)} (${plural(days(notBefore.getTime() - now.getTime()), 'day')} from now)`,
        evidence,
        hint: clockUnset
          ? clockHint
          : 'either the clock of this machine is behind, or the certificate was issued with a future start date: compare with date -u and re-issue if needed',
        reproduce,
      }),
    ];
  }
  if (now > notAfter) {
    return [
      buildResult(META, started, {
        status: 'fail',
        code: 'CERT_EXPIRED',
        summary: `the certificate expired on ${isoDate(notAfter)} (${plural(days(now.getTime() - notAfter.getTime()), 'day')} ago)`,
        evidence,
        hint: clockUnset
          ? clockHint
          : 'issue a new device certificate, register and activate it in AWS IoT, and attach the same policy and thing',
        reproduce,
      }),
    ];
  }
  const chainExpired = chainOutcome(cert.chain, now, evidence, clockUnset ? clockHint : undefined, reproduce);
  if (chainExpired) return [buildResult(META, started, chainExpired)];
  const left = notAfter.getTime() - now.getTime();
  if (ctx.target.warnDays > 0 && left <= ctx.target.warnDays * DAY_MS) {
    return [
      buildResult(META, started, {
        status: 'warn',
        code: 'CERT_EXPIRES_SOON',
        summary: `the certificate expires on ${isoDate(notAfter)}, in ${plural(days(left), 'day')} (warning threshold ${ctx.target.warnDays} days)`,
        evidence,
        hint: 'rotate the device certificate before it expires: register the new one, attach policy and thing, then switch the device',
        reproduce,
      }),
    ];
  }
  return [
    buildResult(META, started, {
      status: clockUnset ? 'warn' : 'pass',
      code: clockUnset ? 'CLOCK_LOOKS_UNSET' : 'CERT_VALIDITY_OK',
      summary: clockUnset
        ? `the certificate looks valid, but only because this machine's clock reads ${isoDate(now)}`
        : `valid from ${isoDate(notBefore)} until ${isoDate(notAfter)} (${plural(days(left), 'day')} left)`,
      evidence,
      ...(clockUnset ? { hint: clockHint } : {}),
      reproduce,
    }),
  ];
});
