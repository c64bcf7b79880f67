import { promises as dns } from 'node:dns';
const { Resolver } = dns;
import { isIP } from 'node:net';
import { errorCode, errorMessage } from '../errors.js';
import { withDeadline } from '../runner/deadline.js';

/** One address of a DNS answer. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** The result of a lookup: the addresses in answer order, or a classified failure; durations in milliseconds. */
export type DnsOutcome =
  | { ok: true; addresses: ResolvedAddress[]; durationMs: number; source: 'dns' | 'pinned' }
  | { ok: false; code: DnsFailureCode; message: string; durationMs: number; systemCode?: string };

/** Failure codes of a lookup (all are route codes of the dns stage). */
export type DnsFailureCode = 'DNS_NXDOMAIN' | 'DNS_NO_ANSWER' | 'DNS_TEMPORARY_FAILURE' | 'DNS_TIMEOUT' | 'DNS_ERROR';

/**
 * Resolve a name the way the device's resolver would (getaddrinfo, all addresses in resolver order), within
 * `timeoutMs` milliseconds. An IP literal answers itself (source `pinned`). getaddrinfo cannot be cancelled, so the
 * deadline only stops the wait; a late answer is ignored. Never rejects.
 */
export async function resolveName(name: string, timeoutMs: number): Promise<DnsOutcome> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  if (isIP(name)) return literalAnswer(name);
  try {
    const lookup = dns.lookup(name, { all: true, verbatim: true });
    const answer = await withDeadline<Awaited<typeof lookup> | 'timeout'>(lookup, timeoutMs, {
      onTimeout: () => 'timeout',
    });
    if (answer === 'timeout') {
      return {
        ok: false,
        code: 'DNS_TIMEOUT',
        message: `no answer for ${name} within ${timeoutMs} ms`,
        durationMs: elapsed(),
      };
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
    const code = classifyLookupError(systemCode);
    return {
      ok: false,
      code,
      message: errorMessage(err),
      durationMs: elapsed(),
      ...(systemCode ? { systemCode } : {}),
    };
  }
}

/** The answer of an IP literal (a `--connect-to` address): itself, looked up nowhere (source `pinned`). */
function literalAnswer(address: string): DnsOutcome {
  return { ok: true, addresses: [{ address, family: isIP(address) as 4 | 6 }], durationMs: 0, source: 'pinned' };
}

/** The failure code of a getaddrinfo error by its system code (ENOTFOUND → DNS_NXDOMAIN, …). */
function classifyLookupError(systemCode: string | undefined): DnsFailureCode {
  if (systemCode === 'ENOTFOUND') return 'DNS_NXDOMAIN';
  if (systemCode === 'ENODATA') return 'DNS_NO_ANSWER';
  if (systemCode === 'EAI_AGAIN' || systemCode === 'ESERVFAIL' || systemCode === 'ETIMEOUT')
    return 'DNS_TEMPORARY_FAILURE';
  return 'DNS_ERROR';
}

/**
 * Ask one DNS server directly (A and AAAA), as `dig @server` would, instead of the system resolver: to compare the
 * site's DNS with another, or when the device uses a fixed server. One try, bounded by the timeout. An IP literal (the
 * address of a `--connect-to` rule) answers itself, as with getaddrinfo: the server is not asked about it.
 */
export async function resolveWithServer(name: string, server: string, timeoutMs: number): Promise<DnsOutcome> {
  if (isIP(name)) return literalAnswer(name);
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers([server]);
  const query = async (family: 4 | 6): Promise<ResolvedAddress[] | { error: string }> => {
    try {
      const list = family === 4 ? await resolver.resolve4(name) : await resolver.resolve6(name);
      return list.map((address) => ({ address, family }));
    } catch (err) {
      return { error: errorCode(err) ?? 'EUNKNOWN' };
    }
  };
  const [v4, v6] = await Promise.all([query(4), query(6)]);
  resolver.cancel();
  const addresses = [...(Array.isArray(v4) ? v4 : []), ...(Array.isArray(v6) ? v6 : [])];
  if (addresses.length > 0) return { ok: true, addresses, durationMs: elapsed(), source: 'dns' };
  const errors = [v4, v6].map((r) => (Array.isArray(r) ? 'ENODATA' : r.error));
  const code: DnsFailureCode = errors.includes('ENOTFOUND')
    ? 'DNS_NXDOMAIN'
    : errors.includes('ETIMEOUT')
      ? 'DNS_TIMEOUT'
      : errors.includes('ESERVFAIL') || errors.includes('EREFUSED') || errors.includes('ECONNREFUSED')
        ? 'DNS_TEMPORARY_FAILURE'
        : errors.every((e) => e === 'ENODATA')
          ? 'DNS_NO_ANSWER'
          : 'DNS_ERROR';
  const messages: Record<DnsFailureCode, string> = {
    DNS_NXDOMAIN: `${server} says ${name} does not exist (NXDOMAIN)`,
    DNS_NO_ANSWER: `${server} knows ${name} but returned no A or AAAA record`,
    DNS_TIMEOUT: `${server} did not answer within ${timeoutMs} ms`,
    DNS_TEMPORARY_FAILURE: `${server} failed or refused the query (${errors.join(', ')})`,
    DNS_ERROR: `lookup through ${server} failed (${errors.join(', ')})`,
  };
  return { ok: false, code, message: messages[code], durationMs: elapsed(), systemCode: errors.join(',') };
}

/** True for loopback, RFC 1918, link-local, CGNAT and unique-local addresses: unexpected for a public endpoint. */
export function isPrivateAddress(address: string): boolean {
  if (isIP(address) === 4) {
    const [a = 0, b = 0] = address.split('.').map(Number);
    return (
      a === 10 ||
      a === 127 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127) ||
      a === 0
    );
  }
  const lower = address.toLowerCase();
  return (
    lower === '::1' || lower === '::' || lower.startsWith('fc') || lower.startsWith('fd') || lower.startsWith('fe80')
  );
}
