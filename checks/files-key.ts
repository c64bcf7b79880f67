import { buildResult } from '../src/model/result.js';
import type { DeviceFiles } from '../src/probes/device-files.js';
import { describeKey } from '../src/probes/pem.js';
import { pkeyCmd, problemResults, problemsFor, type LocalCheck, credentialProblemCodes } from './local-util.js';

const META = { id: 'files.key', title: 'Private key file holds a usable private key' };

/** Every code files.key reports. */
export const FILES_KEY_CODES = ['KEY_FILE_NOT_GIVEN', 'KEY_FILE_OK', ...credentialProblemCodes('key')] as const;

/** How the key was protected, as the pass summary says it: a PKCS#12 empty password is not "encrypted". */
function keyProtection(key: NonNullable<DeviceFiles['key']>): string {
  if (key.emptyPassword) return 'in a PKCS#12 file with an empty password (no passphrase needed)';
  return key.wasEncrypted ? 'encrypted and opened with the passphrase' : 'not encrypted';
}

/** files.key: the private key file holds a private key this tool (and the TLS stack) can open. */
export const filesKeyCheck: LocalCheck = {
  ...META,
  family: 'files',
  async run(ctx) {
    const started = performance.now();
    const { credentials } = ctx;
    const key = credentials.key;
    const evidence = key
      ? {
          path: key.path,
          keyType: describeKey(key.object).label,
          encrypted: key.wasEncrypted,
          ...(key.emptyPassword ? { pkcs12EmptyPassword: true } : {}),
          ...(credentials.cert && credentials.cert.path === key.path ? { source: 'certificate file' } : {}),
        }
      : {};
    const problems = problemsFor(credentials, 'key');
    if (problems.length > 0) return problemResults(META, started, problems, evidence);
    if (!key) {
      return [
        buildResult(META, started, {
          status: 'skip',
          code: 'KEY_FILE_NOT_GIVEN',
          summary: 'no private key file given (--key)',
        }),
      ];
    }
    const from = credentials.cert && credentials.cert.path === key.path ? ', taken from the certificate file' : '';
    return [
      buildResult(META, started, {
        status: 'pass',
        code: 'KEY_FILE_OK',
        summary: `${describeKey(key.object).label} private key, ${keyProtection(key)}${from}`,
        evidence,
        reproduce: pkeyCmd(credentials, '-noout'),
      }),
    ];
  },
};
