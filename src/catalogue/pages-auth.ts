/** Catalogue pages of the clock, certificate and authorization codes (see types.ts). */
import type { CodePage } from './types.js';

/** Pages of the clock, certificate and policy codes. */
export const AUTH_PAGES: readonly CodePage[] = [
  {
    code: 'CLOCK_SKEW',
    family: 'Clock',
    meaning:
      "This machine's clock is set but wrong: it differs from AWS's by more than 2 minutes, or is far enough off that certificates look out of date.",
    decides:
      "clock.skew compares the local clock with the server's HTTP Date header (tolerance 120 s); or the device certificate is valid by the server's clock (clock.cert-validity) but not by this one; or, with nothing measured, the device certificate and every server certificate look out of date the same way at once. The finding cites what the clock explains, and CERT_EXPIRED / CERT_NOT_YET_VALID judged by this clock alone are not made.",
    lookAlikes: [
      { code: 'CLOCK_LOOKS_UNSET', tell: 'a clock before 2020 was never set; this one is set, but wrong' },
      { code: 'CERT_NOT_YET_VALID', tell: 'only when the clock is right is the certificate really not yet valid' },
      {
        code: 'TLS_INTERCEPTED',
        tell: "a wrong clock makes Amazon's own chain look out of date; the issuer is still Amazon",
      },
    ],
    remedy: [
      'Set the clock: enable NTP/SNTP (UDP 123) or wait for time sync before connecting.',
      'On devices without a real-time clock, do not connect before the time is set.',
    ],
    confirm: ['date -u', 'curl -sI https://<endpoint>:8443/ | grep -i ^date'],
  },
  {
    code: 'CERT_NOT_YET_VALID',
    family: 'Files and credentials',
    meaning: "The device certificate's notBefore is later than now (by a clock that is right).",
    decides: 'cert.validity compares notBefore with the local clock, and the clock checks do not find it wrong.',
    lookAlikes: [
      { code: 'CLOCK_SKEW', tell: 'if the clock is wrong, the certificate is fine and the clock is the cause' },
    ],
    remedy: ['Wait until notBefore, or re-issue the certificate with an earlier start date.'],
    confirm: ['openssl x509 -in <cert> -noout -dates', 'date -u'],
  },
  {
    code: 'CERT_EXPIRED',
    family: 'Files and credentials',
    meaning: "The device certificate's notAfter is in the past (by a clock that is right).",
    decides: 'cert.validity compares notAfter with the local clock, and the clock checks do not find it wrong.',
    lookAlikes: [{ code: 'CLOCK_SKEW', tell: 'a clock far in the future makes a valid certificate look expired' }],
    remedy: [
      'Issue a new certificate (aws iot create-keys-and-certificate or your CA), register it and attach the policy.',
    ],
    confirm: ['openssl x509 -in <cert> -noout -dates'],
  },
  {
    code: 'KEY_CERT_MISMATCH',
    family: 'Files and credentials',
    meaning: 'The private key does not belong to the certificate, so the TLS handshake cannot prove the identity.',
    decides: 'files.pair compares the public key of the certificate with the one derived from the key file.',
    lookAlikes: [{ code: 'CERT_FILES_SWAPPED', tell: 'there the files hold the right things under the wrong names' }],
    remedy: ['Use the key that was generated with this certificate (they are created together).'],
    confirm: [
      'openssl x509 -in <cert> -noout -pubkey | openssl sha256',
      'openssl pkey -in <key> -pubout | openssl sha256',
    ],
  },
  {
    code: 'POLICY_DENIES_CONNECT',
    family: 'Authorization',
    meaning: 'The policies attached to the certificate do not allow iot:Connect for this client id.',
    decides:
      'cloud.authorization.connect: TestAuthorization, or the local evaluator when it may not be called. When the local evaluator cannot decide (AUTH_UNDECIDED), this finding is not made.',
    lookAlikes: [
      { code: 'CERT_NOT_ACTIVE', tell: 'an inactive certificate is refused whatever the policy says' },
      { code: 'NO_POLICY_ATTACHED', tell: 'there no policy reaches the certificate at all' },
    ],
    remedy: [
      'Allow iot:Connect on client/<client-id> in a policy attached to the certificate, or connect with an allowed client id.',
    ],
    confirm: [
      'aws iot test-authorization --principal <cert-arn> --client-id <id> --auth-infos actionType=CONNECT,resources=arn:aws:iot:<region>:<account>:client/<id>',
    ],
  },
  {
    code: 'CERT_NOT_ACTIVE',
    family: 'Certificate at AWS',
    meaning: 'The certificate is registered but INACTIVE or REVOKED, so AWS refuses the connection.',
    decides: "cloud.certificate reads the certificate's status with DescribeCertificate.",
    lookAlikes: [{ code: 'CERT_NOT_REGISTERED', tell: 'there AWS does not know the certificate at all' }],
    remedy: ['aws iot update-certificate --certificate-id <id> --new-status ACTIVE'],
    confirm: ['aws iot describe-certificate --certificate-id <id> --query certificateDescription.status'],
  },
];
