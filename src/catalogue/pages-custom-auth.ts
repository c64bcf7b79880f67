/** Catalogue pages of the custom-authentication codes (`mqtt-custom-auth-443`, field notes §5; see types.ts). */
import type { CodePage } from './types.js';

const DESCRIBE = 'aws iot describe-authorizer --authorizer-name <name>';
const TEST_INVOKE =
  'aws iot test-invoke-authorizer --authorizer-name <name> --token "$TOKEN" --token-signature "$SIGNATURE" ' +
  '--mqtt-context clientId=<client id> --tls-context serverName=<endpoint>';
const BY_HAND =
  'mosquitto_pub -h <endpoint> -p 443 --cafile AmazonRootCA1.pem --tls-alpn mqtt -u ' +
  '"?x-amz-customauthorizer-name=<name>&x-amz-customauthorizer-signature=$SIGNATURE&<tokenKeyName>=$TOKEN" ' +
  '-i <client id> -t test -m hi -d';
const DECIDED =
  'mqtt-custom-auth-443 sent the CONNECT and it was refused (protocol cell CUSTOM_AUTH_REFUSED); cloud.custom-authorizer ' +
  'asked AWS about the same token, signature, client id and SNI';

const REFUSED_LOOK_ALIKE = {
  code: 'CUSTOM_AUTH_REFUSED',
  tell: 'the same refusal on the wire when AWS could not be asked; this code is what AWS said',
};

/** Pages of the custom-authentication codes. */
export const CUSTOM_AUTH_PAGES: readonly CodePage[] = [
  {
    code: 'CUSTOM_AUTHORIZER_NOT_FOUND',
    family: 'Authorization',
    meaning:
      'The custom authorizer the device names (x-amz-customauthorizer-name) does not exist in this account and region.',
    decides: `${DECIDED}: DescribeAuthorizer (DescribeDefaultAuthorizer without a name) answered ResourceNotFound.`,
    lookAlikes: [REFUSED_LOOK_ALIKE],
    remedy: ['Fix the name in the device, or create the authorizer in this region: aws iot list-authorizers.'],
    confirm: [DESCRIBE, 'aws iot list-authorizers'],
  },
  {
    code: 'CUSTOM_AUTHORIZER_INACTIVE',
    family: 'Authorization',
    meaning: 'The custom authorizer exists but its status is INACTIVE, so AWS IoT does not authenticate with it.',
    decides: `${DECIDED}: DescribeAuthorizer shows status INACTIVE.`,
    lookAlikes: [REFUSED_LOOK_ALIKE],
    remedy: ['aws iot update-authorizer --authorizer-name <name> --status ACTIVE'],
    confirm: [DESCRIBE],
  },
  {
    code: 'CUSTOM_AUTH_TOKEN_KEY_MISMATCH',
    family: 'Authorization',
    meaning:
      "The device sends its token under another query name than the authorizer's tokenKeyName, so no token arrives.",
    decides: `${DECIDED}: the --token-key-name differs from DescribeAuthorizer's tokenKeyName.`,
    lookAlikes: [
      { code: 'CUSTOM_AUTH_SIGNATURE_INVALID', tell: 'there the token arrives, but its signature does not verify' },
    ],
    remedy: ["Send <tokenKeyName>=<token> in the MQTT username's query, with the authorizer's tokenKeyName."],
    confirm: [DESCRIBE],
  },
  {
    code: 'CUSTOM_AUTH_SIGNATURE_INVALID',
    family: 'Authorization',
    meaning:
      "The token's signature (x-amz-customauthorizer-signature, base64 RSA-SHA256 of the token) does not verify with " +
      "any of the authorizer's tokenSigningPublicKeys, so AWS IoT refuses before the Lambda runs.",
    decides: `${DECIDED}: the signature is verified here against the public keys DescribeAuthorizer returns.`,
    lookAlikes: [
      { code: 'CUSTOM_AUTH_DENIED', tell: 'there the signature verifies and the Lambda says no' },
      REFUSED_LOOK_ALIKE,
    ],
    remedy: [
      'Sign with the private key whose public half is on the authorizer, over exactly the token: echo -n "$TOKEN" | ' +
        'openssl dgst -sha256 -sign key.pem | base64 -w0.',
      'URL-encode the signature in the username (+, / and = must not travel raw).',
    ],
    confirm: [
      DESCRIBE,
      'echo -n "$TOKEN" | openssl dgst -sha256 -verify pub.pem -signature <(echo "$SIGNATURE" | base64 -d)',
    ],
  },
  {
    code: 'CUSTOM_AUTH_DENIED',
    family: 'Authorization',
    meaning:
      "The authorizer's Lambda answers isAuthenticated=false for the device's credentials: the authorizer said no.",
    decides: `${DECIDED}: TestInvokeAuthorizer with those very inputs returned isAuthenticated=false.`,
    lookAlikes: [
      {
        code: 'CUSTOM_AUTH_REQUEST_ALTERED',
        tell: 'there TestInvokeAuthorizer says yes and only the live CONNECT fails',
      },
      REFUSED_LOOK_ALIKE,
    ],
    remedy: ["Check the token (expired, revoked, wrong tenant) and the Lambda's CloudWatch logs."],
    confirm: [TEST_INVOKE],
  },
  {
    code: 'CUSTOM_AUTH_POLICY_DENIES_CONNECT',
    family: 'Authorization',
    meaning:
      'The authorizer authenticates the device, but the policies its Lambda returns do not allow iot:Connect on the client id.',
    decides: `${DECIDED}: TestInvokeAuthorizer said yes, and its policy documents, evaluated here, deny iot:Connect.`,
    lookAlikes: [{ code: 'POLICY_DENIES_CONNECT', tell: 'the same for a certificate and its attached policies' }],
    remedy: ['Return a policy that allows iot:Connect on arn:aws:iot:<region>:<account>:client/<client id>.'],
    confirm: [TEST_INVOKE],
  },
  {
    code: 'CUSTOM_AUTH_REQUEST_ALTERED',
    family: 'Authorization',
    meaning:
      'The authorizer accepts exactly the credentials the probe sent, yet the live CONNECT is refused: something in ' +
      'the path changed the request (username, password, SNI) or it reached another endpoint.',
    decides: `${DECIDED}: TestInvokeAuthorizer said yes and its policy allows iot:Connect; the live CONNECT was refused.`,
    lookAlikes: [{ code: 'CUSTOM_AUTH_DENIED', tell: 'there the authorizer itself says no' }],
    remedy: [
      'Try from a network without the proxy or MQTT gateway, and compare.',
      'Check that the API region and account are those of the endpoint the device connects to.',
    ],
    confirm: [BY_HAND, TEST_INVOKE],
  },
  {
    code: 'CUSTOM_AUTH_REFUSED',
    family: 'Authorization',
    meaning:
      'AWS IoT refused the custom-authentication CONNECT (MQTT 3.1.1: closed without CONNACK), and AWS could not be ' +
      'asked why: no AWS credentials, or no permission for DescribeAuthorizer / TestInvokeAuthorizer.',
    decides:
      'The protocol cell of mqtt-custom-auth-443 is CUSTOM_AUTH_REFUSED and cloud.custom-authorizer did not decide.',
    lookAlikes: [
      { code: 'CUSTOM_AUTHORIZER_NOT_FOUND', tell: 'decided once DescribeAuthorizer can be called' },
      { code: 'CUSTOM_AUTH_DENIED', tell: 'decided once TestInvokeAuthorizer can be called' },
    ],
    remedy: ['Run again with AWS credentials allowed iot:DescribeAuthorizer and iot:TestInvokeAuthorizer.'],
    confirm: [BY_HAND, DESCRIBE],
  },
];
