/**
 * The field-path facts of a report's target (proxy, address families, device TLS) as labelled one-line texts, for
 * the table, Markdown, HTML and JUnit headers. Reports without these fields (older ones, `cert`) give no lines.
 */
import type { TargetSummary } from '../model/index.js';

/** The device TLS settings in words, or null when the device is Node's default (TLS 1.2-1.3, SNI, ALPN). */
function deviceTlsWords(d: NonNullable<TargetSummary['deviceTls']>): string | null {
  const words = [
    ...(d.tlsVersion ? [`TLS ${d.tlsVersion} only`] : []),
    ...(d.ciphers ? [`ciphers ${d.ciphers}`] : []),
    ...(d.maxRecord !== undefined ? [`max record ${d.maxRecord} bytes`] : []),
    ...(d.sni ? [] : ['no SNI']),
    ...(d.alpn ? [] : ['no ALPN']),
  ];
  return words.length ? words.join(', ') : null;
}

/**
 * `[label, text]` pairs: `Proxy` (URL without credentials, its source and why; or why none), `Address families`
 * (probed, and why), `Device TLS` (only when a flag set it). Empty for a target without these fields.
 */
export function pathFacts(t: TargetSummary): [string, string][] {
  const out: [string, string][] = [];
  if (t.proxy) {
    const p = t.proxy;
    const creds = p.credentials ? ', with credentials' : '';
    out.push(['Proxy', p.url ? `${p.url} (${p.reason}${creds})` : p.reason]);
  }
  if (t.families) {
    const probed = t.families.probed.map((f) => `IPv${f}`).join(', ');
    out.push(['Address families', probed ? `${probed} (${t.families.reason})` : t.families.reason]);
  }
  const device = t.deviceTls ? deviceTlsWords(t.deviceTls) : null;
  if (device) out.push(['Device TLS', device]);
  return out;
}
