/**
 * File sniffing: what a certificate, key or CA file holds (PEM blocks per RFC 7468, DER structures, PKCS#12),
 * without opening any key.
 */
import { createPrivateKey } from 'node:crypto';
import type { X509Certificate } from 'node:crypto';
import { parseCertDer } from './cert-details.js';
import { readTlv, tlvChildren, tlvContent } from './der.js';
import type { Tlv } from './der.js';

/** One `-----BEGIN <label>-----` … `-----END <label>-----` block (RFC 7468; RFC 1421 headers allowed). */
export interface PemBlock {
  label: string;
  /** The whole block including the BEGIN/END lines and any headers. */
  text: string;
  headers: Record<string, string>;
  /** Decoded body; undefined when the base64 is broken. */
  der?: Buffer;
}

const PEM_RE = /-----BEGIN ([A-Z0-9 #]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * Every PEM block in a text (RFC 7468), in order, with its RFC 1421 headers (e.g. `Proc-Type`, `DEK-Info`).
 * Blocks whose base64 is broken are kept with `der` undefined. Text outside blocks is ignored. Never throws.
 */
export function parsePemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(PEM_RE)) {
    const label = m[1]!;
    const body = m[2]!;
    const headers: Record<string, string> = {};
    const lines = body.split(/\r?\n/).map((l) => l.trim());
    const b64: string[] = [];
    let inHeaders = true;
    for (const line of lines) {
      if (line === '') {
        if (b64.length > 0 || Object.keys(headers).length > 0) inHeaders = false;
        continue;
      }
      const h = inHeaders ? /^([A-Za-z-]+):\s*(.*)$/.exec(line) : null;
      if (h) {
        headers[h[1]!] = h[2]!;
        continue;
      }
      inHeaders = false;
      b64.push(line);
    }
    const joined = b64.join('');
    let der: Buffer | undefined;
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(joined) && joined.length % 4 === 0) der = Buffer.from(joined, 'base64');
    blocks.push({ label, text: m[0].replace(/\r\n/g, '\n'), headers, der });
  }
  return blocks;
}

/** Where a private key was found and in which form; `encrypted` is known before any passphrase is tried. */
export type KeySource =
  | { form: 'pem'; text: string; label: string; encrypted: boolean }
  | { form: 'der'; der: Buffer; type: 'pkcs8' | 'pkcs1' | 'sec1'; encrypted: boolean; label: string };

/** One thing found in a file. `*-corrupt` items had the right label but did not decode. */
export type FileItem =
  | { kind: 'cert'; x509: X509Certificate }
  | { kind: 'cert-corrupt'; label: string }
  | { kind: 'key'; source: KeySource }
  | { kind: 'key-corrupt'; label: string }
  | { kind: 'public-key'; label: string }
  | { kind: 'csr'; label: string }
  | { kind: 'pkcs12'; der: Buffer }
  | { kind: 'other'; label: string };

/** What a file holds: its overall format and the items found, in file order. */
export interface SniffedFile {
  format: 'pem' | 'der' | 'empty' | 'junk';
  items: FileItem[];
}

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);
const KEY_LABELS = new Set([
  'PRIVATE KEY',
  'RSA PRIVATE KEY',
  'EC PRIVATE KEY',
  'DSA PRIVATE KEY',
  'ENCRYPTED PRIVATE KEY',
]);
const PUBLIC_KEY_LABELS = new Set(['PUBLIC KEY', 'RSA PUBLIC KEY']);
const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
const IGNORED_LABELS = new Set(['EC PARAMETERS']);

/** Certificate DER inside a TRUSTED CERTIFICATE block is followed by trust settings: keep only the first TLV. */
function firstTlvBytes(der: Buffer): Buffer {
  try {
    const t = readTlv(der);
    return der.subarray(0, t.end);
  } catch {
    return der;
  }
}

function sniffPem(text: string): FileItem[] {
  const items: FileItem[] = [];
  for (const block of parsePemBlocks(text)) {
    const { label } = block;
    if (CERT_LABELS.has(label)) {
      const x = block.der ? parseCertDer(firstTlvBytes(block.der)) : undefined;
      items.push(x ? { kind: 'cert', x509: x } : { kind: 'cert-corrupt', label });
    } else if (KEY_LABELS.has(label)) {
      if (!block.der) {
        items.push({ kind: 'key-corrupt', label });
        continue;
      }
      const encrypted = label === 'ENCRYPTED PRIVATE KEY' || /ENCRYPTED/i.test(block.headers['Proc-Type'] ?? '');
      items.push({ kind: 'key', source: { form: 'pem', text: block.text, label, encrypted } });
    } else if (PUBLIC_KEY_LABELS.has(label)) {
      items.push({ kind: 'public-key', label });
    } else if (CSR_LABELS.has(label)) {
      items.push({ kind: 'csr', label });
    } else if (label === 'PKCS12' && block.der) {
      items.push({ kind: 'pkcs12', der: block.der });
    } else if (!IGNORED_LABELS.has(label)) {
      items.push({ kind: 'other', label });
    }
  }
  return items;
}

/** Recognises a DER file: certificate, PKCS#12, PKCS#8 (plain or encrypted), PKCS#1 RSA, SEC1 EC, SPKI, CSR. */
function sniffDer(der: Buffer): FileItem | undefined {
  const cert = parseCertDer(der);
  if (cert) return { kind: 'cert', x509: cert };
  let top: Tlv;
  let kids: Tlv[];
  try {
    top = readTlv(der);
    if (top.tag !== 0x30) return undefined;
    kids = tlvChildren(top);
  } catch {
    return undefined;
  }
  const [a, b, c] = kids;
  const intValue = (t: Tlv | undefined) =>
    t && t.tag === 0x02 ? tlvContent(t).readUIntBE(0, Math.min(t.end - t.contentStart, 6)) : undefined;
  // PKCS#12: SEQUENCE { INTEGER 3, ContentInfo SEQUENCE, [MacData] }
  if (intValue(a) === 3 && b?.tag === 0x30) return { kind: 'pkcs12', der };
  // Encrypted PKCS#8: SEQUENCE { AlgorithmIdentifier SEQUENCE, OCTET STRING }
  if (a?.tag === 0x30 && b?.tag === 0x04 && kids.length === 2) {
    return {
      kind: 'key',
      source: { form: 'der', der, type: 'pkcs8', encrypted: true, label: 'ENCRYPTED PRIVATE KEY (DER)' },
    };
  }
  // SPKI: SEQUENCE { AlgorithmIdentifier SEQUENCE, BIT STRING }
  if (a?.tag === 0x30 && b?.tag === 0x03 && kids.length === 2) return { kind: 'public-key', label: 'PUBLIC KEY (DER)' };
  // CSR: SEQUENCE { CertificationRequestInfo SEQUENCE { INTEGER 0, Name, SPKI, [0] attributes },
  //                AlgorithmIdentifier, BIT STRING }
  if (a?.tag === 0x30 && b?.tag === 0x30 && c?.tag === 0x03) {
    try {
      const info = tlvChildren(a);
      if (info.length === 4 && info[0]?.tag === 0x02 && info[3]?.tag === 0xa0)
        return { kind: 'csr', label: 'CERTIFICATE REQUEST (DER)' };
    } catch {
      // not a CSR
    }
    return undefined;
  }
  if (a?.tag === 0x02) {
    for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
      try {
        createPrivateKey({ key: der, format: 'der', type });
        return {
          kind: 'key',
          source: { form: 'der', der, type, encrypted: false, label: `PRIVATE KEY (DER, ${type.toUpperCase()})` },
        };
      } catch {
        // try the next form
      }
    }
  }
  return undefined;
}

/**
 * What a cert, key or CA file holds, without opening any key: PEM blocks (RFC 7468), or one DER structure
 * (certificate, PKCS#12, PKCS#8 plain or encrypted, PKCS#1, SEC1, SPKI, CSR), or concatenated DER certificates.
 * A UTF-8 BOM is skipped. `format` is `empty` for blank files and `junk` when nothing is recognised. Never throws.
 */
export function sniffFile(buf: Buffer): SniffedFile {
  let bytes = buf;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  const text = bytes.toString('latin1');
  if (text.trim().length === 0) return { format: 'empty', items: [] };
  if (text.includes('-----BEGIN ')) {
    const items = sniffPem(text);
    return { format: items.length > 0 ? 'pem' : 'junk', items };
  }
  if (bytes[0] === 0x30) {
    const item = sniffDer(bytes);
    if (item) return { format: 'der', items: [item] };
    // A DER certificate followed by further DER certificates (a concatenated DER bundle).
    const certs: FileItem[] = [];
    let pos = 0;
    try {
      while (pos < bytes.length) {
        const t = readTlv(bytes, pos);
        const x = parseCertDer(bytes.subarray(pos, t.end));
        if (!x) break;
        certs.push({ kind: 'cert', x509: x });
        pos = t.end;
      }
    } catch {
      // not a bundle
    }
    if (certs.length > 0 && pos === bytes.length) return { format: 'der', items: certs };
  }
  return { format: 'junk', items: [] };
}
