import { buildResult } from '../src/model/result.js';
import { certDetails, describeKey, formatDn } from '../src/probes/pem.js';
import { isoDate, credentialCheck, x509Cmd, type LocalCheck, LOCAL_SKIP_CODES } from './local-util.js';

const META = { id: 'cert.identity', title: 'Device certificate identity' };

/** Every code cert.identity reports. */
export const CERT_IDENTITY_CODES = ['CERT_IDENTITY', ...LOCAL_SKIP_CODES] as const;

/**
 * cert.identity: always a pass when the certificate is readable. Its evidence is what a support ticket needs: the AWS
 * IoT certificate id (SHA-256 of the DER), subject, issuer, serial and validity.
 */
export const certIdentityCheck: LocalCheck = credentialCheck(META, ['cert'], (ctx, started) => {
  const cert = ctx.credentials.cert!;
  const { leaf } = cert;
  const d = certDetails(leaf);
  const subject = formatDn(leaf.subject);
  const issuer = formatDn(leaf.issuer);
  return [
    buildResult(META, started, {
      status: 'pass',
      code: 'CERT_IDENTITY',
      summary: `certificate id ${cert.certificateId} (${subject}, issued by ${issuer})`,
      evidence: {
        certificateId: cert.certificateId,
        subject,
        issuer,
        serialNumber: leaf.serialNumber.toLowerCase(),
        notBefore: isoDate(d.notBefore),
        notAfter: isoDate(d.notAfter),
        fingerprintSha256: leaf.fingerprint256,
        keyType: describeKey(leaf.publicKey).label,
        selfSigned: d.selfSigned,
        ...(leaf.subjectAltName ? { subjectAltName: leaf.subjectAltName } : {}),
        chain: cert.chain.map((c) => formatDn(c.subject)),
        path: cert.path,
        format: cert.format,
      },
      reproduce: `${x509Cmd(cert, '-outform DER')} | openssl dgst -sha256`,
    }),
  ];
});
