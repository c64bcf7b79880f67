/**
 * Loads the credential files (device certificate, private key, CA bundle) once per run and describes what is in them.
 *
 * Reading is the only I/O here. A path that was given but cannot be read is a usage error; anything wrong with the
 * content is recorded in `problems` (see `src/probes/credentials.ts`). Nothing in this module ever prints or returns
 * key material except the in-memory `key.pem`/`key.object` the TLS stage needs.
 */
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type forgeModule from 'node-forge';
import { AMAZON_ROOTS, AMAZON_ROOTS_PEM } from '../assets/amazon-roots.js';
import { UsageError, errorCode, errorMessage } from '../errors.js';
import type { DeviceFilePaths, DeviceFileProblem, DeviceFiles } from './device-files.js';

// ---------------------------------------------------------------------------------------------------------------
// Minimal DER reader (enough for certificates, PKCS#8/PKCS#12 sniffing and X.509 extensions).
// ---------------------------------------------------------------------------------------------------------------

export interface Tlv {
  /** Full identifier octet (class, constructed bit and tag number for low tag numbers). */
  tag: number;
  constructed: boolean;
  /** Offset of the identifier octet in `buf`. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just after the last content octet. */
  end: number;
  buf: Buffer;
}

export function readTlv(buf: Buffer, offset = 0): Tlv {
  if (offset + 2 > buf.length) throw new Error('DER: truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: high tag numbers are not supported');
  let pos = offset + 1;
  const first = buf[pos++]!;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new Error('DER: unsupported length form');
    if (pos + count > buf.length) throw new Error('DER: truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[pos++]!;
  }
  const end = pos + length;
  if (end > buf.length) throw new Error('DER: content runs past the end');
  return { tag, constructed: (tag & 0x20) !== 0, start: offset, contentStart: pos, end, buf };
}

export function tlvChildren(tlv: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let pos = tlv.contentStart;
  while (pos < tlv.end) {
    const child = readTlv(tlv.buf, pos);
    if (child.end > tlv.end) throw new Error('DER: child runs past its parent');
    out.push(child);
    pos = child.end;
  }
  return out;
}

function tlvContent(tlv: Tlv): Buffer {
  return tlv.buf.subarray(tlv.contentStart, tlv.end);
}

export function decodeOid(content: Buffer): string {
  if (content.length === 0) throw new Error('DER: empty OID');
  const parts: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift()!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

function decodeTime(tlv: Tlv): Date {
  const s = tlvContent(tlv).toString('latin1');
  let m: RegExpMatchArray | null;
  if (tlv.tag === 0x17 && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(s))) {
    const yy = Number(m[1]);
    const year = yy >= 50 ? 1900 + yy : 2000 + yy;
    return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
  }
  if (tlv.tag === 0x18 && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?Z$/.exec(s))) {
    return new Date(
      Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)),
    );
  }
  throw new Error('DER: unsupported time encoding');
}

// ---------------------------------------------------------------------------------------------------------------
// Certificate details that node:crypto does not expose (key usage, signature algorithm, exact validity dates).
// ---------------------------------------------------------------------------------------------------------------

export const OID = {
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  anyExtendedKeyUsage: '2.5.29.37.0',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

const SIGNATURE_ALGORITHMS: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.2.840.10040.4.3': 'dsa-with-sha1',
  '2.16.840.1.101.3.4.3.2': 'dsa-with-sha256',
  '1.3.101.112': 'ED25519',
  '1.3.101.113': 'ED448',
};

const EKU_NAMES: Readonly<Record<string, string>> = {
  [OID.serverAuth]: 'serverAuth',
  [OID.clientAuth]: 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  [OID.anyExtendedKeyUsage]: 'anyExtendedKeyUsage',
};

const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

export interface CertDetails {
  /** Name such as sha256WithRSAEncryption, or the OID when unknown. */
  signatureAlgorithm: string;
  notBefore: Date;
  notAfter: Date;
  /** Undefined when the certificate has no keyUsage extension. */
  keyUsage?: string[];
  /** Names (or OIDs) of the extended key usages; undefined when the extension is absent. */
  extKeyUsage?: string[];
  /** Raw OIDs of the extended key usages. */
  extKeyUsageOids?: string[];
  /** basicConstraints cA flag; false when the extension is absent. */
  isCA: boolean;
  /** Subject equals issuer and the certificate's own key verifies its signature. */
  selfSigned: boolean;
}

const detailsCache = new WeakMap<X509Certificate, CertDetails>();

/** Parses what node:crypto leaves out. Throws only on a DER that X509Certificate itself would not have accepted. */
export function certDetails(cert: X509Certificate): CertDetails {
  const cached = detailsCache.get(cert);
  if (cached) return cached;
  const top = readTlv(cert.raw);
  const [tbs, sigAlg] = tlvChildren(top);
  if (!tbs || !sigAlg) throw new Error('certificate: missing fields');
  const fields = tlvChildren(tbs);
  let i = 0;
  if (fields[0]?.tag === 0xa0) i = 1; // explicit version
  const validity = fields[i + 3];
  if (!validity) throw new Error('certificate: missing validity');
  const [nb, na] = tlvChildren(validity);
  if (!nb || !na) throw new Error('certificate: bad validity');
  const sigOidTlv = tlvChildren(sigAlg)[0];
  const sigOid = sigOidTlv ? decodeOid(tlvContent(sigOidTlv)) : '';
  const details: CertDetails = {
    signatureAlgorithm: SIGNATURE_ALGORITHMS[sigOid] ?? sigOid,
    notBefore: decodeTime(nb),
    notAfter: decodeTime(na),
    isCA: cert.ca,
    selfSigned: isSelfSigned(cert),
  };
  const extWrapper = fields.slice(i + 6).find((f) => f.tag === 0xa3);
  if (extWrapper) {
    const extList = tlvChildren(extWrapper)[0];
    for (const ext of extList ? tlvChildren(extList) : []) {
      const parts = tlvChildren(ext);
      const oidTlv = parts[0];
      const valueTlv = parts[parts.length - 1];
      if (!oidTlv || !valueTlv || valueTlv.tag !== 0x04) continue;
      const oid = decodeOid(tlvContent(oidTlv));
      const inner = readTlv(valueTlv.buf, valueTlv.contentStart);
      if (oid === OID.keyUsage && inner.tag === 0x03) {
        const bits = tlvContent(inner).subarray(1);
        details.keyUsage = KEY_USAGE_BITS.filter((_, bit) => ((bits[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0);
      } else if (oid === OID.extKeyUsage && inner.tag === 0x30) {
        const oids = tlvChildren(inner).map((o) => decodeOid(tlvContent(o)));
        details.extKeyUsageOids = oids;
        details.extKeyUsage = oids.map((o) => EKU_NAMES[o] ?? o);
      }
    }
  }
  detailsCache.set(cert, details);
  return details;
}

export function isSelfSigned(cert: X509Certificate): boolean {
  try {
    return cert.checkIssued(cert) && cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

/** True when `cert` names `issuer` as its issuer and `issuer`'s key verifies its signature. */
export function isIssuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** AWS IoT certificate id: lowercase hex SHA-256 of the DER. */
export function certificateIdOf(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('hex');
}

/** Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo: a safe way to compare or show public keys. */
export function publicKeySha256(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex');
}

export interface KeyDescription {
  /** rsa, ec, ed25519, dsa ... */
  type: string;
  bits?: number;
  curve?: string;
  /** Human form: "RSA 2048", "EC P-256". */
  label: string;
}

const CURVE_NAMES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

export function describeKey(key: KeyObject): KeyDescription {
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa' || type === 'rsa-pss') {
    const bits = details.modulusLength;
    return { type, bits, label: `${type === 'rsa' ? 'RSA' : 'RSA-PSS'} ${bits ?? '?'}` };
  }
  if (type === 'ec') {
    const raw = details.namedCurve ?? 'unknown';
    const curve = CURVE_NAMES[raw] ?? raw;
    return { type, curve, label: `EC ${curve}` };
  }
  if (type === 'dsa') return { type, bits: details.modulusLength, label: `DSA ${details.modulusLength ?? '?'}` };
  return { type, label: type.toUpperCase() };
}

/** "CN=foo, O=bar" from node's multi-line DN form. */
export function formatDn(dn: string): string {
  return dn
    .split('\n')
    .filter((l) => l.length > 0)
    .join(', ');
}

// ---------------------------------------------------------------------------------------------------------------
// Amazon roots.
// ---------------------------------------------------------------------------------------------------------------

export interface KnownRootMatch {
  name: string;
  awsFileName: string;
  /** True when the certificate is the root itself; false for a cross-signed certificate with the same key. */
  exact: boolean;
}

let knownRoots: { name: string; awsFileName: string; sha256: string; subject: string; spki: string }[] | undefined;

function loadKnownRoots() {
  if (!knownRoots) {
    knownRoots = AMAZON_ROOTS.map((r) => {
      const x = new X509Certificate(r.pem);
      return {
        name: r.name,
        awsFileName: r.awsFileName,
        sha256: certificateIdOf(x),
        subject: x.subject,
        spki: publicKeySha256(x.publicKey),
      };
    });
  }
  return knownRoots;
}

/** Which bundled Amazon/Starfield root this certificate is (by fingerprint), or carries the key of (cross-signed). */
export function matchKnownRoot(cert: X509Certificate): KnownRootMatch | undefined {
  const fp = certificateIdOf(cert);
  const roots = loadKnownRoots();
  const exact = roots.find((r) => r.sha256 === fp);
  if (exact) return { name: exact.name, awsFileName: exact.awsFileName, exact: true };
  let spki: string;
  try {
    spki = publicKeySha256(cert.publicKey);
  } catch {
    return undefined;
  }
  const cross = roots.find((r) => r.spki === spki && r.subject === cert.subject);
  if (cross) return { name: cross.name, awsFileName: cross.awsFileName, exact: false };
  return undefined;
}

/** The bundled roots, parsed. */
export function amazonRootCertificates(): X509Certificate[] {
  return AMAZON_ROOTS.map((r) => new X509Certificate(r.pem));
}

// ---------------------------------------------------------------------------------------------------------------
// File sniffing: PEM blocks, DER structures, PKCS#12.
// ---------------------------------------------------------------------------------------------------------------

export interface PemBlock {
  label: string;
  /** The whole block including the BEGIN/END lines and any headers. */
  text: string;
  headers: Record<string, string>;
  /** Decoded body; undefined when the base64 is broken. */
  der?: Buffer;
}

const PEM_RE = /-----BEGIN ([A-Z0-9 #]+)-----([\s\S]*?)-----END \1-----/g;

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

export type KeySource =
  | { form: 'pem'; text: string; label: string; encrypted: boolean }
  | { form: 'der'; der: Buffer; type: 'pkcs8' | 'pkcs1' | 'sec1'; encrypted: boolean; label: string };

export type FileItem =
  | { kind: 'cert'; x509: X509Certificate }
  | { kind: 'cert-corrupt'; label: string }
  | { kind: 'key'; source: KeySource }
  | { kind: 'key-corrupt'; label: string }
  | { kind: 'public-key'; label: string }
  | { kind: 'csr'; label: string }
  | { kind: 'pkcs12'; der: Buffer }
  | { kind: 'other'; label: string };

export interface SniffedFile {
  format: 'pem' | 'der' | 'empty' | 'junk';
  items: FileItem[];
}

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);
const KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'DSA PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);
const PUBLIC_KEY_LABELS = new Set(['PUBLIC KEY', 'RSA PUBLIC KEY']);
const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
const IGNORED_LABELS = new Set(['EC PARAMETERS']);

function parseCertDer(der: Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

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
  const intValue = (t: Tlv | undefined) => (t && t.tag === 0x02 ? tlvContent(t).readUIntBE(0, Math.min(t.end - t.contentStart, 6)) : undefined);
  // PKCS#12: SEQUENCE { INTEGER 3, ContentInfo SEQUENCE, [MacData] }
  if (intValue(a) === 3 && b?.tag === 0x30) return { kind: 'pkcs12', der };
  // Encrypted PKCS#8: SEQUENCE { AlgorithmIdentifier SEQUENCE, OCTET STRING }
  if (a?.tag === 0x30 && b?.tag === 0x04 && kids.length === 2) {
    return { kind: 'key', source: { form: 'der', der, type: 'pkcs8', encrypted: true, label: 'ENCRYPTED PRIVATE KEY (DER)' } };
  }
  // SPKI: SEQUENCE { AlgorithmIdentifier SEQUENCE, BIT STRING }
  if (a?.tag === 0x30 && b?.tag === 0x03 && kids.length === 2) return { kind: 'public-key', label: 'PUBLIC KEY (DER)' };
  // CSR: SEQUENCE { CertificationRequestInfo SEQUENCE { INTEGER 0, Name, SPKI, [0] attributes }, AlgorithmIdentifier, BIT STRING }
  if (a?.tag === 0x30 && b?.tag === 0x30 && c?.tag === 0x03) {
    try {
      const info = tlvChildren(a);
      if (info.length === 4 && info[0]?.tag === 0x02 && info[3]?.tag === 0xa0) return { kind: 'csr', label: 'CERTIFICATE REQUEST (DER)' };
    } catch {
      // not a CSR
    }
    return undefined;
  }
  if (a?.tag === 0x02) {
    for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
      try {
        createPrivateKey({ key: der, format: 'der', type });
        return { kind: 'key', source: { form: 'der', der, type, encrypted: false, label: `PRIVATE KEY (DER, ${type.toUpperCase()})` } };
      } catch {
        // try the next form
      }
    }
  }
  return undefined;
}

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

// ---------------------------------------------------------------------------------------------------------------
// Opening keys and PKCS#12.
// ---------------------------------------------------------------------------------------------------------------

export type OpenKeyResult =
  | { ok: true; key: KeyObject; wasEncrypted: boolean }
  | { ok: false; reason: 'needs-passphrase' | 'wrong-passphrase' | 'corrupt' | 'unsupported'; detail: string };

function normalizePassphrase(p: string | undefined): string | undefined {
  return p === undefined || p === '' ? undefined : p;
}

export function openPrivateKey(source: KeySource, passphrase?: string): OpenKeyResult {
  const pass = normalizePassphrase(passphrase);
  if (source.encrypted && pass === undefined) {
    return { ok: false, reason: 'needs-passphrase', detail: 'the key is encrypted and no passphrase was given' };
  }
  try {
    const key =
      source.form === 'pem'
        ? createPrivateKey(pass !== undefined ? { key: source.text, passphrase: pass } : { key: source.text })
        : createPrivateKey({ key: source.der, format: 'der', type: source.type, ...(pass !== undefined ? { passphrase: pass } : {}) });
    return { ok: true, key, wasEncrypted: source.encrypted };
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ERR_MISSING_PASSPHRASE') {
      return { ok: false, reason: 'needs-passphrase', detail: 'the key is encrypted and no passphrase was given' };
    }
    if (source.encrypted) {
      return { ok: false, reason: 'wrong-passphrase', detail: shortCryptoMessage(err) };
    }
    const msg = shortCryptoMessage(err);
    if (/unsupported/i.test(msg)) return { ok: false, reason: 'unsupported', detail: msg };
    return { ok: false, reason: 'corrupt', detail: msg };
  }
}

/** OpenSSL error strings without the numeric prefix; never includes key material. */
function shortCryptoMessage(err: unknown): string {
  const msg = errorMessage(err);
  return msg.replace(/^error:[0-9A-F]+:/, '').slice(0, 200);
}

export type OpenPkcs12Result =
  | { ok: true; certs: X509Certificate[]; keys: KeyObject[] }
  | { ok: false; reason: 'needs-passphrase' | 'wrong-passphrase' | 'unsupported'; detail: string };

function forgeBytesToBuffer(bytes: string): Buffer {
  return Buffer.from(bytes, 'binary');
}

/** node-forge is only needed for PKCS#12 bundles: load it then, not at start-up. */
let forgeCache: typeof forgeModule | undefined;
function loadForge(): typeof forgeModule {
  forgeCache ??= createRequire(import.meta.url)('node-forge') as typeof forgeModule;
  return forgeCache;
}

export function openPkcs12(der: Buffer, passphrase?: string): OpenPkcs12Result {
  const forge = loadForge();
  const pass = normalizePassphrase(passphrase);
  let p12: forgeModule.pkcs12.Pkcs12Pfx;
  try {
    const asn = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
    p12 = forge.pkcs12.pkcs12FromAsn1(asn, false, pass ?? '');
  } catch (err) {
    const msg = errorMessage(err);
    if (/MAC could not be verified|wrong password|Invalid password|decrypt/i.test(msg)) {
      return pass === undefined
        ? { ok: false, reason: 'needs-passphrase', detail: 'the PKCS#12 file is protected and no passphrase was given' }
        : { ok: false, reason: 'wrong-passphrase', detail: 'the PKCS#12 integrity check failed with the given passphrase' };
    }
    return { ok: false, reason: 'unsupported', detail: msg.slice(0, 200) };
  }
  const certs: X509Certificate[] = [];
  const keys: KeyObject[] = [];
  try {
    for (const bag of p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? []) {
      const asn = (bag as { asn1?: forgeModule.asn1.Asn1 }).asn1 ?? (bag.cert ? forge.pki.certificateToAsn1(bag.cert) : undefined);
      if (!asn) continue;
      const x = parseCertDer(forgeBytesToBuffer(forge.asn1.toDer(asn).getBytes()));
      if (x) certs.push(x);
    }
    for (const type of [forge.pki.oids.pkcs8ShroudedKeyBag!, forge.pki.oids.keyBag!]) {
      for (const bag of p12.getBags({ bagType: type })[type] ?? []) {
        const raw = (bag as { asn1?: forgeModule.asn1.Asn1 }).asn1;
        if (raw) {
          keys.push(createPrivateKey({ key: forgeBytesToBuffer(forge.asn1.toDer(raw).getBytes()), format: 'der', type: 'pkcs8' }));
        } else if (bag.key) {
          keys.push(createPrivateKey(forge.pki.privateKeyToPem(bag.key)));
        }
      }
    }
  } catch (err) {
    return { ok: false, reason: 'unsupported', detail: errorMessage(err).slice(0, 200) };
  }
  return { ok: true, certs, keys };
}

// ---------------------------------------------------------------------------------------------------------------
// loadDeviceFiles
// ---------------------------------------------------------------------------------------------------------------

async function readGiven(path: string, what: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = errorCode(err);
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : errorMessage(err);
    throw new UsageError(`cannot read the ${what} file given with ${flag} (${path}): ${why}`);
  }
}

function certsToPem(certs: readonly X509Certificate[]): string {
  return certs.map((c) => c.toString()).join('');
}

function keyToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function describeLabels(items: FileItem[]): string {
  const labels = items.map((i) => {
    switch (i.kind) {
      case 'cert':
        return 'CERTIFICATE';
      case 'key':
        return i.source.label;
      case 'pkcs12':
        return 'PKCS#12';
      default:
        return i.label;
    }
  });
  return [...new Set(labels)].join(', ');
}

function keysMatch(a: KeyObject, b: KeyObject): boolean {
  try {
    return publicKeySha256(a) === publicKeySha256(b);
  } catch {
    return false;
  }
}

const PASSPHRASE_HINT =
  'pass the passphrase with --key-passphrase or the IOT_DOCTOR_KEY_PASSPHRASE environment variable';
const P12_CONVERT_HINT =
  'convert it to PEM: openssl pkcs12 -in file.p12 -out cert-and-key.pem -nodes (add -legacy for old files)';
const KEY_PEM_HINT =
  'a PEM file whose BEGIN line names a PRIVATE KEY (PKCS#8, RSA or EC)';
const CERT_PEM_HINT = 'a file starting with -----BEGIN CERTIFICATE-----';
const AMAZON_ROOTS_HINT =
  'use AmazonRootCA1.pem (and AmazonRootCA3.pem) from https://www.amazontrust.com/repository/';

interface FileSlot {
  path: string;
  sniffed: SniffedFile;
}

type AddProblem = (code: string, status: 'fail' | 'warn', message: string, hint?: string) => void;

function problemAdder(problems: DeviceFileProblem[], file: DeviceFileProblem['file'], path: string): AddProblem {
  return (code, status, message, hint) => problems.push({ file, path, code, status, message, ...(hint ? { hint } : {}) });
}

function has(slot: FileSlot | undefined, kind: FileItem['kind']): boolean {
  return !!slot?.sniffed.items.some((i) => i.kind === kind);
}

function itemsOf<K extends FileItem['kind']>(slot: FileSlot, kind: K): Extract<FileItem, { kind: K }>[] {
  return slot.sniffed.items.filter((i): i is Extract<FileItem, { kind: K }> => i.kind === kind);
}

function addP12Problem(add: AddProblem, failure: Extract<OpenPkcs12Result, { ok: false }>): void {
  if (failure.reason === 'needs-passphrase') {
    add('P12_NO_PASSPHRASE', 'fail', 'this PKCS#12 file is protected by a passphrase and none was given', PASSPHRASE_HINT);
  } else if (failure.reason === 'wrong-passphrase') {
    add('P12_PASSPHRASE_WRONG', 'fail', 'the given passphrase does not open this PKCS#12 file (integrity check failed)',
      'check the passphrase; it is the export password of the .p12/.pfx file');
  } else {
    add('P12_UNSUPPORTED', 'fail', `this PKCS#12 file could not be read: ${failure.detail}`, P12_CONVERT_HINT);
  }
}

interface LoadedKey {
  key: KeyObject;
  wasEncrypted: boolean;
  path: string;
}

interface CertFileOutcome {
  cert?: NonNullable<DeviceFiles['cert']>;
  /** A key found in the same file (PKCS#12, or PEM holding certificate and key), used when --key is not given. */
  key?: LoadedKey;
}

function loadCertFile(slot: FileSlot, add: AddProblem, passphrase: string | undefined, swapped: boolean, keyGiven: boolean): CertFileOutcome {
  const { path, sniffed } = slot;
  const out: CertFileOutcome = {};
  let certs: X509Certificate[];
  let format: 'pem' | 'der' | 'pkcs12';
  const p12 = itemsOf(slot, 'pkcs12')[0];
  if (p12) {
    format = 'pkcs12';
    const opened = openPkcs12(p12.der, passphrase);
    if (!opened.ok) {
      addP12Problem(add, opened);
      return out;
    }
    const key = opened.keys[0];
    const leaf = (key && opened.certs.find((c) => keysMatch(c.publicKey, key))) ?? opened.certs.find((c) => !c.ca) ?? opened.certs[0];
    if (!leaf) {
      add('P12_NO_CERTIFICATE', 'fail', 'this PKCS#12 file holds no certificate', P12_CONVERT_HINT);
      return out;
    }
    certs = [leaf, ...opened.certs.filter((c) => c !== leaf)];
    if (key) out.key = { key, wasEncrypted: true, path };
  } else {
    format = sniffed.format === 'der' ? 'der' : 'pem';
    certs = itemsOf(slot, 'cert').map((i) => i.x509);
    if (certs.length === 0) {
      addCertFileContentProblem(slot, add, swapped);
      return out;
    }
    if (format === 'der') {
      add('CERT_FILE_DER', 'warn', 'the certificate is binary DER, not PEM: most AWS IoT SDKs and device stacks expect PEM',
        'convert it: openssl x509 -inform DER -in cert.der -out cert.pem');
    }
    if (has(slot, 'cert-corrupt')) {
      add('CERT_FILE_HAS_INVALID_BLOCKS', 'warn', 'the file holds a CERTIFICATE block that does not decode, besides the readable ones',
        'remove or replace the broken block; some TLS stacks refuse the whole file');
    }
    const keyItem = itemsOf(slot, 'key')[0];
    if (keyItem && !keyGiven) {
      const opened = openPrivateKey(keyItem.source, passphrase);
      if (opened.ok) out.key = { key: opened.key, wasEncrypted: opened.wasEncrypted, path };
    }
  }
  const leaf = certs[0]!;
  out.cert = { path, format, leaf, chain: certs.slice(1), certificateId: certificateIdOf(leaf), pem: certsToPem(certs) };
  return out;
}

/** The certificate file holds no certificate: say what it holds instead. */
function addCertFileContentProblem(slot: FileSlot, add: AddProblem, swapped: boolean): void {
  const { sniffed } = slot;
  if (sniffed.format === 'empty') {
    add('CERT_FILE_EMPTY', 'fail', 'the certificate file is empty', 'point --cert at the device certificate (PEM)');
  } else if (has(slot, 'key')) {
    add('CERT_FILE_HOLDS_PRIVATE_KEY', 'fail',
      swapped
        ? 'this file holds a PRIVATE KEY, expected a CERTIFICATE: the cert and key files are swapped'
        : 'this file holds a PRIVATE KEY, expected a CERTIFICATE: are the cert and key files swapped?',
      'give the device certificate with --cert and its private key with --key');
  } else if (has(slot, 'csr')) {
    add('CERT_FILE_HOLDS_CSR', 'fail', 'this file holds a CERTIFICATE REQUEST (CSR), not a certificate',
      'a CSR must be signed first: use the certificate AWS IoT returned for it (create-certificate-from-csr), or download it from the console');
  } else if (has(slot, 'public-key')) {
    add('CERT_FILE_HOLDS_PUBLIC_KEY', 'fail', 'this file holds a PUBLIC KEY, expected a CERTIFICATE',
      `give the device certificate with --cert (${CERT_PEM_HINT})`);
  } else if (has(slot, 'cert-corrupt')) {
    add('CERT_FILE_CORRUPT', 'fail', 'this file has a CERTIFICATE block that does not decode (broken base64 or DER: truncated or edited?)',
      'download or copy the certificate again; check for missing lines or changed characters');
  } else {
    add('CERT_FILE_JUNK', 'fail',
      sniffed.items.length > 0
        ? `no certificate found: the file holds ${describeLabels(sniffed.items)}`
        : 'no certificate found: the file is neither PEM nor DER',
      `point --cert at the device certificate (${CERT_PEM_HINT})`);
  }
}

function loadKeyFile(slot: FileSlot, add: AddProblem, passphrase: string | undefined, swapped: boolean): LoadedKey | undefined {
  const { path, sniffed } = slot;
  const p12 = itemsOf(slot, 'pkcs12')[0];
  if (p12) {
    const opened = openPkcs12(p12.der, passphrase);
    if (!opened.ok) {
      addP12Problem(add, opened);
      return undefined;
    }
    if (!opened.keys[0]) {
      add('P12_NO_PRIVATE_KEY', 'fail', 'this PKCS#12 file holds no private key', P12_CONVERT_HINT);
      return undefined;
    }
    return { key: opened.keys[0], wasEncrypted: true, path };
  }
  const keyItem = itemsOf(slot, 'key')[0];
  if (!keyItem) {
    addKeyFileContentProblem(slot, add, swapped);
    return undefined;
  }
  const { source } = keyItem;
  const opened = openPrivateKey(source, passphrase);
  if (opened.ok) {
    if (sniffed.format === 'der') {
      add('KEY_FILE_DER', 'warn', 'the private key is binary DER, not PEM: most AWS IoT SDKs and device stacks expect PEM',
        'convert it: openssl pkey -inform DER -in key.der -out key.pem');
    }
    return { key: opened.key, wasEncrypted: opened.wasEncrypted, path };
  }
  switch (opened.reason) {
    case 'needs-passphrase': {
      const legacy = source.form === 'pem' && source.label !== 'ENCRYPTED PRIVATE KEY' ? ', Proc-Type 4,ENCRYPTED' : '';
      add('KEY_ENCRYPTED_NO_PASSPHRASE', 'fail', `the private key is encrypted (${source.label}${legacy}) and no passphrase was given`,
        PASSPHRASE_HINT);
      break;
    }
    case 'wrong-passphrase':
      add('KEY_PASSPHRASE_WRONG', 'fail', 'the private key is encrypted and the given passphrase does not open it',
        'check the passphrase (--key-passphrase or IOT_DOCTOR_KEY_PASSPHRASE)');
      break;
    case 'unsupported':
      add('KEY_UNSUPPORTED', 'fail', `the private key uses a form this system cannot read: ${opened.detail}`,
        'convert it to unencrypted or AES-encrypted PKCS#8: openssl pkcs8 -topk8 -in key.pem -out key-pkcs8.pem');
      break;
    default:
      add('KEY_FILE_CORRUPT', 'fail', `the private key block does not parse: ${opened.detail}`,
        'copy the key file again; check for missing lines or changed characters');
  }
  return undefined;
}

/** The key file holds no private key: say what it holds instead. */
function addKeyFileContentProblem(slot: FileSlot, add: AddProblem, swapped: boolean): void {
  const { sniffed } = slot;
  if (sniffed.format === 'empty') {
    add('KEY_FILE_EMPTY', 'fail', 'the private key file is empty', 'point --key at the device private key (PEM)');
  } else if (has(slot, 'cert')) {
    const what = itemsOf(slot, 'cert').some((c) => c.x509.ca) ? 'a CA CERTIFICATE' : 'a CERTIFICATE';
    add('KEY_FILE_HOLDS_CERTIFICATE', 'fail',
      swapped
        ? `this file holds ${what}, expected a PRIVATE KEY: the cert and key files are swapped`
        : `this file holds ${what}, expected a PRIVATE KEY: are the cert and key files swapped?`,
      `give the device private key with --key (${KEY_PEM_HINT})`);
  } else if (has(slot, 'public-key')) {
    add('KEY_FILE_HOLDS_PUBLIC_KEY', 'fail', 'this file holds a PUBLIC KEY; the device needs the PRIVATE key',
      'give the private key generated together with the certificate (AWS offers it for download only once)');
  } else if (has(slot, 'csr')) {
    add('KEY_FILE_HOLDS_CSR', 'fail', 'this file holds a CERTIFICATE REQUEST (CSR), expected a PRIVATE KEY',
      'give the private key that the CSR was generated from');
  } else if (has(slot, 'key-corrupt')) {
    add('KEY_FILE_CORRUPT', 'fail', 'this file has a PRIVATE KEY block that does not decode (broken base64)',
      'copy the key file again; check for missing lines or changed characters');
  } else if (sniffed.items.some((i) => i.kind === 'other' && i.label === 'OPENSSH PRIVATE KEY')) {
    add('KEY_FILE_OPENSSH', 'fail', 'this is an OpenSSH private key; TLS needs a PEM (PKCS#8 or PKCS#1/SEC1) key',
      'convert a copy of it: ssh-keygen -p -m PKCS8 -f key-copy');
  } else {
    add('KEY_FILE_JUNK', 'fail',
      sniffed.items.length > 0
        ? `no private key found: the file holds ${describeLabels(sniffed.items)}`
        : 'no private key found: the file is neither PEM nor DER',
      `point --key at the device private key (${KEY_PEM_HINT})`);
  }
}

function loadCaFile(slot: FileSlot, add: AddProblem): DeviceFiles['ca'] {
  const { path, sniffed } = slot;
  const certs = itemsOf(slot, 'cert').map((i) => i.x509);
  const holdsKey = has(slot, 'key') || has(slot, 'pkcs12');
  if (sniffed.format === 'empty') {
    add('CA_FILE_EMPTY', 'fail', 'the CA file is empty', AMAZON_ROOTS_HINT);
    return undefined;
  }
  if (certs.length === 0) {
    if (holdsKey) {
      add('CA_FILE_HOLDS_PRIVATE_KEY', 'fail', 'this file holds a PRIVATE KEY, expected CA CERTIFICATES: are --ca and --key mixed up?',
        `give the server trust anchors with --ca: ${AMAZON_ROOTS_HINT.replace(/^use /, '')}`);
    } else {
      add('CA_BUNDLE_JUNK', 'fail',
        sniffed.items.length > 0
          ? `no certificate found in the CA file: it holds ${describeLabels(sniffed.items)}`
          : 'no certificate found in the CA file: it is neither PEM nor DER',
        AMAZON_ROOTS_HINT);
    }
    return undefined;
  }
  if (sniffed.format === 'der') {
    add('CA_FILE_DER', 'warn', 'the CA file is binary DER, not PEM: most AWS IoT SDKs and device stacks expect PEM',
      'convert it: openssl x509 -inform DER -in ca.der -out ca.pem');
  }
  if (has(slot, 'cert-corrupt') || has(slot, 'other') || has(slot, 'key-corrupt')) {
    add('CA_BUNDLE_HAS_INVALID_BLOCKS', 'warn', 'besides the certificates, the CA file holds blocks that are not readable certificates',
      'remove them; some TLS stacks refuse the whole bundle');
  }
  if (holdsKey) {
    add('CA_FILE_HOLDS_PRIVATE_KEY', 'warn', 'the CA file also holds a PRIVATE KEY: a trust bundle should hold certificates only',
      'remove the key from the bundle; if it is a CA signing key it does not belong on a device');
  }
  return { path, certs, pem: certsToPem(certs), isDefault: false };
}

/** Group- or world-readable key file (mode & 0o044): a warning, on POSIX systems only. */
async function checkKeyFileMode(path: string, problems: DeviceFileProblem[]): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const st = await stat(path);
    if ((st.mode & 0o044) === 0) return;
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    problems.push({
      file: 'key',
      path,
      code: 'KEY_FILE_WORLD_READABLE',
      status: 'warn',
      message: `the private key file is readable by other users (mode ${mode})`,
      hint: `restrict it to its owner: chmod 600 ${path}`,
    });
  } catch {
    // The file was just read; a failing stat is not worth a problem of its own.
  }
}

/**
 * A CA certificate in the device slot that is plainly not the device's own (an Amazon root, a certificate also in the
 * CA file, or a self-signed CA whose key is not the device key) means the files were mixed up.
 */
function deviceSlotHoldsCa(creds: DeviceFiles, caFileGiven: boolean): string | undefined {
  const cert = creds.cert;
  if (!cert || !cert.leaf.ca) return undefined;
  const root = matchKnownRoot(cert.leaf);
  if (root) return root.name;
  const inCaFile = caFileGiven && !!creds.ca?.certs.some((c) => certificateIdOf(c) === cert.certificateId);
  const foreignSelfSigned = !!creds.key && !keysMatch(cert.leaf.publicKey, creds.key.object) && isSelfSigned(cert.leaf);
  return inCaFile || foreignSelfSigned ? formatDn(cert.leaf.subject) : undefined;
}

/**
 * Reads and understands the credential files. Throws `UsageError` only when a given path cannot be read; every
 * content problem lands in `problems`. Without `caPath`, the bundled Amazon roots are the CA (`isDefault`).
 */
export async function loadDeviceFiles(files: DeviceFilePaths): Promise<DeviceFiles> {
  const problems: DeviceFileProblem[] = [];
  const creds: DeviceFiles = { problems };
  const passphrase = files.keyPassphrase;
  const slot = async (path: string | undefined, what: string, flag: string): Promise<FileSlot | undefined> =>
    path === undefined ? undefined : { path, sniffed: sniffFile(await readGiven(path, what, flag)) };
  const certFile = await slot(files.certPath, 'certificate', '--cert');
  const keyFile = await slot(files.keyPath, 'private key', '--key');
  const caFile = await slot(files.caPath, 'CA', '--ca');

  const certFileHoldsOnlyKey = has(certFile, 'key') && !has(certFile, 'cert') && !has(certFile, 'pkcs12');
  const keyFileHoldsOnlyCert = has(keyFile, 'cert') && !has(keyFile, 'key') && !has(keyFile, 'pkcs12');
  const swapped = certFileHoldsOnlyKey && keyFileHoldsOnlyCert;

  const fromCertFile = certFile
    ? loadCertFile(certFile, problemAdder(problems, 'cert', certFile.path), passphrase, swapped, !!keyFile)
    : {};
  if (fromCertFile.cert) creds.cert = fromCertFile.cert;

  const fromKeyFile = keyFile ? loadKeyFile(keyFile, problemAdder(problems, 'key', keyFile.path), passphrase, swapped) : undefined;
  const key = keyFile ? fromKeyFile : fromCertFile.key;
  if (key) {
    creds.key = { path: key.path, object: key.key, wasEncrypted: key.wasEncrypted, pem: keyToPem(key.key) };
  }
  const keyBearingPath = keyFile && (has(keyFile, 'key') || has(keyFile, 'pkcs12')) ? keyFile.path : key?.path;
  if (keyBearingPath) await checkKeyFileMode(keyBearingPath, problems);

  if (caFile) {
    const ca = loadCaFile(caFile, problemAdder(problems, 'ca', caFile.path));
    if (ca) creds.ca = ca;
  } else {
    creds.ca = { certs: amazonRootCertificates(), pem: AMAZON_ROOTS_PEM, isDefault: true };
  }

  const caName = deviceSlotHoldsCa(creds, !!caFile);
  if (caName && creds.cert) {
    problems.push({
      file: 'cert',
      path: creds.cert.path,
      code: 'CERT_FILE_HOLDS_CA',
      status: 'fail',
      message: `this file holds a CA certificate (${caName}), expected the device certificate: are --cert and --ca swapped?`,
      hint: 'give the device certificate (the one AWS IoT issued or registered for this thing) with --cert, and the Amazon root with --ca',
    });
    delete creds.cert;
  }
  return creds;
}
