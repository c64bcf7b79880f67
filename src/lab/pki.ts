/**
 * A small certificate factory for the lab and the tests: CAs, server and device certificates, RSA or EC, with any
 * validity window. X.509 structures are built with node-forge's ASN.1 encoder and signed with node:crypto, so EC
 * keys (which forge's own certificate code cannot handle) work the same way as RSA.
 */
import {
  createHash,
  generateKeyPairSync,
  randomBytes,
  sign as cryptoSign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

export type KeyType = 'rsa' | 'ec' | 'ec384';

export interface IssueOptions {
  commonName: string;
  organization?: string;
  /** DNS names or IP addresses for subjectAltName. */
  sans?: string[];
  keyType?: KeyType;
  rsaBits?: number;
  isCA?: boolean;
  extKeyUsage?: ('serverAuth' | 'clientAuth')[];
  notBefore?: Date;
  notAfter?: Date;
  /** Signing CA; the certificate is self-signed when absent. */
  issuer?: Issued;
  /** Reuse an existing key pair instead of generating one. */
  keyPair?: { privateKey: KeyObject; publicKey: KeyObject };
}

export interface Issued {
  cert: X509Certificate;
  certPem: string;
  der: Buffer;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** PKCS#8 PEM of the private key. In memory only: callers decide where (if anywhere) it is written. */
  keyPem: string;
  /** AWS IoT certificate id: lowercase hex SHA-256 of the DER. */
  certificateId: string;
  subjectDer: Asn1;
  keyType: KeyType;
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

const bin = (b: Buffer): string => b.toString('binary');
const seq = (items: Asn1[]): Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
const oid = (id: string): Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(id).getBytes());
const octets = (b: string): Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, b);
const bool = (v: boolean): Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BOOLEAN, false, v ? '\xff' : '\x00');
const der = (a: Asn1): string => asn1.toDer(a).getBytes();

function name(commonName: string, organization?: string): Asn1 {
  const rdn = (id: string, value: string): Asn1 =>
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [
      seq([oid(id), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTF8, false, forge.util.encodeUtf8(value))]),
    ]);
  const rdns: Asn1[] = [];
  if (organization) rdns.push(rdn(OID.organization, organization));
  rdns.push(rdn(OID.commonName, commonName));
  return seq(rdns);
}

function time(d: Date): Asn1 {
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(d))
    : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d));
}

function extension(id: string, critical: boolean, value: Asn1): Asn1 {
  const parts = [oid(id)];
  if (critical) parts.push(bool(true));
  parts.push(octets(der(value)));
  return seq(parts);
}

/** KeyUsage bits, named by their RFC 5280 bit number. */
function keyUsage(bits: number[]): Asn1 {
  let mask = 0;
  for (const b of bits) mask |= 0x80 >> b;
  const highest = Math.max(...bits);
  const unused = 7 - highest;
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, String.fromCharCode(unused, mask));
}

function generalNames(sans: string[]): Asn1 {
  return seq(
    sans.map((san) => {
      if (isIP(san)) {
        const bytes = isIP(san) === 4 ? Buffer.from(san.split('.').map(Number)) : ipv6Bytes(san);
        return asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, bin(bytes));
      }
      return asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, san);
    }),
  );
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const parse = (s: string | undefined): number[] => (s ? s.split(':').map((h) => parseInt(h, 16)) : []);
  const h = parse(head);
  const t = parse(tail);
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  const buf = Buffer.alloc(16);
  groups.forEach((g, i) => buf.writeUInt16BE(g, i * 2));
  return buf;
}

function keyIdentifier(publicKey: KeyObject): string {
  return bin(
    createHash('sha1')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest(),
  );
}

/** A new key pair: RSA of `rsaBits` (default 2048), EC P-256 ('ec') or EC P-384 ('ec384'). */
export function generateKeyPair(
  keyType: KeyType = 'rsa',
  rsaBits = 2048,
): { privateKey: KeyObject; publicKey: KeyObject } {
  if (keyType === 'rsa') return generateKeyPairSync('rsa', { modulusLength: rsaBits });
  return generateKeyPairSync('ec', { namedCurve: keyType === 'ec' ? 'prime256v1' : 'secp384r1' });
}

function signatureAlgorithm(signer: Issued | { keyType: KeyType }): { oid: string; hash: string; params: boolean } {
  if (signer.keyType === 'rsa') return { oid: OID.sha256WithRSA, hash: 'sha256', params: true };
  if (signer.keyType === 'ec384') return { oid: OID.ecdsaSha384, hash: 'sha384', params: false };
  return { oid: OID.ecdsaSha256, hash: 'sha256', params: false };
}

function keyTypeOf(key: KeyObject): KeyType {
  if (key.asymmetricKeyType === 'rsa') return 'rsa';
  return key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ec384' : 'ec';
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Builds and signs an X.509 v3 certificate (RFC 5280) with node:crypto: self-signed unless `opts.issuer` is given;
 * valid from an hour ago by default. The certificate id is the SHA-256 of the DER (facts §5).
 */
export function issueCertificate(opts: IssueOptions): Issued {
  const keyPair = opts.keyPair ?? generateKeyPair(opts.keyType ?? 'rsa', opts.rsaBits);
  const keyType = keyTypeOf(keyPair.privateKey);
  const notBefore = opts.notBefore ?? new Date(Date.now() - HOUR);
  const notAfter = opts.notAfter ?? new Date(Date.now() + 365 * DAY);
  const subject = name(opts.commonName, opts.organization);
  const issuer = opts.issuer;
  const signerKey = issuer ? issuer.privateKey : keyPair.privateKey;
  const alg = signatureAlgorithm(issuer ?? { keyType });
  const nullParams = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '');
  const algId = seq(alg.params ? [oid(alg.oid), nullParams] : [oid(alg.oid)]);

  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  if (serial[0] === 0) serial[0] = 1;

  const extensions: Asn1[] = [];
  if (opts.isCA) {
    extensions.push(extension(OID.basicConstraints, true, seq([bool(true)])));
    extensions.push(extension(OID.keyUsage, true, keyUsage([0, 5, 6])));
  } else {
    extensions.push(extension(OID.basicConstraints, true, seq([])));
    extensions.push(extension(OID.keyUsage, true, keyUsage(keyType === 'rsa' ? [0, 2] : [0])));
    const eku = opts.extKeyUsage ?? ['serverAuth', 'clientAuth'];
    if (eku.length > 0) extensions.push(extension(OID.extKeyUsage, false, seq(eku.map((u) => oid(OID[u])))));
  }
  if (opts.sans && opts.sans.length > 0) extensions.push(extension(OID.subjectAltName, false, generalNames(opts.sans)));
  extensions.push(extension(OID.subjectKeyId, false, octets(keyIdentifier(keyPair.publicKey))));
  const authorityKey = issuer ? issuer.publicKey : keyPair.publicKey;
  extensions.push(
    extension(
      OID.authorityKeyId,
      false,
      seq([asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, keyIdentifier(authorityKey))]),
    ),
  );

  const spki = asn1.fromDer(forge.util.createBuffer(bin(keyPair.publicKey.export({ type: 'spki', format: 'der' }))));
  const tbs = seq([
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, String.fromCharCode(2)),
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, bin(serial)),
    algId,
    issuer ? issuer.subjectDer : subject,
    seq([time(notBefore), time(notAfter)]),
    subject,
    spki,
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [seq(extensions)]),
  ]);
  const tbsDer = Buffer.from(der(tbs), 'binary');
  const signature = cryptoSign(alg.hash, tbsDer, signerKey);
  const certAsn1 = seq([
    tbs,
    algId,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + bin(signature)),
  ]);
  const certDer = Buffer.from(der(certAsn1), 'binary');
  const cert = new X509Certificate(certDer);
  return {
    cert,
    certPem: cert.toString(),
    der: certDer,
    privateKey: keyPair.privateKey,
    publicKey: keyPair.publicKey,
    keyPem: keyPair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificateId: createHash('sha256').update(certDer).digest('hex'),
    subjectDer: subject,
    keyType,
  };
}

/** A self-signed CA certificate, valid ten years by default. */
export function createCA(commonName: string, opts: Omit<IssueOptions, 'commonName' | 'isCA'> = {}): Issued {
  const notAfter = opts.notAfter ?? new Date(Date.now() + 3650 * DAY);
  return issueCertificate({ ...opts, commonName, isCA: true, notAfter });
}

/** A serverAuth leaf for `hostnames` (CN = the first, all in the SAN), signed by `ca`, of `ca`'s key type. */
export function issueServerCertificate(ca: Issued, hostnames: string[], opts: Partial<IssueOptions> = {}): Issued {
  return issueCertificate({
    commonName: hostnames[0] ?? 'localhost',
    sans: hostnames,
    extKeyUsage: ['serverAuth'],
    keyType: ca.keyType,
    ...opts,
    issuer: ca,
  });
}

/** A clientAuth leaf with CN `commonName`, signed by `ca`, of `ca`'s key type. */
export function issueDeviceCertificate(ca: Issued, commonName: string, opts: Partial<IssueOptions> = {}): Issued {
  return issueCertificate({ commonName, extKeyUsage: ['clientAuth'], keyType: ca.keyType, ...opts, issuer: ca });
}

export const DAY_MS = DAY;
