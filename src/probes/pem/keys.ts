/**
 * Private and public keys: opening a key file's key (PEM per RFC 7468 or DER: PKCS#8, PKCS#1, SEC1), describing it,
 * fingerprinting it. Nothing here returns or prints key material.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { errorCode, errorMessage } from '../../errors.js';
import type { KeySource } from './sniff.js';

/**
 * Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) of a public key, or of the public half
 * of a private key: a safe way to compare or show keys. Throws only when node:crypto cannot export the key.
 */
export function publicKeySha256(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** A key's algorithm and size, safe to show: never key material. */
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

/**
 * Algorithm and size of a key: RSA/RSA-PSS/DSA with modulus bits, EC with the curve's NIST name (P-256, P-384,
 * P-521; other curves by their OpenSSL name), anything else by its type upper-cased. Never throws.
 */
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

/** The outcome of `openPrivateKey`: the key, or why it could not be opened (`detail` is safe to show). */
export type OpenKeyResult =
  | { ok: true; key: KeyObject; wasEncrypted: boolean }
  | { ok: false; reason: 'needs-passphrase' | 'wrong-passphrase' | 'corrupt' | 'unsupported'; detail: string };

/** An empty passphrase counts as none (undefined), as with OpenSSL's prompts. */
export function normalizePassphrase(p: string | undefined): string | undefined {
  return p === undefined || p === '' ? undefined : p;
}

/**
 * Opens a private key found by `sniffFile`: PEM (RFC 7468; PKCS#8, PKCS#1, SEC1, legacy Proc-Type encryption) or
 * DER (PKCS#8 plain or encrypted, PKCS#1, SEC1), with the passphrase when given (empty counts as none).
 * Never throws: a missing or wrong passphrase, an unsupported form or a corrupt key is the `ok: false` outcome, with
 * a short OpenSSL message that holds no key material.
 */
export function openPrivateKey(source: KeySource, passphrase?: string): OpenKeyResult {
  const pass = normalizePassphrase(passphrase);
  if (source.encrypted && pass === undefined) {
    return { ok: false, reason: 'needs-passphrase', detail: 'the key is encrypted and no passphrase was given' };
  }
  try {
    const key =
      source.form === 'pem'
        ? createPrivateKey(pass !== undefined ? { key: source.text, passphrase: pass } : { key: source.text })
        : createPrivateKey({
            key: source.der,
            format: 'der',
            type: source.type,
            ...(pass !== undefined ? { passphrase: pass } : {}),
          });
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
