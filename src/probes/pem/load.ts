/**
 * `loadDeviceFiles`: reads the device certificate, private key and CA bundle once per run and understands them.
 *
 * Reading is the only I/O here. A path that was given but cannot be read is a usage error; anything wrong with the
 * content is recorded in `problems` (see `src/probes/device-files.ts`). Nothing in this module ever prints or returns
 * key material except the in-memory `key.pem`/`key.object` the TLS stage needs.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { AMAZON_ROOTS_PEM } from '../../assets/amazon-roots.js';
import { readCredentialFile } from '../../input-file.js';
import type { DeviceFilePaths, DeviceFileProblem, DeviceFiles } from '../device-files.js';
import { certificateIdOf, formatDn, isSelfSigned } from './cert-details.js';
import { openPrivateKey, publicKeySha256 } from './keys.js';
import { amazonRootCertificates, matchKnownRoot } from './known-roots.js';
import { openPkcs12 } from './pkcs12.js';
import {
  addCertFileContentProblem,
  addKeyFileContentProblem,
  addP12Problem,
  AMAZON_ROOTS_HINT,
  describeLabels,
  has,
  itemsOf,
  P12_CONVERT_HINT,
  PASSPHRASE_HINT,
  problemAdder,
} from './problems.js';
import type { AddProblem, FileSlot } from './problems.js';
import { shownLabel } from './problems.js';
import { sniffFile } from './sniff.js';

function certsToPem(certs: readonly X509Certificate[]): string {
  return certs.map((c) => c.toString()).join('');
}

function keyToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function keysMatch(a: KeyObject, b: KeyObject): boolean {
  try {
    return publicKeySha256(a) === publicKeySha256(b);
  } catch {
    return false;
  }
}

interface LoadedKey {
  key: KeyObject;
  wasEncrypted: boolean;
  path: string;
  /** From a PKCS#12 bundle that opens with the empty password. */
  emptyPassword?: boolean;
  /** From a PKCS#12 bundle encrypted with RC2/RC4 (`openssl pkcs12 -legacy`). */
  legacyCipher?: boolean;
}

interface CertFileOutcome {
  cert?: NonNullable<DeviceFiles['cert']>;
  /** A key found in the same file (PKCS#12, or PEM holding certificate and key), used when --key is not given. */
  key?: LoadedKey;
}

/** A key out of a PKCS#12 bundle: encrypted only when it took the user's passphrase to open. */
function p12Key(key: KeyObject, opened: { emptyPassword: boolean; legacyCipher: boolean }, path: string): LoadedKey {
  const { emptyPassword, legacyCipher } = opened;
  return {
    key,
    wasEncrypted: !emptyPassword,
    path,
    ...(emptyPassword ? { emptyPassword } : {}),
    ...(legacyCipher ? { legacyCipher } : {}),
  };
}

function loadCertFile(
  slot: FileSlot,
  add: AddProblem,
  passphrase: string | undefined,
  swapped: boolean,
  keyGiven: boolean,
): CertFileOutcome {
  const { path, sniffed } = slot;
  const out: CertFileOutcome = {};
  let certs: X509Certificate[];
  let format: 'pem' | 'der' | 'pkcs12';
  let p12Flags: { emptyPassword?: true; legacyCipher?: true } = {};
  const p12 = itemsOf(slot, 'pkcs12')[0];
  if (p12) {
    format = 'pkcs12';
    const opened = openPkcs12(p12.der, passphrase);
    if (!opened.ok) {
      addP12Problem(add, opened);
      return out;
    }
    const key = opened.keys[0];
    const leaf =
      (key && opened.certs.find((c) => keysMatch(c.publicKey, key))) ??
      opened.certs.find((c) => !c.ca) ??
      opened.certs[0];
    if (!leaf) {
      add('P12_NO_CERTIFICATE', 'fail', 'this PKCS#12 file holds no certificate', P12_CONVERT_HINT);
      return out;
    }
    certs = [leaf, ...opened.certs.filter((c) => c !== leaf)];
    if (key) out.key = p12Key(key, opened, path);
    p12Flags = {
      ...(opened.emptyPassword ? { emptyPassword: true } : {}),
      ...(opened.legacyCipher ? { legacyCipher: true } : {}),
    };
  } else {
    format = sniffed.format === 'der' ? 'der' : 'pem';
    certs = itemsOf(slot, 'cert').map((i) => i.x509);
    if (certs.length === 0) {
      addCertFileContentProblem(slot, add, swapped);
      return out;
    }
    if (format === 'der') {
      add(
        'CERT_FILE_DER',
        'warn',
        'the certificate is binary DER, not PEM: most AWS IoT SDKs and device stacks expect PEM',
        'convert it: openssl x509 -inform DER -in cert.der -out cert.pem',
      );
    }
    if (has(slot, 'cert-corrupt')) {
      add(
        'CERT_FILE_HAS_INVALID_BLOCKS',
        'warn',
        'the file holds a CERTIFICATE block that does not decode, besides the readable ones',
        'remove or replace the broken block; some TLS stacks refuse the whole file',
      );
    }
    const keyItem = itemsOf(slot, 'key')[0];
    if (keyItem && !keyGiven) {
      const opened = openPrivateKey(keyItem.source, passphrase);
      if (opened.ok) out.key = { key: opened.key, wasEncrypted: opened.wasEncrypted, path };
    }
  }
  const leaf = certs[0]!;
  out.cert = {
    path,
    format,
    leaf,
    chain: certs.slice(1),
    certificateId: certificateIdOf(leaf),
    pem: certsToPem(certs),
    ...p12Flags,
  };
  return out;
}

function loadKeyFile(
  slot: FileSlot,
  add: AddProblem,
  passphrase: string | undefined,
  swapped: boolean,
): LoadedKey | undefined {
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
    return p12Key(opened.keys[0], opened, path);
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
      add(
        'KEY_FILE_DER',
        'warn',
        'the private key is binary DER, not PEM: most AWS IoT SDKs and device stacks expect PEM',
        'convert it: openssl pkey -inform DER -in key.der -out key.pem',
      );
    }
    return { key: opened.key, wasEncrypted: opened.wasEncrypted, path };
  }
  switch (opened.reason) {
    case 'needs-passphrase': {
      const legacy = source.form === 'pem' && source.label !== 'ENCRYPTED PRIVATE KEY' ? ', Proc-Type 4,ENCRYPTED' : '';
      add(
        'KEY_ENCRYPTED_NO_PASSPHRASE',
        'fail',
        `the private key is encrypted (${shownLabel(source.label)}${legacy}) and no passphrase was given`,
        PASSPHRASE_HINT,
      );
      break;
    }
    case 'wrong-passphrase':
      add(
        'KEY_PASSPHRASE_WRONG',
        'fail',
        'the private key is encrypted and the given passphrase does not open it',
        'check the passphrase (--key-passphrase or IOT_DOCTOR_KEY_PASSPHRASE)',
      );
      break;
    case 'unsupported':
      add(
        'KEY_UNSUPPORTED',
        'fail',
        `the private key uses a form this system cannot read: ${opened.detail}`,
        'convert it to unencrypted or AES-encrypted PKCS#8: openssl pkcs8 -topk8 -in key.pem -out key-pkcs8.pem',
      );
      break;
    default:
      add(
        'KEY_FILE_CORRUPT',
        'fail',
        `the private key block does not parse: ${opened.detail}`,
        'copy the key file again; check for missing lines or changed characters',
      );
  }
  return undefined;
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
      add(
        'CA_FILE_HOLDS_PRIVATE_KEY',
        'fail',
        'this file holds a private key, expected CA CERTIFICATES: are --ca and --key mixed up?',
        `give the server trust anchors with --ca: ${AMAZON_ROOTS_HINT.replace(/^use /, '')}`,
      );
    } else {
      add(
        'CA_BUNDLE_JUNK',
        'fail',
        sniffed.items.length > 0
          ? `no certificate found in the CA file: it holds ${describeLabels(sniffed.items)}`
          : 'no certificate found in the CA file: it is neither PEM nor DER',
        AMAZON_ROOTS_HINT,
      );
    }
    return undefined;
  }
  if (sniffed.format === 'der') {
    add(
      'CA_FILE_DER',
      'warn',
      'the CA file is binary DER, not PEM: most AWS IoT SDKs and device stacks expect PEM',
      'convert it: openssl x509 -inform DER -in ca.der -out ca.pem',
    );
  }
  if (has(slot, 'cert-corrupt') || has(slot, 'other') || has(slot, 'key-corrupt')) {
    add(
      'CA_BUNDLE_HAS_INVALID_BLOCKS',
      'warn',
      'besides the certificates, the CA file holds blocks that are not readable certificates',
      'remove them; some TLS stacks refuse the whole bundle',
    );
  }
  if (holdsKey) {
    add(
      'CA_FILE_HOLDS_PRIVATE_KEY',
      'warn',
      'the CA file also holds a private key: a trust bundle should hold certificates only',
      'remove the key from the bundle; if it is a CA signing key it does not belong on a device',
    );
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
 * Reads and understands the device files (`--cert`, `--key`, `--ca`, `--key-passphrase`): certificate as PEM, DER or
 * PKCS#12 (RFC 7468 / RFC 5280 / RFC 7292), key as PEM or DER (PKCS#8, PKCS#1, SEC1, encrypted or not), CA bundle as
 * PEM or DER. The certificate id is computed per facts §5. Without `caPath`, the bundled Amazon roots are the CA
 * (`isDefault`). Without `keyPath`, a key found in the certificate file is used.
 * Throws `UsageError` (exit 2) only when a given path cannot be read; every content problem lands in `problems`.
 */
export async function loadDeviceFiles(files: DeviceFilePaths): Promise<DeviceFiles> {
  const problems: DeviceFileProblem[] = [];
  const creds: DeviceFiles = { problems };
  const passphrase = files.keyPassphrase;
  const slot = async (path: string | undefined, what: string, flag: string): Promise<FileSlot | undefined> =>
    path === undefined ? undefined : { path, sniffed: sniffFile(readCredentialFile(path, what, flag)) };
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

  const fromKeyFile = keyFile
    ? loadKeyFile(keyFile, problemAdder(problems, 'key', keyFile.path), passphrase, swapped)
    : undefined;
  const key = keyFile ? fromKeyFile : fromCertFile.key;
  if (key) {
    creds.key = { path: key.path, object: key.key, wasEncrypted: key.wasEncrypted, pem: keyToPem(key.key) };
    if (key.emptyPassword) creds.key.emptyPassword = true;
    if (key.legacyCipher) creds.key.legacyCipher = true;
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
      message:
        `this file holds a CA certificate (${caName}), expected the device certificate: ` +
        'are --cert and --ca swapped?',
      hint:
        'give the device certificate (the one AWS IoT issued or registered for this thing) with --cert, ' +
        'and the Amazon root with --ca',
    });
    delete creds.cert;
  }
  return creds;
}
