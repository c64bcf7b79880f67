/**
 * The device files' contents: DER reading, certificate details, file sniffing, keys and PKCS#12, loading. The code
 * lives in `src/probes/pem/`; this module is its public surface, so importers need not know the split.
 */
export { decodeOid, readTlv, tlvChildren } from './pem/der.js';
export type { Tlv } from './pem/der.js';
export { certDetails, certificateIdOf, formatDn, isIssuedBy, isSelfSigned, OID } from './pem/cert-details.js';
export type { CertDetails } from './pem/cert-details.js';
export { describeKey, openPrivateKey, publicKeySha256 } from './pem/keys.js';
export type { KeyDescription, OpenKeyResult } from './pem/keys.js';
export { amazonRootCertificates, matchKnownRoot } from './pem/known-roots.js';
export type { KnownRootMatch } from './pem/known-roots.js';
export { parsePemBlocks, sniffFile } from './pem/sniff.js';
export type { FileItem, KeySource, PemBlock, SniffedFile } from './pem/sniff.js';
export { openPkcs12 } from './pem/pkcs12.js';
export type { OpenPkcs12Result } from './pem/pkcs12.js';
export { loadDeviceFiles } from './pem/load.js';
