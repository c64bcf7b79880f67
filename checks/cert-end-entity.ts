import { buildResult } from '../src/model/result.js';
import { certDetails, formatDn } from '../src/probes/pem.js';
import { credentialCheck, x509Cmd, type LocalCheck, LOCAL_SKIP_CODES } from './local-util.js';

const META = { id: 'cert.end-entity', title: 'Device certificate is an end-entity certificate (not a CA)' };

/** Every code cert.end-entity reports. */
export const CERT_END_ENTITY_CODES = ['CERT_END_ENTITY_OK', 'CERT_IS_CA', ...LOCAL_SKIP_CODES] as const;

/**
 * cert.end-entity. A CA certificate (basicConstraints CA:TRUE) in the device slot almost always means the wrong file
 * or a certificate made with `openssl req -x509` defaults. Reported as a warning: whether a server refuses it depends
 * on its TLS stack. (An Amazon root or the --ca certificate given as --cert is `files.cert: CERT_FILE_HOLDS_CA`.)
 */
export const certEndEntityCheck: LocalCheck = credentialCheck(META, ['cert'], (ctx, started) => {
  const cert = ctx.credentials.cert!;
  const details = certDetails(cert.leaf);
  const reproduce = x509Cmd(cert, '-noout -subject -ext basicConstraints,keyUsage');
  const evidence = {
    subject: formatDn(cert.leaf.subject),
    basicConstraintsCA: details.isCA,
    selfSigned: details.selfSigned,
  };
  if (!details.isCA) {
    return [
      buildResult(META, started, {
        status: 'pass',
        code: 'CERT_END_ENTITY_OK',
        summary: 'end-entity certificate (CA:FALSE or no basicConstraints)',
        evidence,
        reproduce,
      }),
    ];
  }
  const eeIndex = cert.chain.findIndex((c) => !c.ca);
  const hint =
    eeIndex >= 0
      ? `the file also holds an end-entity certificate (${formatDn(cert.chain[eeIndex]!.subject)}) at position ${eeIndex + 2}: put the device certificate first`
      : 'use the device certificate AWS IoT issued or registered for this thing; when you sign your own, use basicConstraints=CA:FALSE and extendedKeyUsage=clientAuth';
  return [
    buildResult(META, started, {
      status: 'warn',
      code: 'CERT_IS_CA',
      summary: `the device certificate is a CA certificate (basicConstraints CA:TRUE${details.selfSigned ? ', self-signed' : ''}); a device should present an end-entity certificate`,
      evidence,
      hint,
      reproduce,
    }),
  ];
});
