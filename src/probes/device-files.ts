import type { KeyObject, X509Certificate } from 'node:crypto';

/**
 * The device's three files (client certificate, private key, CA bundle), loaded once per run. Implemented in
 * `src/probes/pem.ts` (`loadDeviceFiles`). Not to be confused with the AWS credentials the cloud checks use, which
 * the SDK's provider chain resolves (`src/probes/iot-api.ts`).
 *
 * Contract:
 * - A path that was given but does not exist or cannot be read throws `UsageError` (exit 2).
 * - Anything wrong with the *content* never throws: it is recorded in `problems`, and the part that could not be
 *   understood is left undefined. The `cert.*` checks turn problems into results.
 * - `pem` fields are ready for `tls.connect({ cert, key, ca })`. The key's PEM is unencrypted PKCS#8 and lives in
 *   memory only: it must never be printed, logged or written to a report.
 */
export interface DeviceFiles {
  cert?: {
    path: string;
    format: 'pem' | 'der' | 'pkcs12';
    leaf: X509Certificate;
    /** Further certificates found in the same file after the leaf (an intermediate chain). */
    chain: X509Certificate[];
    /** AWS IoT certificate id: lowercase hex SHA-256 of the leaf's DER. */
    certificateId: string;
    /** Leaf followed by the chain, PEM. */
    pem: string;
    /** True for a PKCS#12 bundle that opens with the empty password (no passphrase needed). */
    emptyPassword?: boolean;
    /** True for a PKCS#12 bundle encrypted with RC2/RC4, which OpenSSL 3 opens only with `-legacy`. */
    legacyCipher?: boolean;
  };
  key?: {
    path: string;
    object: KeyObject;
    /** True when the file was encrypted and was opened with the passphrase. */
    wasEncrypted: boolean;
    /** True when the key came from a PKCS#12 bundle that opens with the empty password (no passphrase needed). */
    emptyPassword?: boolean;
    /** True when the key came from a PKCS#12 bundle encrypted with RC2/RC4 (`openssl pkcs12 -legacy`). */
    legacyCipher?: boolean;
    pem: string;
  };
  ca?: {
    /** Undefined when the bundled Amazon roots are used because `--ca` was not given. */
    path?: string;
    certs: X509Certificate[];
    pem: string;
    isDefault: boolean;
  };
  problems: DeviceFileProblem[];
}

/** One thing wrong with the content of a device file; the `files.*` / `cert.*` checks turn it into a result. */
export interface DeviceFileProblem {
  file: 'cert' | 'key' | 'ca';
  path?: string;
  /** Stable code, e.g. CERT_FILE_HOLDS_PRIVATE_KEY, KEY_ENCRYPTED_NO_PASSPHRASE, CA_BUNDLE_JUNK. */
  code: string;
  status: 'fail' | 'warn';
  message: string;
  hint?: string;
}

/** Where the device files are (`--cert`, `--key`, `--ca`) and the key's passphrase (`--key-passphrase`), as given. */
export interface DeviceFilePaths {
  certPath?: string;
  keyPath?: string;
  caPath?: string;
  keyPassphrase?: string;
}
