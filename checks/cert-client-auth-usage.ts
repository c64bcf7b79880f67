import { buildResult } from '../src/model/result.js';
import { certDetails, OID } from '../src/probes/pem.js';
import { credentialCheck, x509Cmd, type LocalCheck, LOCAL_SKIP_CODES } from './local-util.js';

const META = { id: 'cert.client-auth-usage', title: 'Certificate may be used for TLS client authentication' };

/** Every code cert.client-auth-usage reports. */
export const CERT_CLIENT_AUTH_USAGE_CODES = [
  'CERT_CLIENT_AUTH_USAGE_OK',
  'CERT_NO_CLIENT_AUTH_EKU',
  'CERT_NO_DIGITAL_SIGNATURE_USAGE',
  ...LOCAL_SKIP_CODES,
] as const;

/**
 * cert.client-auth-usage: when extendedKeyUsage is present it must include clientAuth (or anyExtendedKeyUsage); when
 * keyUsage is present it must include digitalSignature (the client signs the handshake with its key).
 */
export const certClientAuthUsageCheck: LocalCheck = credentialCheck(META, ['cert'], (ctx, started) => {
  const cert = ctx.credentials.cert!;
  const d = certDetails(cert.leaf);
  const evidence = {
    extendedKeyUsage: d.extKeyUsage ?? 'absent (no restriction)',
    keyUsage: d.keyUsage ?? 'absent (no restriction)',
  };
  const reproduce = x509Cmd(cert, '-noout -ext keyUsage,extendedKeyUsage');
  const reissue =
    'have the device certificate re-issued with extendedKeyUsage=clientAuth and keyUsage=digitalSignature (AWS-issued certificates have both)';
  const ekuOids = d.extKeyUsageOids;
  if (ekuOids && !ekuOids.includes(OID.clientAuth) && !ekuOids.includes(OID.anyExtendedKeyUsage)) {
    return [
      buildResult(META, started, {
        status: 'fail',
        code: 'CERT_NO_CLIENT_AUTH_EKU',
        summary: `extended key usage is ${d.extKeyUsage!.join(', ') || 'empty'}; it does not include clientAuth (TLS Web Client Authentication)`,
        evidence,
        hint: reissue,
        reproduce,
      }),
    ];
  }
  if (d.keyUsage && !d.keyUsage.includes('digitalSignature')) {
    const agreementOnly = d.keyUsage.includes('keyAgreement');
    return [
      buildResult(META, started, {
        status: agreementOnly ? 'warn' : 'fail',
        code: 'CERT_NO_DIGITAL_SIGNATURE_USAGE',
        summary: `key usage is ${d.keyUsage.join(', ') || 'empty'}; it lacks digitalSignature, which a TLS client needs to prove it holds the key`,
        evidence,
        hint: reissue,
        reproduce,
      }),
    ];
  }
  const parts = [
    d.extKeyUsage ? `extended key usage ${d.extKeyUsage.join(', ')}` : 'no extended key usage restriction',
    d.keyUsage ? `key usage ${d.keyUsage.join(', ')}` : 'no key usage restriction',
  ];
  return [
    buildResult(META, started, {
      status: 'pass',
      code: 'CERT_CLIENT_AUTH_USAGE_OK',
      summary: parts.join('; '),
      evidence,
      reproduce,
    }),
  ];
});
