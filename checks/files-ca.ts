import { buildResult } from '../src/model/result.js';
import { AMAZON_ROOTS } from '../src/assets/amazon-roots.js';
import { problemResults, problemsFor, shq, type LocalCheck, credentialProblemCodes } from './local-util.js';

const META = { id: 'files.ca', title: 'CA file holds readable certificates' };

/** Every code files.ca reports. */
export const FILES_CA_CODES = [
  'CA_FILE_DEFAULT',
  'CA_FILE_NOT_GIVEN',
  'CA_FILE_OK',
  ...credentialProblemCodes('ca'),
] as const;

/** files.ca: the CA file holds readable certificates (or the bundled Amazon roots are used). */
export const filesCaCheck: LocalCheck = {
  ...META,
  family: 'files',
  async run(ctx) {
    const started = performance.now();
    const { credentials } = ctx;
    const ca = credentials.ca;
    const evidence = ca ? { path: ca.path ?? null, isDefault: ca.isDefault, certificates: ca.certs.length } : {};
    const problems = problemsFor(credentials, 'ca');
    if (problems.length > 0) return problemResults(META, started, problems, evidence);
    if (!ca) {
      return [
        buildResult(META, started, { status: 'skip', code: 'CA_FILE_NOT_GIVEN', summary: 'no CA file given (--ca)' }),
      ];
    }
    if (ca.isDefault) {
      return [
        buildResult(META, started, {
          status: 'pass',
          code: 'CA_FILE_DEFAULT',
          summary: `no --ca given: using the bundled ${AMAZON_ROOTS.map((r) => r.awsFileName).join(', ')}`,
          evidence: { ...evidence, roots: AMAZON_ROOTS.map((r) => r.name) },
        }),
      ];
    }
    return [
      buildResult(META, started, {
        status: 'pass',
        code: 'CA_FILE_OK',
        summary: `${ca.certs.length} certificate${ca.certs.length === 1 ? '' : 's'} in the CA file`,
        evidence,
        reproduce: `openssl crl2pkcs7 -nocrl -certfile ${shq(ca.path!)} | openssl pkcs7 -print_certs -noout`,
      }),
    ];
  },
};
