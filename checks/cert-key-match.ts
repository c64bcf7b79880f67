import { buildResult } from '../src/model/result.js';
import { describeKey, formatDn, publicKeySha256 } from '../src/probes/pem.js';
import { pkeyCmd, credentialCheck, x509Cmd, type LocalCheck, LOCAL_SKIP_CODES } from './local-util.js';

const META = { id: 'cert.key-match', title: 'Private key matches certificate' };

/** Every code cert.key-match reports. */
export const CERT_KEY_MATCH_CODES = ['CERT_KEY_MATCH_OK', 'KEY_CERT_MISMATCH', ...LOCAL_SKIP_CODES] as const;

/** cert.key-match: the public key in the certificate is the public half of the private key. */
export const certKeyMatchCheck: LocalCheck = credentialCheck(META, ['cert', 'key'], (ctx, started) => {
  const { credentials } = ctx;
  const cert = credentials.cert!;
  const key = credentials.key!;
  const certPub = publicKeySha256(cert.leaf.publicKey);
  const keyPub = publicKeySha256(key.object);
  const certKey = describeKey(cert.leaf.publicKey);
  const keyKey = describeKey(key.object);
  const evidence = {
    certPublicKeySha256: certPub,
    keyPublicKeySha256: keyPub,
    certKeyType: certKey.label,
    keyKeyType: keyKey.label,
  };
  const reproduce = `diff <(${x509Cmd(cert, '-noout -pubkey')}) <(${pkeyCmd(credentials, '-pubout')})`;
  if (certPub === keyPub) {
    return [
      buildResult(META, started, {
        status: 'pass',
        code: 'CERT_KEY_MATCH_OK',
        summary: `the private key is the one the certificate was issued for (${keyKey.label})`,
        evidence,
        reproduce,
      }),
    ];
  }
  const chainOwner = cert.chain.find((c) => publicKeySha256(c.publicKey) === keyPub);
  const hint = chainOwner
    ? `the key belongs to ${formatDn(chainOwner.subject)} further down the certificate file (a CA key?): use the device's own key`
    : certKey.type !== keyKey.type
      ? `the certificate holds an ${certKey.label} key but the key file holds ${keyKey.label}: find the key that was generated together with this certificate (or its CSR)`
      : 'find the private key that was generated together with this certificate (or its CSR); AWS offers the key of a console-created certificate for download only once';
  return [
    buildResult(META, started, {
      status: 'fail',
      code: 'KEY_CERT_MISMATCH',
      summary: 'the private key does not belong to this certificate: TLS client authentication will fail',
      evidence,
      hint,
      reproduce,
    }),
  ];
});
