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

/**
 * Opens a PKCS#12 (.p12/.pfx) bundle (RFC 7292): verifies its MAC with the passphrase (empty counts as none) and
 * returns its certificate bags and its (shrouded) key bags as PKCS#8 keys, in file order.
 * Never throws: a failed MAC is `needs-passphrase` (none given) or `wrong-passphrase`; anything node-forge cannot
 * read is `unsupported`. node-forge is loaded on the first call only.
 */
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
  return { ok: true, certs, keys };
}
