/** Catalogue pages of the account-side codes decided by the cloud checks (src/diagnose/cloud.ts, auth-rejected.ts). */
import type { CodePage } from './types.js';

const TA = 'aws iot test-authorization --principal <cert-arn>';

/** Pages of CERT_NOT_REGISTERED, NO_POLICY_ATTACHED, POLICY_DENIES_PUBLISH/SUBSCRIBE, AUTH_REJECTED_UNEXPLAINED. */
export const CLOUD_PAGES: readonly CodePage[] = [
  {
    code: 'CERT_NOT_REGISTERED',
    family: 'Certificate at AWS',
    meaning:
      'AWS IoT does not know the device certificate in this account and region: it was never registered, was deleted, or was registered elsewhere. AWS refuses it after (or during) the TLS handshake.',
    decides:
      'cloud.certificate: DescribeCertificate with the certificate id (SHA-256 of the DER) answers ResourceNotFoundException. The routes closed after CONNECT or answered 403 are cited as its consequence.',
    lookAlikes: [
      { code: 'CERT_NOT_ACTIVE', tell: 'there DescribeCertificate finds it, with a status other than ACTIVE' },
      { code: 'ENDPOINT_OTHER_ACCOUNT', tell: 'the certificate may be registered, in the account of another endpoint' },
    ],
    remedy: [
      'Register it in this region: aws iot register-certificate --certificate-pem file://cert.pem --set-as-active (or register-certificate-without-ca), then attach the policy and the thing.',
      'Or point the device at the endpoint of the account and region where it is registered.',
    ],
    confirm: [
      'openssl x509 -in <cert> -outform der | openssl sha256',
      'aws iot describe-certificate --certificate-id <id>',
    ],
  },
  {
    code: 'NO_POLICY_ATTACHED',
    family: 'Authorization',
    meaning:
      'No AWS IoT policy reaches the certificate (nor its thing groups), so every action is implicitly denied: AWS closes the connection at MQTT CONNECT and refuses every HTTPS publish.',
    decides:
      'cloud.policy-attached: ListAttachedPolicies (recursive) returns nothing. The implicit POLICY_DENIES_* findings are folded into it, and the refused routes are cited.',
    lookAlikes: [
      { code: 'POLICY_DENIES_CONNECT', tell: 'there a policy is attached, but does not allow this client id' },
      { code: 'CERT_NOT_ACTIVE', tell: 'an inactive certificate is refused the same way, whatever its policies' },
    ],
    remedy: ['Attach a device policy: aws iot attach-policy --policy-name <policy> --target <cert-arn>'],
    confirm: ['aws iot list-attached-policies --target <cert-arn> --recursive'],
  },
  {
    code: 'POLICY_DENIES_PUBLISH',
    family: 'Authorization',
    meaning:
      'The policies do not allow iot:Publish on the topic (topic/<topic> resource), or a Deny statement forbids it: MQTT 3.1.1 is disconnected at the PUBLISH, MQTT 5 gets PUBACK 0x87, HTTPS gets 403.',
    decides:
      'cloud.authorization.publish (TestAuthorization, or the local evaluator when TestAuthorization is not allowed) says IMPLICIT_DENY or EXPLICIT_DENY; or the protocol cells show a refused publish. When the local evaluator cannot decide (AUTH_UNDECIDED) it is not made.',
    lookAlikes: [
      { code: 'POLICY_DENIES_CONNECT', tell: 'there the connection is refused before any publish' },
      { code: 'POLICY_DENIES_SUBSCRIBE', tell: 'there publishing works but the subscription or delivery does not' },
    ],
    remedy: [
      'Allow "iot:Publish" on "arn:aws:iot:<region>:<account>:topic/<topic>" in the device policy, or remove the Deny statement that names it.',
    ],
    confirm: [`${TA} --auth-infos actionType=PUBLISH,resources=arn:aws:iot:<region>:<account>:topic/<topic>`],
  },
  {
    code: 'POLICY_DENIES_SUBSCRIBE',
    family: 'Authorization',
    meaning:
      'The policies do not allow iot:Subscribe on the topic filter (topicfilter/<filter>) or iot:Receive on the topic (topic/<topic>): SUBACK 0x80 or a disconnect, or messages that never arrive.',
    decides:
      'cloud.authorization.subscribe / .receive say IMPLICIT_DENY or EXPLICIT_DENY (certain); or the round-trip cells show a refused subscription (likely) or a message not delivered (possible, since slow delivery looks the same).',
    lookAlikes: [
      { code: 'POLICY_DENIES_PUBLISH', tell: 'there the publish itself is refused' },
      { code: 'UNEXPLAINED_FAILURE', tell: 'a delivery that is only late: a longer --timeout tells' },
    ],
    remedy: [
      'Allow "iot:Subscribe" on topicfilter/<filter> and "iot:Receive" on topic/<topic>; policies take MQTT + and # literally, use * in policy resources.',
    ],
    confirm: [`${TA} --auth-infos actionType=SUBSCRIBE,resources=arn:aws:iot:<region>:<account>:topicfilter/<filter>`],
  },
  {
    code: 'AUTH_REJECTED_UNEXPLAINED',
    family: 'Authorization',
    meaning:
      'AWS IoT rejects the device after the TLS handshake (closed after CONNECT, 401/403, certificate refused) and no check could say why: AWS gives no reason on the wire, so several causes look the same.',
    decides:
      'Route cells show the rejection and no other finding explains them. The finding lists the causes the cloud checks and working routes have not ruled out, each with the check or command that decides it; with one cause left it is likely, else possible. When the local policy evaluator could not decide (cloud.authorization.* AUTH_UNDECIDED: the policies depend on values iot-doctor never receives, and TestAuthorization was not allowed), it says so, names those keys and cites that result.',
    lookAlikes: [
      { code: 'CERT_NOT_ACTIVE', tell: 'cloud.certificate decides it when credentials allow DescribeCertificate' },
      {
        code: 'POLICY_DENIES_CONNECT',
        tell: 'cloud.authorization.connect decides it when TestAuthorization is allowed',
      },
      { code: 'NO_POLICY_ATTACHED', tell: 'cloud.policy-attached decides it' },
    ],
    remedy: [
      'Run again with read-only AWS credentials for the account (iot:DescribeCertificate, iot:ListAttachedPolicies, iot:TestAuthorization) so the cloud checks decide.',
      'Otherwise settle each listed cause with the command the finding gives for it.',
    ],
    confirm: [
      'aws iot describe-certificate --certificate-id <id> --query certificateDescription.status',
      'aws iot list-attached-policies --target <cert-arn>',
    ],
  },
];
