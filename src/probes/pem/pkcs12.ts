/** PKCS#12 bundles (RFC 7292), opened with node-forge, which is loaded only when a bundle is met. */
import { createPrivateKey } from 'node:crypto';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import type forgeModule from 'node-forge';
import { errorMessage } from '../../errors.js';
import { parseCertDer } from './cert-details.js';
import { normalizePassphrase } from './keys.js';

/** The outcome of `openPkcs12`: the bundle's certificates and keys, or why it could not be opened. */
export type OpenPkcs12Result =
  | {
      ok: true;
      certs: X509Certificate[];
      keys: KeyObject[];
      /**
       * True when the bundle opened without a passphrase: its MAC (and any encrypted bags) use the empty password
       * (`openssl pkcs12 -export -passout pass:`), or it has no MAC. False when the given passphrase was needed.
       */
      emptyPassword: boolean;
      /** Encrypted with RC2 or RC4 (`-legacy` exports): OpenSSL 3 opens it only with `openssl pkcs12 -legacy`. */
      legacyCipher: boolean;
    }
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

/**
 * Opens a PKCS#12 (.p12/.pfx) bundle (RFC 7292): verifies its MAC with the empty password first (both encodings),
 * then with the passphrase (empty counts as none), and returns its certificate bags and its (shrouded) key bags as
 * PKCS#8 keys, in file order, and whether it opened without a passphrase (`emptyPassword`).
 * Never throws: a failed MAC is `needs-passphrase` (none given) or `wrong-passphrase`; anything node-forge cannot
 * read is `unsupported`. node-forge is loaded on the first call only.
 */
export function openPkcs12(der: Buffer, passphrase?: string): OpenPkcs12Result {
  const forge = loadForge();
  const pass = normalizePassphrase(passphrase);
  let p12: forgeModule.pkcs12.Pkcs12Pfx;
  let emptyPassword = true;
  try {
    const asn = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
    // RFC 7292 B.1: the empty password is either two zero bytes (node-forge's '') or no bytes (its null); OpenSSL's
    // PKCS12_parse tries both before a given passphrase, and so do we, so a bundle exported with `-passout pass:`
    // is never called protected.
    const attempts: (string | null)[] = ['', null, ...(pass !== undefined ? [pass] : [])];
    let opened: forgeModule.pkcs12.Pkcs12Pfx | undefined;
    let lastError: unknown;
    for (const attempt of attempts) {
      try {
        opened = forge.pkcs12.pkcs12FromAsn1(asn, false, attempt as string);
        emptyPassword = attempt !== pass;
        break;
      } catch (err) {
        lastError = err;
        if (!isPasswordError(err)) break;
      }
    }
    if (!opened) throw lastError;
    p12 = opened;
  } catch (err) {
    const msg = errorMessage(err);
    if (isPasswordError(err)) {
      return pass === undefined
        ? { ok: false, reason: 'needs-passphrase', detail: 'the PKCS#12 file is protected and no passphrase was given' }
        : {
            ok: false,
            reason: 'wrong-passphrase',
            detail: 'the PKCS#12 integrity check failed with the given passphrase',
          };
    }
    return { ok: false, reason: 'unsupported', detail: msg.slice(0, 200) };
  }
  const certs: X509Certificate[] = [];
  const keys: KeyObject[] = [];
  try {
    for (const bag of p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? []) {
      const asn =
        (bag as { asn1?: forgeModule.asn1.Asn1 }).asn1 ??
        (bag.cert ? forge.pki.certificateToAsn1(bag.cert) : undefined);
      if (!asn) continue;
      const x = parseCertDer(forgeBytesToBuffer(forge.asn1.toDer(asn).getBytes()));
      if (x) certs.push(x);
    }
    for (const type of [forge.pki.oids.pkcs8ShroudedKeyBag!, forge.pki.oids.keyBag!]) {
      for (const bag of p12.getBags({ bagType: type })[type] ?? []) {
        const raw = (bag as { asn1?: forgeModule.asn1.Asn1 }).asn1;
        if (raw) {
          keys.push(
            createPrivateKey({
              key: forgeBytesToBuffer(forge.asn1.toDer(raw).getBytes()),
              format: 'der',
              type: 'pkcs8',
            }),
          );
        } else if (bag.key) {
          keys.push(createPrivateKey(forge.pki.privateKeyToPem(bag.key)));
        }
      }
    }
  } catch (err) {
    return { ok: false, reason: 'unsupported', detail: errorMessage(err).slice(0, 200) };
  }
  return { ok: true, certs, keys, emptyPassword, legacyCipher: usesLegacyCipher(der) };
}

/**
 * The PKCS#12 PBE algorithms OpenSSL 3 moved to its legacy provider (RFC 7292 Appendix C: pbeWithSHAAnd128BitRC4,
 * …40BitRC4, …128BitRC2-CBC, …40BitRC2-CBC = 1.2.840.113549.1.12.1.{1,2,5,6}), as DER OID bytes.
 */
const LEGACY_PBE_OIDS = [1, 2, 5, 6].map((n) =>
  Buffer.from([0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, n]),
);

function usesLegacyCipher(der: Buffer): boolean {
  return LEGACY_PBE_OIDS.some((oid) => der.includes(oid));
}

function isPasswordError(err: unknown): boolean {
  return /MAC could not be verified|wrong password|Invalid password|decrypt/i.test(errorMessage(err));
}
