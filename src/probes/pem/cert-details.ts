/**
 * Certificate details that node:crypto does not expose (key usage, extended key usage, signature algorithm, exact
 * validity dates), read from the DER per RFC 5280 §4.1, plus issuer checks and the AWS IoT certificate id.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { decodeOid, decodeTime, readTlv, tlvChildren, tlvContent } from './der.js';

/** Object identifiers of the X.509 extensions and key purposes the checks read (RFC 5280 §4.2.1.3, §4.2.1.12). */
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

/** What `certDetails` reads from a certificate beyond node:crypto (RFC 5280 §4.1). */
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

/**
 * Parses what node:crypto leaves out: signature algorithm, exact notBefore/notAfter, keyUsage bits and extended key
 * usages (RFC 5280 §4.1, §4.2.1.3, §4.2.1.12). Cached per certificate object. Throws only on a DER that
 * X509Certificate itself would not have accepted.
 */
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

/**
 * True when the certificate names itself as issuer and its own public key verifies its signature (RFC 5280 §6.1's
 * self-signed). Never throws: an unverifiable signature counts as false.
 */
export function isSelfSigned(cert: X509Certificate): boolean {
  try {
    return cert.checkIssued(cert) && cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

/**
 * True when `cert` names `issuer` as its issuer and `issuer`'s public key verifies its signature. Never throws.
 */
export function isIssuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * The AWS IoT certificate id (facts §5): the lowercase hex SHA-256 of the certificate's DER, 64 characters, the
 * same as `openssl x509 -noout -fingerprint -sha256` without colons, lowercased.
 */
export function certificateIdOf(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('hex');
}

/** "CN=foo, O=bar" from node's multi-line DN form (`X509Certificate.subject` / `.issuer`). */
export function formatDn(dn: string): string {
  return dn
    .split('\n')
    .filter((l) => l.length > 0)
    .join(', ');
}

/** Parses one DER certificate (RFC 5280); undefined when node:crypto does not accept it. Never throws. */
export function parseCertDer(der: Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}
