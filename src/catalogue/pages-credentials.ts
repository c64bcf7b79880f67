/** Catalogue pages of the credential-file codes (src/diagnose/credentials.ts; see types.ts). */
import type { CodePage } from './types.js';

/** Pages of CERT_FILES_SWAPPED and CREDENTIALS_UNUSABLE. */
export const CREDENTIAL_PAGES: readonly CodePage[] = [
  {
    code: 'CERT_FILES_SWAPPED',
    family: 'Files and credentials',
    meaning:
      "The certificate, key and CA files were given in each other's places: a key in the --cert file, a certificate in the --key file, or a CA certificate where the device certificate belongs.",
    decides:
      "files.cert, files.key and files.ca read what each file holds (CERT_FILE_HOLDS_PRIVATE_KEY, KEY_FILE_HOLDS_CERTIFICATE, CERT_FILE_HOLDS_CA, CA_FILE_HOLDS_PRIVATE_KEY). Certain when both files of a pair are in each other's slot; the routes that could not use the client credentials are cited as its consequence.",
    lookAlikes: [
      { code: 'KEY_CERT_MISMATCH', tell: 'there each file holds the right kind of thing, but the key is another one' },
      { code: 'CREDENTIALS_UNUSABLE', tell: 'there a file is unreadable or encrypted, not in the wrong slot' },
      { code: 'WRONG_CA_FILE', tell: 'the device certificate alone in the CA slot is a wrong CA file, not a swap' },
    ],
    remedy: [
      'Give each file in its slot: the device certificate as --cert, its private key as --key, the Amazon root as --ca.',
    ],
    confirm: [
      'grep -- "-----BEGIN" <cert-file> <key-file> <ca-file>',
      'openssl x509 -in <cert-file> -noout -subject -issuer',
    ],
  },
  {
    code: 'CREDENTIALS_UNUSABLE',
    family: 'Files and credentials',
    meaning:
      'A credential file cannot be used as given: an encrypted key without its passphrase, a file that is not PEM, DER or PKCS#12, an unreadable PKCS#12, or a file larger than any credential.',
    decides:
      'A files.cert, files.key or files.ca result fails for a reason other than a swap; the routes that then have no usable client credentials (NO_CLIENT_CREDENTIALS, TLS_CLIENT_CREDENTIALS_UNUSABLE) are cited as its consequence.',
    lookAlikes: [
      { code: 'CERT_FILES_SWAPPED', tell: 'there the files are fine, only in the wrong slots' },
      { code: 'KEY_CERT_MISMATCH', tell: "there both files load, but the key is not the certificate's" },
    ],
    remedy: [
      'Follow the first hint of the failing files.* check (decrypt the key, convert the format, or name the right file).',
      'Decrypt an encrypted key for the device: openssl pkey -in <key> -out <plain-key> (keep it protected).',
    ],
    confirm: ['openssl pkey -in <key-file> -noout', 'openssl x509 -in <cert-file> -noout -subject'],
  },
];
