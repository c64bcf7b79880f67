import { buildResult } from '../src/model/result.js';
import { describeKey } from '../src/probes/pem.js';
import { pkeyCmd, problemResults, problemsFor, type LocalCheck, credentialProblemCodes } from './local-util.js';

const META = { id: 'files.key', title: 'Private key file holds a usable private key' };

/** Every code files.key reports. */
export const FILES_KEY_CODES = ['KEY_FILE_NOT_GIVEN', 'KEY_FILE_OK', ...credentialProblemCodes('key')] as const;

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
        summary: `${describeKey(key.object).label} private key, ${key.wasEncrypted ? 'encrypted and opened with the passphrase' : 'not encrypted'}${from}`,
        evidence,
        reproduce: pkeyCmd(credentials, '-noout'),
      }),
    ];
  },
};
