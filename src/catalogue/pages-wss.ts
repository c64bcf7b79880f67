/** Catalogue pages of the MQTT-over-WebSocket (SigV4) codes (`mqtt-wss-443`, field notes §4; see types.ts). */
import type { CodePage } from './types.js';

const UPGRADE =
  'mqtt-wss-443 signed GET /mqtt with SigV4 (service iotdevicegateway) and the upgrade cell kept the answer: status, ' +
  "x-amzn-ErrorType, the server's date next to X-Amz-Date, the signing region next to the endpoint's";
const SIMULATE =
  'aws iam simulate-principal-policy --policy-source-arn "$(aws sts get-caller-identity --query Arn --output text)" ' +
  '--action-names iot:Connect --resource-arns arn:aws:iot:<region>:<account>:client/<client id>';

/** The upgrade by hand: curl to the URL `iot-doctor presign` signs with your credentials (101 or the 403). */
const BY_HAND =
  "curl -sS -i --http1.1 --max-time 5 -H 'Connection: Upgrade' -H 'Upgrade: websocket' " +
  '-H \'Sec-WebSocket-Version: 13\' -H "Sec-WebSocket-Key: $(head -c 16 /dev/urandom | base64)" ' +
  '-H \'Sec-WebSocket-Protocol: mqtt\' "$(iot-doctor presign --endpoint <endpoint> --scheme https)"';

/** Pages of the SigV4 WebSocket codes. */
export const WSS_PAGES: readonly CodePage[] = [
  {
    code: 'SIGV4_CLOCK_SKEW',
    family: 'Clock',
    meaning:
      "The WebSocket upgrade is refused (403) and the signature's X-Amz-Date is more than 5 minutes from the server's " +
      'date: the device clock is wrong, so every SigV4 signature it makes is refused.',
    decides: `${UPGRADE}: the two dates differ by more than 300 s.`,
    lookAlikes: [{ code: 'CLOCK_SKEW', tell: 'the same wrong clock, seen by the mTLS routes and clock.skew' }],
    remedy: ['Set the clock: enable NTP/SNTP (UDP 123), or wait for time sync before connecting.'],
    confirm: ['date -u', 'curl -sI https://<endpoint>/ | grep -i ^date'],
  },
  {
    code: 'SIGV4_REGION_MISMATCH',
    family: 'Authorization',
    meaning: "The WebSocket URL is signed for another region than the endpoint's: AWS refuses the upgrade (403).",
    decides: `${UPGRADE}: the credential scope's region is not the region in the endpoint's name.`,
    lookAlikes: [{ code: 'WSS_UPGRADE_FORBIDDEN', tell: 'the same 403 with the right region' }],
    remedy: ["Set AWS_REGION (or the SDK's region) on the device to the endpoint's region."],
    confirm: ['echo "$AWS_REGION"', 'aws iot describe-endpoint --endpoint-type iot:Data-ATS --region <region>'],
  },
  {
    code: 'SIGV4_DENIED',
    family: 'Authorization',
    meaning: 'The IAM identity that signs the WebSocket URL may not iot:Connect with this client id.',
    decides:
      'Certain when cloud.wss-identity asked IAM and was told no: STS GetCallerIdentity names the identity (an ' +
      'assumed-role session is simulated as its role), and IAM SimulatePrincipalPolicy of iot:Connect on ' +
      'arn:aws:iot:<region>:<account>:client/<client id> answers implicitDeny or explicitDeny; then it explains a 403 ' +
      'upgrade (clock and region right) as well as a refused CONNECT. Likely without that answer, when the upgrade passed ' +
      '(101) and the CONNECT was closed right after (mqtt-wss-443 protocol cell WSS_CONNECT_REFUSED), the shape the ' +
      'field reports for an identity without iot:Connect (field notes §4.2).',
    lookAlikes: [
      {
        code: 'WSS_UPGRADE_FORBIDDEN',
        tell: 'a 403 upgrade when IAM could not be asked (no credentials, iam:SimulatePrincipalPolicy not allowed) or allows',
      },
    ],
    remedy: ["Allow iot:Connect on arn:aws:iot:<region>:<account>:client/<client id> in the identity's IAM policy."],
    confirm: ['aws sts get-caller-identity', SIMULATE],
  },
  {
    code: 'WSS_UPGRADE_FORBIDDEN',
    family: 'Authorization',
    meaning:
      'AWS refuses the WebSocket upgrade with 403 and neither the clock nor the region explains it: most often the IAM ' +
      'identity may not iot:Connect, or the signature is otherwise wrong (a session token signed into the query).',
    decides:
      `${UPGRADE}: 403, the dates within 5 minutes, the regions equal, and IAM not asked (no AWS credentials, the ` +
      'caller may not iam:SimulatePrincipalPolicy: named in the explanation) or allowing iot:Connect (then the identity ' +
      "is ruled out and the signature itself is left: a secret that is not the key id's, a stale session token, or a " +
      'session or service control policy the simulator does not see).',
    lookAlikes: [
      { code: 'SIGV4_CLOCK_SKEW', tell: 'the dates differ by more than 5 minutes' },
      { code: 'SIGV4_REGION_MISMATCH', tell: "the signing region is not the endpoint's" },
    ],
    remedy: ['Check the identity and its iot:Connect permission with the IAM policy simulator.'],
    confirm: ['aws sts get-caller-identity', SIMULATE, BY_HAND],
  },
];
