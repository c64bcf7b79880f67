/**
 * Custom-authentication causes (`mqtt-custom-auth-443`, field notes §5). On the wire every refusal looks the same (MQTT
 * 3.1.1: closed after CONNECT; field notes §5.6), so the cause comes from `cloud.custom-authorizer`, which asked AWS
 * about the same token, signature, client id and SNI: the authorizer is missing or INACTIVE, the token key or the
 * signature is wrong, the Lambda says no, its policy forbids iot:Connect, or it says yes, and then the live refusal
 * means something in the path changed the request. Without that check the refusal keeps its candidate causes.
 */
import { routeKindOf, type CheckResult, type Finding } from '../model/index.js';
import type { DiagnosisCode, ResultCode } from './codes.js';
import { finding, ids, isCode, str, type Facts } from './facts.js';

const CHECK = 'cloud.custom-authorizer';

interface Rule {
  code: DiagnosisCode;
  cloudCode: ResultCode;
  title: (name: string) => string;
  explanation: (name: string, r: CheckResult) => string;
  remediation: (name: string) => string[];
}

const RULES: readonly Rule[] = [
  {
    code: 'CUSTOM_AUTHORIZER_NOT_FOUND',
    cloudCode: 'AUTHORIZER_MISSING',
    title: (n) => `Custom authorizer ${n} does not exist`,
    explanation: (n) =>
      `DescribeAuthorizer answers ResourceNotFound for ${n}: authorizers are per account and region, so the name is ` +
      'misspelt, the authorizer was deleted, or it lives in another region. AWS IoT closes every connection that ' +
      'names it.',
    remediation: (n) => [
      'List the authorizers: aws iot list-authorizers',
      `Create it or fix the device's x-amz-customauthorizer-name: aws iot create-authorizer --authorizer-name ${n} ...`,
    ],
  },
  {
    code: 'CUSTOM_AUTHORIZER_INACTIVE',
    cloudCode: 'AUTHORIZER_INACTIVE',
    title: (n) => `Custom authorizer ${n} is not ACTIVE`,
    explanation: (n) => `DescribeAuthorizer shows ${n} with status INACTIVE: AWS IoT does not use it to authenticate.`,
    remediation: (n) => [`aws iot update-authorizer --authorizer-name ${n} --status ACTIVE`],
  },
  {
    code: 'CUSTOM_AUTH_TOKEN_KEY_MISMATCH',
    cloudCode: 'AUTHORIZER_TOKEN_KEY_MISMATCH',
    title: (n) => `The token is sent under another name than authorizer ${n} reads`,
    explanation: (_n, r) =>
      `The device puts its token under ${str(r.evidence['tokenKeyName']) ?? '?'}, but the authorizer's tokenKeyName is ` +
      `${str(r.evidence['authorizerTokenKeyName']) ?? '?'}: AWS IoT finds no token and refuses the connection.`,
    remediation: () => ["Send the token as <authorizer tokenKeyName>=<token> in the MQTT username's query."],
  },
  {
    code: 'CUSTOM_AUTH_SIGNATURE_INVALID',
    cloudCode: 'AUTHORIZER_SIGNATURE_MISMATCH',
    title: (n) => `The token signature does not verify with authorizer ${n}'s keys`,
    explanation: (n, r) =>
      `${r.summary}. With token signing enabled, AWS IoT checks x-amz-customauthorizer-signature (base64 RSA-SHA256 ` +
      `of the token) against ${n}'s tokenSigningPublicKeys before the Lambda runs, and closes the connection when it ` +
      'fails: the device signs with another key, signs something else than the exact token, or the signature was ' +
      'not URL-encoded in the username (+ / = altered).',
    remediation: (n) => [
      `Compare the device's signing key with the public keys of aws iot describe-authorizer --authorizer-name ${n}.`,
      'Sign exactly the token: echo -n "$TOKEN" | openssl dgst -sha256 -sign key.pem | base64 -w0, then URL-encode it.',
    ],
  },
  {
    code: 'CUSTOM_AUTH_DENIED',
    cloudCode: 'AUTHORIZER_REFUSES',
    title: (n) => `Authorizer ${n} says the device is not authenticated`,
    explanation: (n) =>
      `TestInvokeAuthorizer with the same token, signature, client id and SNI the probe sent: ${n}'s Lambda answers ` +
      'isAuthenticated=false. The authorizer said no; the network did not change anything.',
    remediation: () => [
      "Check the token the device holds (expired, revoked, another tenant's) and the Lambda's CloudWatch logs.",
    ],
  },
  {
    code: 'CUSTOM_AUTH_POLICY_DENIES_CONNECT',
    cloudCode: 'AUTHORIZER_DENIES_CONNECT',
    title: (n) => `Authorizer ${n} authenticates the device but does not allow iot:Connect`,
    explanation: (_n, r) => `${r.summary}: AWS IoT closes the connection after CONNECT.`,
    remediation: () => ['Return a policy document from the Lambda that allows iot:Connect on the client id.'],
  },
];

/** The refused protocol cells of custom-authentication routes. */
function refusals(facts: Facts): CheckResult[] {
  return facts.results.filter(
    (r) =>
      r.route &&
      routeKindOf(r.route) === 'mqtt-custom-auth-443' &&
      r.stage === 'protocol' &&
      isCode(r, 'CUSTOM_AUTH_REFUSED'),
  );
}

function authorizerName(r: CheckResult | undefined): string {
  return str(r?.evidence['authorizerName']) ?? str(r?.evidence['authorizer']) ?? 'the authorizer';
}

/** The authorizer accepts the very request the probe sent, yet the live connection was refused. */
function requestAltered(cloud: CheckResult, refused: CheckResult[]): Finding {
  const n = authorizerName(cloud);
  return finding('CUSTOM_AUTH_REQUEST_ALTERED', {
    severity: 'error',
    confidence: 'likely',
    title: 'The custom-auth CONNECT is refused although the authorizer accepts its credentials',
    explanation:
      `TestInvokeAuthorizer with the same token, signature, client id and SNI the probe sent: ${n} authenticates it ` +
      'and its policy allows iot:Connect. Yet the live CONNECT was refused, so what reached AWS IoT was not what was ' +
      'sent: something in the path (a TLS-terminating proxy, an MQTT gateway) changed the username, password or SNI, ' +
      'or the connection went to another endpoint than the API was asked about.',
    remediation: [
      'Compare from a network without the proxy, or connect with the reproduce command of the protocol cell.',
      'Check that the endpoint and region of the API (--region) are those the device connects to.',
    ],
    params: { authorizer: n, routes: refused.map((r) => r.route) },
    evidence: ids([cloud, ...refused]),
  });
}

/** Refused, and AWS could not be asked (no credentials, no permission): the candidate causes. */
function refusedUnexplained(facts: Facts, refused: CheckResult[]): Finding {
  const cloud = facts.get(CHECK);
  return finding('CUSTOM_AUTH_REFUSED', {
    severity: 'error',
    confidence: 'possible',
    title: 'AWS IoT refuses the custom-authentication CONNECT; the cause is not determined',
    explanation:
      'The CONNECT with the authorizer query in its username was closed without a reason (MQTT 3.1.1 reports none). ' +
      (cloud
        ? `The custom-authorizer check could not decide it (${cloud.code}: ${cloud.summary}).`
        : 'The custom-authorizer check did not run (it needs AWS credentials).'),
    remediation: ['Run again with AWS credentials allowed iot:DescribeAuthorizer and iot:TestInvokeAuthorizer.'],
    params: { routes: refused.map((r) => r.route) },
    evidence: ids([...refused, ...(cloud ? [cloud] : [])]),
    candidates: RULES.map((r) => ({ code: r.code, title: r.title('the authorizer'), decidedBy: CHECK })),
  });
}

/** The custom-authentication findings: one per cause `cloud.custom-authorizer` established (see the file comment). */
export function customAuthFindings(facts: Facts): Finding[] {
  const refused = refusals(facts);
  const cloud = facts.get(CHECK);
  const rule = cloud ? RULES.find((r) => isCode(cloud, r.cloudCode)) : undefined;
  if (cloud && rule) {
    const n = authorizerName(cloud);
    return [
      finding(rule.code, {
        severity: 'error',
        confidence: 'certain',
        title: rule.title(n),
        explanation: rule.explanation(n, cloud),
        remediation: rule.remediation(n),
        params: { authorizer: n, cloudCode: cloud.code, routes: refused.map((r) => r.route) },
        evidence: ids([cloud, ...refused]),
      }),
    ];
  }
  if (refused.length === 0) return [];
  if (cloud && isCode(cloud, 'AUTHORIZER_AUTHENTICATES')) return [requestAltered(cloud, refused)];
  return [refusedUnexplained(facts, refused)];
}
