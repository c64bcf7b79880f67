/**
 * The lab's check of a SigV4-presigned WebSocket URL (`GET /mqtt?X-Amz-...`), written from the specification and not
 * with the SDK's signer, so that the product's use of the signer is checked by an independent implementation:
 * canonical request (method, path, the X-Amz query minus X-Amz-Signature and X-Amz-Security-Token, URI-encoded and
 * sorted, `host`, the SHA-256 of the empty payload), string to sign, HMAC key chain (field notes §4.1; AWS "Create a
 * signed AWS API request"). The date must be within 5 minutes of the lab's clock, the scope's region the lab's and its
 * service `iotdevicegateway`. AWS answers every refusal with the same 403 (field notes §4.2), so the reason is only
 * for the lab's log.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Why a presigned URL is refused (the lab's log), or the identity it was signed with. */
export type SigV4Verdict =
  | { ok: true; accessKeyId: string; amzDate: Date; sessionToken?: string }
  | { ok: false; reason: 'malformed' | 'clock' | 'region' | 'service' | 'unknown-key' | 'signature'; message: string };

/** Five minutes: the SigV4 clock tolerance (facts §9 row 4, field notes §4.2). */
export const SIGV4_CLOCK_TOLERANCE_MS = 5 * 60_000;

const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string): Buffer => createHmac('sha256', key).update(s, 'utf8').digest();
/** RFC 3986 unreserved characters stay; everything else is percent-encoded (SigV4 URI encoding). */
const uriEncode = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** `YYYYMMDDTHHMMSSZ` → Date, or undefined. */
export function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se] = m.map(Number) as number[];
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, se!));
}

/** What the check needs: the lab's clock, region, and the secret of an access key id. */
export interface SigV4Context {
  now: Date;
  region: string;
  host: string;
  secretFor: (accessKeyId: string) => string | undefined;
}

/** Verifies the query of `GET /mqtt` (see the file comment). */
export function verifyPresignedQuery(query: URLSearchParams, path: string, ctx: SigV4Context): SigV4Verdict {
  const get = (k: string): string => query.get(k) ?? '';
  const credential = get('X-Amz-Credential').split('/');
  const amzDateText = get('X-Amz-Date');
  const amzDate = parseAmzDate(amzDateText);
  const signature = get('X-Amz-Signature');
  if (get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || credential.length !== 5 || !amzDate || !signature) {
    return { ok: false, reason: 'malformed', message: 'missing or malformed X-Amz parameters' };
  }
  const [accessKeyId, day, region, service, terminator] = credential as [string, string, string, string, string];
  if (Math.abs(amzDate.getTime() - ctx.now.getTime()) > SIGV4_CLOCK_TOLERANCE_MS) {
    return {
      ok: false,
      reason: 'clock',
      message: `X-Amz-Date ${amzDateText} is more than 5 minutes from the lab clock`,
    };
  }
  if (region !== ctx.region)
    return { ok: false, reason: 'region', message: `scope region ${region} is not ${ctx.region}` };
  if (service !== 'iotdevicegateway' || terminator !== 'aws4_request') {
    return { ok: false, reason: 'service', message: `scope service ${service} is not iotdevicegateway` };
  }
  const secret = ctx.secretFor(accessKeyId);
  if (secret === undefined) return { ok: false, reason: 'unknown-key', message: `unknown access key ${accessKeyId}` };
  const signedHeaders = get('X-Amz-SignedHeaders');
  const canonicalQuery = [...query.entries()]
    .filter(([k]) => k !== 'X-Amz-Signature' && k !== 'X-Amz-Security-Token')
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = signedHeaders === 'host' ? `host:${ctx.host}\n` : '';
  const canonical = ['GET', path, canonicalQuery, headers, signedHeaders, sha256Hex('')].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDateText, scope, sha256Hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
  const expected = Buffer.from(hmac(key, toSign).toString('hex'));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'signature', message: 'the signature does not match' };
  }
  const token = query.get('X-Amz-Security-Token');
  return { ok: true, accessKeyId, amzDate, ...(token ? { sessionToken: token } : {}) };
}
