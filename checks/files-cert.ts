import { buildResult } from '../src/model/result.js';
import { describeKey, formatDn } from '../src/probes/pem.js';
import { problemResults, problemsFor, x509Cmd, type LocalCheck, credentialProblemCodes } from './local-util.js';

const META = { id: 'files.cert', title: 'Certificate file holds a readable device certificate' };

/** Every code files.cert reports. */
export const FILES_CERT_CODES = ['CERT_FILE_NOT_GIVEN', 'CERT_FILE_OK', ...credentialProblemCodes('cert')] as const;

/** files.cert: the certificate file holds a readable device certificate. */
export const filesCertCheck: LocalCheck = {
  ...META,
  family: 'files',
  async run(ctx) {
    const started = performance.now();
    const { credentials } = ctx;
    const cert = credentials.cert;
    const evidence = cert
      ? {
          path: cert.path,
          format: cert.format,
          certificates: 1 + cert.chain.length,
          subject: formatDn(cert.leaf.subject),
          keyType: describeKey(cert.leaf.publicKey).label,
        }
      : {};
    const problems = problemsFor(credentials, 'cert');
    if (problems.length > 0) return problemResults(META, started, problems, evidence);
    if (!cert) {
      return [
        buildResult(META, started, {
          status: 'skip',
          code: 'CERT_FILE_NOT_GIVEN',
          summary: 'no certificate file given (--cert)',
        }),
      ];
    }
    const form = cert.format === 'pkcs12' ? 'PKCS#12' : cert.format.toUpperCase();
    const chain =
      cert.chain.length > 0
        ? ` followed by ${cert.chain.length} chain certificate${cert.chain.length > 1 ? 's' : ''}`
        : '';
    return [
      buildResult(META, started, {
        status: 'pass',
        code: 'CERT_FILE_OK',
        summary: `${form} file with the device certificate${chain}`,
        evidence,
        reproduce: x509Cmd(cert, '-noout -subject -issuer -dates'),
      }),
    ];
  },
};
