import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { errorCode, errorMessage } from '../errors.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type DnsOutcome =
  | { ok: true; addresses: ResolvedAddress[]; durationMs: number; source: 'dns' | 'pinned' }
  | { ok: false; code: DnsFailureCode; message: string; durationMs: number; systemCode?: string };

export type DnsFailureCode = 'DNS_NXDOMAIN' | 'DNS_NO_ANSWER' | 'DNS_TEMPORARY_FAILURE' | 'DNS_TIMEOUT' | 'DNS_ERROR';

/**
 * Resolve a name the way the device's resolver would (getaddrinfo), with a deadline. getaddrinfo cannot be
 * cancelled, so the deadline only stops the wait; a late answer is ignored.
 */
export async function resolveName(name: string, timeoutMs: number): Promise<DnsOutcome> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  if (isIP(name)) {
    return { ok: true, addresses: [{ address: name, family: isIP(name) as 4 | 6 }], durationMs: 0, source: 'pinned' };
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const answer = await Promise.race([dns.lookup(name, { all: true, verbatim: true }), deadline]);
    if (answer === 'timeout') {
      return { ok: false, code: 'DNS_TIMEOUT', message: `no answer for ${name} within ${timeoutMs} ms`, durationMs: elapsed() };
    }
    if (answer.length === 0) {
      return { ok: false, code: 'DNS_NO_ANSWER', message: `${name} has no address records`, durationMs: elapsed() };
    }
    return {
      ok: true,
      addresses: answer.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 })),
      durationMs: elapsed(),
      source: 'dns',
    };
  } catch (err) {
    const systemCode = errorCode(err);
    const code: DnsFailureCode =
      systemCode === 'ENOTFOUND'
        ? 'DNS_NXDOMAIN'
        : systemCode === 'ENODATA'
          ? 'DNS_NO_ANSWER'
          : systemCode === 'EAI_AGAIN' || systemCode === 'ESERVFAIL' || systemCode === 'ETIMEOUT'
            ? 'DNS_TEMPORARY_FAILURE'
            : 'DNS_ERROR';
    return { ok: false, code, message: errorMessage(err), durationMs: elapsed(), ...(systemCode ? { systemCode } : {}) };
  } finally {
    clearTimeout(timer);
  }
}

/** True for loopback, RFC 1918, link-local, CGNAT and unique-local addresses: unexpected for a public endpoint. */
export function isPrivateAddress(address: string): boolean {
  if (isIP(address) === 4) {
    const [a = 0, b = 0] = address.split('.').map(Number);
    return (
      a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) ||
      (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127) || a === 0
    );
  }
  const lower = address.toLowerCase();
  return lower === '::1' || lower === '::' || lower.startsWith('fc') || lower.startsWith('fd') || lower.startsWith('fe80');
}
