/**
 * IP literals told from host names without paying for Node's IPv6 pattern before the first SYN (issue 16).
 *
 * `net.isIP` tests a string against a very large IPv6 regular expression once the IPv4 one fails: the first such test
 * in a process compiles it, about 13–17 ms of CPU on a 2-core VM, and every host name reaches it. Node's own TLS
 * client runs it anyway (on the SNI name in `tls.connect`, and in `checkServerIdentity`), so the compile cannot be
 * avoided, only moved: `ipFamily` never reaches it for a string that cannot be an IPv6 literal, and `warmIpParser`
 * pays for it after the routes' SYNs are out, while they travel, instead of before.
 */
import { isIP } from 'node:net';

/**
 * The family of an IP literal: 4 (dotted quad), 6 (IPv6, with an optional `%zone`), 0 for anything else. Same
 * answers as `net.isIP`: a string without `:` cannot be IPv6 and is tested against the IPv4 pattern only.
 */
export function ipFamily(s: string): 0 | 4 | 6 {
  if (!s.includes(':')) return /^[0-9.]+$/.test(s) ? (isIP(s) as 0 | 4) : 0;
  return isIP(s) as 0 | 4 | 6;
}

let warmed = false;

/**
 * Compiles Node's IPv6 pattern now (two tests: the second lets V8 finish with it), once per process; scheduled with
 * `setImmediate`, so the connects already started send their SYNs first. Never throws.
 */
export function warmIpParser(): void {
  if (warmed) return;
  warmed = true;
  setImmediate(() => {
    isIP('warm-up.invalid');
    isIP('warm-up-again.invalid');
  });
}
