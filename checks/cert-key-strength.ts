import { buildResult } from '../src/model/result.js';
import { certDetails, describeKey } from '../src/probes/pem.js';
import { credentialCheck, x509Cmd, type LocalCheck, LOCAL_SKIP_CODES } from './local-util.js';

const META = { id: 'cert.key-strength', title: 'Certificate key and signature are ones AWS IoT accepts' };

/** Every code cert.key-strength reports. */
export const CERT_KEY_STRENGTH_CODES = [
  'CERT_KEY_STRENGTH_OK',
  'CERT_KEY_TOO_WEAK',
  'CERT_KEY_CURVE_UNCOMMON',
  'CERT_KEY_CURVE_UNSUPPORTED',
  'CERT_KEY_TYPE_UNSUPPORTED',
  'CERT_SIGNATURE_WEAK',
  ...LOCAL_SKIP_CODES,
] as const;

/** What AWS IoT accepts for device certificates (see docs/aws-iot-facts.md sections 2.5 and 5). */
export const AWS_ACCEPTED_KEYS =
  'RSA of 2048 bits or more, or EC on NIST P-256 or P-384; signed with SHA-256 or stronger';

const WEAK_SIGNATURE = /md5|sha1(?!\d)/i;

/** cert.key-strength: RSA >= 2048 bits, EC P-256/P-384, no SHA-1/MD5 signature. */
export const certKeyStrengthCheck: LocalCheck = credentialCheck(META, ['cert'], (ctx, started) => {
  const cert = ctx.credentials.cert!;
  const key = describeKey(cert.leaf.publicKey);
  const { signatureAlgorithm } = certDetails(cert.leaf);
  const evidence = {
    keyType: key.label,
    ...(key.bits !== undefined ? { bits: key.bits } : {}),
    ...(key.curve !== undefined ? { curve: key.curve } : {}),
    signatureAlgorithm,
    accepted: AWS_ACCEPTED_KEYS,
  };
  const reproduce = x509Cmd(cert, "-noout -text | grep -E 'Public-Key|NIST CURVE|Signature Algorithm' | sort -u");
  const reissue =
    'issue a new device key and certificate: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 (or RSA 2048), then a new CSR';
  const fail = (code: string, summary: string, hint = reissue) => [
    buildResult(META, started, { status: 'fail', code, summary, evidence, hint, reproduce }),
  ];
  if (key.type === 'rsa') {
    if ((key.bits ?? 0) < 2048)
      return fail('CERT_KEY_TOO_WEAK', `RSA ${key.bits}-bit key: AWS IoT requires RSA keys of at least 2048 bits`);
  } else if (key.type === 'ec') {
    if (key.curve === 'P-521') {
      return [
        buildResult(META, started, {
          status: 'warn',
          code: 'CERT_KEY_CURVE_UNCOMMON',
          summary: 'EC P-521 key: AWS IoT documents P-256 and P-384; P-521 may be refused',
          evidence,
          hint: reissue,
          reproduce,
        }),
      ];
    }
    if (key.curve !== 'P-256' && key.curve !== 'P-384') {
      return fail('CERT_KEY_CURVE_UNSUPPORTED', `EC key on curve ${key.curve}: AWS IoT accepts P-256 and P-384`);
    }
  } else {
    return fail(
      'CERT_KEY_TYPE_UNSUPPORTED',
      `${key.label} key: AWS IoT accepts RSA (2048 bits or more) and EC (P-256, P-384) device keys`,
    );
  }
  if (WEAK_SIGNATURE.test(signatureAlgorithm)) {
    return fail(
      'CERT_SIGNATURE_WEAK',
      `the certificate is signed with ${signatureAlgorithm}: AWS IoT requires SHA-256 or stronger`,
      'have the certificate re-issued with a SHA-256 (or stronger) signature',
    );
  }
  return [
    buildResult(META, started, {
      status: 'pass',
      code: 'CERT_KEY_STRENGTH_OK',
      summary: `${key.label} key, ${signatureAlgorithm} signature: accepted by AWS IoT`,
      evidence,
      reproduce,
    }),
  ];
});
