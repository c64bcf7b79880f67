/**
 * The content problems of the device files: what a cert, key or CA file holds instead of what it should, with the
 * stable codes the `files.*` checks report (see `DeviceFileProblem`).
 */
import type { DeviceFileProblem } from '../device-files.js';
import type { OpenPkcs12Result } from './pkcs12.js';
import type { FileItem, SniffedFile } from './sniff.js';

/**
 * A PEM label as shown to a user: `PRIVATE KEY` in lower case (`ENCRYPTED private key`), since the upper-case
 * phrase is what secret scanners look for in logs and reports, and no output of iot-doctor holds a key.
 */
export function shownLabel(label: string): string {
  return label.replace(/PRIVATE KEY/g, 'private key');
}

/** The distinct kinds of blocks in a file, comma-separated, for a "the file holds …" message. */
export function describeLabels(items: FileItem[]): string {
  const labels = items.map((i) => {
    switch (i.kind) {
      case 'cert':
        return 'CERTIFICATE';
      case 'key':
        return shownLabel(i.source.label);
      case 'pkcs12':
        return 'PKCS#12';
      default:
        return shownLabel(i.label);
    }
  });
  return [...new Set(labels)].join(', ');
}

/** Hints shared by the problems of several files. */
export const PASSPHRASE_HINT =
  'pass the passphrase with --key-passphrase or the IOT_DOCTOR_KEY_PASSPHRASE environment variable';
export const P12_CONVERT_HINT =
  'convert it to PEM: openssl pkcs12 -in file.p12 -out cert-and-key.pem -nodes (add -legacy for old files)';
export const KEY_PEM_HINT = 'a PEM file whose BEGIN line names a private key (PKCS#8, RSA or EC)';
export const CERT_PEM_HINT = 'a file starting with -----BEGIN CERTIFICATE-----';
export const AMAZON_ROOTS_HINT =
  'use AmazonRootCA1.pem (and AmazonRootCA3.pem) from https://www.amazontrust.com/repository/';

/** A given file and what `sniffFile` found in it. */
export interface FileSlot {
  path: string;
  sniffed: SniffedFile;
}

/** Records one problem of the current file (see `problemAdder`). */
export type AddProblem = (code: string, status: 'fail' | 'warn', message: string, hint?: string) => void;

/** An `AddProblem` that appends to `problems`, tagged with the file (`cert`/`key`/`ca`) and its path. */
export function problemAdder(problems: DeviceFileProblem[], file: DeviceFileProblem['file'], path: string): AddProblem {
  return (code, status, message, hint) =>
    problems.push({ file, path, code, status, message, ...(hint ? { hint } : {}) });
}

/** True when the file was given and holds at least one item of this kind. */
export function has(slot: FileSlot | undefined, kind: FileItem['kind']): boolean {
  return !!slot?.sniffed.items.some((i) => i.kind === kind);
}

/** The items of one kind in a file, in file order, typed by kind. */
export function itemsOf<K extends FileItem['kind']>(slot: FileSlot, kind: K): Extract<FileItem, { kind: K }>[] {
  return slot.sniffed.items.filter((i): i is Extract<FileItem, { kind: K }> => i.kind === kind);
}

/** Records why a PKCS#12 bundle did not open: P12_NO_PASSPHRASE, P12_PASSPHRASE_WRONG or P12_UNSUPPORTED. */
export function addP12Problem(add: AddProblem, failure: Extract<OpenPkcs12Result, { ok: false }>): void {
  if (failure.reason === 'needs-passphrase') {
    add(
      'P12_NO_PASSPHRASE',
      'fail',
      'this PKCS#12 file is protected by a passphrase and none was given',
      PASSPHRASE_HINT,
    );
  } else if (failure.reason === 'wrong-passphrase') {
    add(
      'P12_PASSPHRASE_WRONG',
      'fail',
      'the given passphrase does not open this PKCS#12 file (integrity check failed)',
      'check the passphrase; it is the export password of the .p12/.pfx file',
    );
  } else {
    add('P12_UNSUPPORTED', 'fail', `this PKCS#12 file could not be read: ${failure.detail}`, P12_CONVERT_HINT);
  }
}

/**
 * The certificate file holds no certificate: records what it holds instead (CERT_FILE_EMPTY, …_HOLDS_PRIVATE_KEY,
 * …_HOLDS_CSR, …_HOLDS_PUBLIC_KEY, …_CORRUPT or …_JUNK); `swapped` says the key file holds the certificate.
 */
export function addCertFileContentProblem(slot: FileSlot, add: AddProblem, swapped: boolean): void {
  const { sniffed } = slot;
  if (sniffed.format === 'empty') {
    add('CERT_FILE_EMPTY', 'fail', 'the certificate file is empty', 'point --cert at the device certificate (PEM)');
  } else if (has(slot, 'key')) {
    add(
      'CERT_FILE_HOLDS_PRIVATE_KEY',
      'fail',
      swapped
        ? 'this file holds a private key, expected a CERTIFICATE: the cert and key files are swapped'
        : 'this file holds a private key, expected a CERTIFICATE: are the cert and key files swapped?',
      'give the device certificate with --cert and its private key with --key',
    );
  } else if (has(slot, 'csr')) {
    add(
      'CERT_FILE_HOLDS_CSR',
      'fail',
      'this file holds a CERTIFICATE REQUEST (CSR), not a certificate',
      'a CSR must be signed first: use the certificate AWS IoT returned for it (create-certificate-from-csr), ' +
        'or download it from the console',
    );
  } else if (has(slot, 'public-key')) {
    add(
      'CERT_FILE_HOLDS_PUBLIC_KEY',
      'fail',
      'this file holds a PUBLIC KEY, expected a CERTIFICATE',
      `give the device certificate with --cert (${CERT_PEM_HINT})`,
    );
  } else if (has(slot, 'cert-corrupt')) {
    add(
      'CERT_FILE_CORRUPT',
      'fail',
      'this file has a CERTIFICATE block that does not decode (broken base64 or DER: truncated or edited?)',
      'download or copy the certificate again; check for missing lines or changed characters',
    );
  } else {
    add(
      'CERT_FILE_JUNK',
      'fail',
      sniffed.items.length > 0
        ? `no certificate found: the file holds ${describeLabels(sniffed.items)}`
        : 'no certificate found: the file is neither PEM nor DER',
      `point --cert at the device certificate (${CERT_PEM_HINT})`,
    );
  }
}

/**
 * The key file holds no private key: records what it holds instead (KEY_FILE_EMPTY, …_HOLDS_CERTIFICATE,
 * …_HOLDS_PUBLIC_KEY, …_HOLDS_CSR, …_CORRUPT, …_OPENSSH or …_JUNK); `swapped` as for the certificate file.
 */
export function addKeyFileContentProblem(slot: FileSlot, add: AddProblem, swapped: boolean): void {
  const { sniffed } = slot;
  if (sniffed.format === 'empty') {
    add('KEY_FILE_EMPTY', 'fail', 'the private key file is empty', 'point --key at the device private key (PEM)');
  } else if (has(slot, 'cert')) {
    const what = itemsOf(slot, 'cert').some((c) => c.x509.ca) ? 'a CA CERTIFICATE' : 'a CERTIFICATE';
    add(
      'KEY_FILE_HOLDS_CERTIFICATE',
      'fail',
      swapped
        ? `this file holds ${what}, expected a private key: the cert and key files are swapped`
        : `this file holds ${what}, expected a private key: are the cert and key files swapped?`,
      `give the device private key with --key (${KEY_PEM_HINT})`,
    );
  } else if (has(slot, 'public-key')) {
    add(
      'KEY_FILE_HOLDS_PUBLIC_KEY',
      'fail',
      'this file holds a PUBLIC KEY; the device needs the PRIVATE key',
      'give the private key generated together with the certificate (AWS offers it for download only once)',
    );
  } else if (has(slot, 'csr')) {
    add(
      'KEY_FILE_HOLDS_CSR',
      'fail',
      'this file holds a CERTIFICATE REQUEST (CSR), expected a private key',
      'give the private key that the CSR was generated from',
    );
  } else if (has(slot, 'key-corrupt')) {
    add(
      'KEY_FILE_CORRUPT',
      'fail',
      'this file has a private key block that does not decode (broken base64)',
      'copy the key file again; check for missing lines or changed characters',
    );
  } else if (sniffed.items.some((i) => i.kind === 'other' && i.label === 'OPENSSH PRIVATE KEY')) {
    add(
      'KEY_FILE_OPENSSH',
      'fail',
      'this is an OpenSSH private key; TLS needs a PEM (PKCS#8 or PKCS#1/SEC1) key',
      'convert a copy of it: ssh-keygen -p -m PKCS8 -f key-copy',
    );
  } else {
    add(
      'KEY_FILE_JUNK',
      'fail',
      sniffed.items.length > 0
        ? `no private key found: the file holds ${describeLabels(sniffed.items)}`
        : 'no private key found: the file is neither PEM nor DER',
      `point --key at the device private key (${KEY_PEM_HINT})`,
    );
  }
}
