/**
 * Redaction for reports that leave the site (tickets, chats): endpoint prefixes, AWS account ids, IP addresses and
 * the account of ARNs are replaced everywhere in the report, evidence and reproduce commands included. Distinct
 * values keep distinct placeholders, so a report still shows that two addresses differ.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Report } from '../model/index.js';

/** `<prefix>-ats.iot.<region>.amazonaws.com` (and the legacy form without -ats). */
const ENDPOINT_RE = /\b([a-z0-9]{6,40})(-ats)?(\.iot\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?)\b/gi;
const ARN_ACCOUNT_RE = /\b(arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:)(\d{12})(?=:)/g;
/** Twelve digits on their own (not part of a longer number, a hex string or a dotted number). */
const ACCOUNT_RE = /(?<![\w.])\d{12}(?!\w|\.\d)/g;
const IPV4_RE = /(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)/g;
/** Candidate IPv6 tokens: hex groups with colons (checked with isIPv6 before replacing). */
const IPV6_RE =
  /(?<![\w:.])(?:[0-9a-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]{0,4})(?:%[\w.]+)?(?![\w:]|\.\d)/gi;

export const REDACTED_ACCOUNT = '000000000000';
/** Any PEM block (certificate, CSR, key): its base64 hides names and addresses the text replacements cannot see. */
const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----/;
const PEM_REMOVED = '[PEM removed by --redact]';

class Redactor {
  private readonly prefixes = new Map<string, string>();
  private readonly ipv4 = new Map<string, string>();
  private readonly ipv6 = new Map<string, string>();

  /** Registers the target endpoint first so it always becomes `xxxxxxxx`. */
  seed(endpoint: string): void {
    for (const m of endpoint.matchAll(ENDPOINT_RE)) this.prefix(m[1]!);
  }

  private prefix(p: string): string {
    const key = p.toLowerCase();
    let out = this.prefixes.get(key);
    if (!out) {
      const n = this.prefixes.size + 1;
      out = n === 1 ? 'xxxxxxxx' : `xxxxxxx${n}`;
      this.prefixes.set(key, out);
    }
    return out;
  }

  private v4(addr: string): string {
    let out = this.ipv4.get(addr);
    if (!out) {
      out = `x.x.x.${this.ipv4.size + 1}`;
      this.ipv4.set(addr, out);
    }
    return out;
  }

  private v6(addr: string): string {
    const key = addr.toLowerCase();
    let out = this.ipv6.get(key);
    if (!out) {
      out = `xxxx::${(this.ipv6.size + 1).toString(16)}`;
      this.ipv6.set(key, out);
    }
    return out;
  }

  text(s: string): string {
    let out = s.replace(
      ENDPOINT_RE,
      (_m, prefix: string, ats: string | undefined, rest: string) => `${this.prefix(prefix)}${ats ?? ''}${rest}`,
    );
    // A known prefix also on its own (e.g. in an evidence field holding just the prefix).
    for (const [prefix, placeholder] of this.prefixes) {
      if (prefix.length >= 8) out = out.replace(new RegExp(`\\b${prefix}\\b`, 'gi'), placeholder);
    }
    out = out.replace(ARN_ACCOUNT_RE, (_m, head: string) => `${head}${REDACTED_ACCOUNT}`);
    out = out.replace(ACCOUNT_RE, REDACTED_ACCOUNT);
    out = out.replace(IPV6_RE, (m) => {
      const bare = m.replace(/%.*$/, '');
      return isIPv6(bare) && bare.includes(':') && !/^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){2,}$/i.test(bare)
        ? this.v6(bare)
        : m;
    });
    out = out.replace(IPV4_RE, (m) => (isIPv4(m) ? this.v4(m) : m));
    return out;
  }

  value(v: unknown): unknown {
    if (typeof v === 'string') return PEM_BLOCK.test(v) ? PEM_REMOVED : this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        // A certificate as PEM carries its SANs (the names redacted elsewhere) in base64: drop it whole; the
        // subject, issuer and fingerprints stay (redacted as text).
        if (k === 'pem' && typeof x === 'string') continue;
        out[k] = this.value(x);
      }
      return out;
    }
    return v;
  }
}

/**
 * A copy of the report with the endpoint prefix (`<prefix>-ats` → `xxxxxxxx-ats`), 12-digit account ids, IPv4 and
 * IPv6 addresses and the account part of ARNs replaced in every string, evidence and reproduce commands included;
 * certificates as PEM (the `pem` fields of the server chain, any string holding a PEM block) are dropped, since their
 * base64 carries the names removed elsewhere. The input is not changed.
 */
export function redactReport(report: Report): Report {
  const r = new Redactor();
  r.seed(report.target.endpoint);
  return r.value(report) as Report;
}

/** The same replacements on one string (a fresh mapping each call). */
export function redactText(text: string, endpoint = ''): string {
  const r = new Redactor();
  r.seed(endpoint);
  return r.text(text);
}
