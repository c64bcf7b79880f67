/** The bundled Amazon Trust Services roots (`src/assets/amazon-roots.ts`): recognising them and parsing them. */
import { X509Certificate } from 'node:crypto';
import { AMAZON_ROOTS } from '../../assets/amazon-roots.js';
import { certificateIdOf } from './cert-details.js';
import { publicKeySha256 } from './keys.js';

/** A bundled root that a certificate is, or shares its subject and key with. */
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

/**
 * Which bundled Amazon/Starfield root (facts §2.3) this certificate is (same SHA-256 fingerprint: `exact`), or is a
 * cross-signed form of (same subject and SubjectPublicKeyInfo). Undefined for any other certificate. Never throws.
 */
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

/** The bundled Amazon roots (facts §2.3), parsed, in bundle order: the default `--ca`. */
export function amazonRootCertificates(): X509Certificate[] {
  return AMAZON_ROOTS.map((r) => new X509Certificate(r.pem));
}
