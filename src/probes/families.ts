/**
 * Resolve a name once per address family (A and AAAA), so that each family can be probed on its own: Node's Happy
 * Eyeballs would otherwise hide a broken IPv6 path that devices without fallback hit (field-notes §2.3, §2.4).
 * "No AAAA record" is not a failure: many endpoints publish IPv4 only (field-notes §2.1).
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { errorCode, errorMessage } from '../errors.js';

/** An address family as the CLI names it (`-4`, `-6`). */
export type Family = 4 | 6;

/** What one family's lookup gave: the addresses, "none published", or a failure code of the dns stage. */
export type FamilyAnswer =
  | { family: Family; ok: true; addresses: string[]; durationMs: number }
  | {
      family: Family;
      ok: false;
      none: boolean;
      code: string;
      message: string;
      durationMs: number;
      systemCode?: string;
    };

/** The record type of a family, for messages ("no AAAA record"). */
export function recordType(family: Family): 'A' | 'AAAA' {
  return family === 4 ? 'A' : 'AAAA';
}

async function lookupSystem(name: string, family: Family): Promise<string[]> {
  const answer = await dns.lookup(name, { all: true, family, verbatim: true });
  return answer.filter((a) => a.family === family).map((a) => a.address);
}

async function lookupServer(name: string, family: Family, server: string, timeoutMs: number): Promise<string[]> {
  const resolver = new dns.Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers([server]);
  try {
    return family === 4 ? await resolver.resolve4(name) : await resolver.resolve6(name);
  } finally {
    resolver.cancel();
  }
}

/** Codes that mean "this family has no record" rather than "the lookup failed". */
const NONE = new Set(['ENODATA', 'ENOTFOUND', 'EAI_NODATA', 'EAI_ADDRFAMILY']);

/**
 * Look up `name` for one family, through the system resolver (getaddrinfo, hosts file included) or `server`, with a
 * deadline (getaddrinfo cannot be cancelled; a late answer is ignored). An IP literal answers its own family only.
 */
export async function resolveFamily(
  name: string,
  family: Family,
  timeoutMs: number,
  server?: string,
): Promise<FamilyAnswer> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  if (isIP(name)) {
    return isIP(name) === family
      ? { family, ok: true, addresses: [name], durationMs: 0 }
      : {
          family,
          ok: false,
          none: true,
          code: 'DNS_NO_ANSWER',
          message: `${name} is an IPv${isIP(name)} address`,
          durationMs: 0,
        };
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const lookup = server ? lookupServer(name, family, server, timeoutMs) : lookupSystem(name, family);
    const answer = await Promise.race([lookup, deadline]);
    if (answer === 'timeout') {
      return {
        family,
        ok: false,
        none: false,
        code: 'DNS_TIMEOUT',
        message: `no ${recordType(family)} answer for ${name} within ${timeoutMs} ms`,
        durationMs: elapsed(),
      };
    }
    if (answer.length === 0) {
      return {
        family,
        ok: false,
        none: true,
        code: 'DNS_NO_ANSWER',
        message: `${name} has no ${recordType(family)} record`,
        durationMs: elapsed(),
      };
    }
    return { family, ok: true, addresses: answer, durationMs: elapsed() };
  } catch (err) {
    const systemCode = errorCode(err) ?? 'EUNKNOWN';
    const none = NONE.has(systemCode);
    const code = none
      ? 'DNS_NO_ANSWER'
      : systemCode === 'EAI_AGAIN' || systemCode === 'ESERVFAIL'
        ? 'DNS_TEMPORARY_FAILURE'
        : 'DNS_ERROR';
    return {
      family,
      ok: false,
      none,
      code,
      message: `${recordType(family)} lookup of ${name}: ${errorMessage(err)}`,
      durationMs: elapsed(),
      systemCode,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Both families at once (or only those asked for with -4 / -6), in the order 4, 6. */
export function resolveFamilies(
  name: string,
  families: readonly Family[],
  timeoutMs: number,
  server?: string,
): Promise<FamilyAnswer[]> {
  return Promise.all(families.map((f) => resolveFamily(name, f, timeoutMs, server)));
}
