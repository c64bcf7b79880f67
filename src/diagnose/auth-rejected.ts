/**
 * AUTH_REJECTED_UNEXPLAINED: AWS IoT rejects the device after the TLS handshake and no other finding explains it.
 * When the cloud checks could not run (or could not decide), the rejection has several candidate causes, each named
 * with the check that decides it.
 */
import type { CheckResult, Finding } from '../model/index.js';
import { allowed, someRouteAuthenticated } from './cloud.js';
import type { ResultCode } from './codes.js';
import {
  authSymptoms,
  certificateId,
  finding,
  ids,
  isCode,
  list,
  routeSeverity,
  str,
  uniq,
  type Facts,
} from './facts.js';

interface Candidate {
  code: string;
  title: string;
  decidedBy: string;
}

/** Cloud results that mean the API could not answer the question (no credentials, no permission, no answer). */
const CLOUD_BLOCKERS: readonly ResultCode[] = [
  'CLOUD_NO_CREDENTIALS',
  'CLOUD_NO_REGION',
  'CLOUD_SDK_UNAVAILABLE',
  'CLOUD_CREDENTIALS_REJECTED',
  'IAM_ACCESS_DENIED',
  'CLOUD_API_UNREACHABLE',
  'CLOUD_API_THROTTLED',
  'CLOUD_API_ERROR',
];

/**
 * The local policy evaluator could not decide (AUTH_UNDECIDED, facts §7): the policies depend on values the device
 * sends and iot-doctor never receives, and TestAuthorization was not allowed to decide instead.
 */
function undecidedStatus(undecided: readonly CheckResult[]): { text: string; results: CheckResult[]; code: string } {
  const actions = uniq(
    undecided.map((r) => str(r.evidence['iamAction']) ?? r.id.replace(/^cloud\.authorization\./, '')),
  );
  const keys = uniq(
    undecided.flatMap((r) =>
      (Array.isArray(r.evidence['undecidableKeys']) ? r.evidence['undecidableKeys'] : []).map(String),
    ),
  );
  return {
    text: `The policy evaluator could not decide ${list(actions)}: the policies depend on ${list(keys) || 'values'} that iot-doctor does not receive, and TestAuthorization was not allowed to decide instead`,
    results: [...undecided],
    code: 'AUTH_UNDECIDED',
  };
}

/** Why the cloud checks could not tell the causes apart: skipped, denied, unreachable, or not run. */
function cloudStatus(facts: Facts): { text: string; results: CheckResult[]; code: string } {
  const cloud = facts.results.filter((r) => r.id.startsWith('cloud.'));
  if (cloud.length === 0) return { text: 'The cloud checks did not run', results: [], code: 'NOT_RUN' };
  const blocking = cloud.filter((r) => isCode(r, ...CLOUD_BLOCKERS));
  const first = blocking[0];
  const undecided = cloud.filter((r) => isCode(r, 'AUTH_UNDECIDED'));
  if (!first && undecided.length > 0) return undecidedStatus(undecided);
  if (!first) return { text: 'The cloud checks that ran did not find the cause', results: [], code: 'RAN' };
  const perm = str(first.evidence['permission']);
  const text = isCode(first, 'CLOUD_NO_CREDENTIALS')
    ? 'The cloud checks could not run: no AWS credentials were available'
    : isCode(first, 'IAM_ACCESS_DENIED')
      ? `The cloud checks were refused by IAM${perm ? ` (missing ${perm})` : ''}`
      : isCode(first, 'CLOUD_API_UNREACHABLE')
        ? 'The cloud checks could not reach the AWS IoT API'
        : `The cloud checks could not run (${first.code}: ${first.summary})`;
  return { text, results: blocking, code: first.code };
}

/** The causes a rejection after the handshake can have, given how the routes were rejected. */
function authCandidates(facts: Facts, symptoms: readonly CheckResult[]): Candidate[] {
  const clientId = facts.clientId() ?? '<client id>';
  const topic = facts.topic() ?? '<topic>';
  const certId = certificateId(facts);
  const certArn = '<certificate ARN>';
  const mqttConnect = symptoms.some((s) => isCode(s, 'MQTT_CLOSED_AFTER_CONNECT') || isCode(s, 'MQTT_CONNACK_REFUSED'));
  const http = symptoms.some((s) => s.code.startsWith('HTTP_'));
  const certLevel = symptoms.some((s) => isCode(s, 'CLIENT_CERT_REJECTED'));

  const all: Candidate[] = [
    {
      code: 'CERT_NOT_REGISTERED',
      title: 'The certificate is not registered in this account and region',
      decidedBy: `cloud.certificate (aws iot describe-certificate --certificate-id ${certId ?? '<certificate id>'})`,
    },
    {
      code: 'CERT_NOT_ACTIVE',
      title: 'The certificate is registered but not ACTIVE',
      decidedBy: `cloud.certificate (the status in aws iot describe-certificate --certificate-id ${certId ?? '<certificate id>'})`,
    },
  ];
  if (!certLevel || mqttConnect || http) {
    all.push({
      code: 'NO_POLICY_ATTACHED',
      title: 'No policy is attached to the certificate',
      decidedBy: `cloud.policy-attached (aws iot list-attached-policies --target ${certArn})`,
    });
  }
  if (mqttConnect) {
    all.push({
      code: 'POLICY_DENIES_CONNECT',
      title: `No policy allows iot:Connect on client/${clientId}`,
      decidedBy: `cloud.authorization.connect (aws iot test-authorization --principal ${certArn} --client-id ${clientId} --auth-infos actionType=CONNECT,resources=arn:aws:iot:<region>:<account>:client/${clientId})`,
    });
  }
  if (http) {
    all.push({
      code: 'POLICY_DENIES_PUBLISH',
      title: `No policy allows iot:Publish on topic/${topic}`,
      decidedBy: `cloud.authorization.publish (aws iot test-authorization --principal ${certArn} --auth-infos actionType=PUBLISH,resources=arn:aws:iot:<region>:<account>:topic/${topic})`,
    });
  }
  return all;
}

/** The candidates the cloud checks or a working route have not ruled out, and the results that ruled the others out. */
function remainingCandidates(facts: Facts, all: Candidate[]): { candidates: Candidate[]; cleared: CheckResult[] } {
  const clientId = facts.clientId() ?? '<client id>';
  const ruledOut = new Set<string>();
  const cleared: CheckResult[] = [];
  const clear = (r: CheckResult | undefined, ...codes: string[]): void => {
    if (!r) return;
    cleared.push(r);
    codes.forEach((c) => ruledOut.add(c));
  };
  clear(facts.is('cloud.certificate', 'CERT_REGISTERED_ACTIVE'), 'CERT_NOT_REGISTERED', 'CERT_NOT_ACTIVE');
  clear(facts.is('cloud.policy-attached', 'POLICY_ATTACHED'), 'NO_POLICY_ATTACHED');
  clear(allowed(facts, 'CONNECT'), 'POLICY_DENIES_CONNECT');
  clear(allowed(facts, 'PUBLISH'), 'POLICY_DENIES_PUBLISH');
  // A route got CONNACK or HTTP 200 with this certificate: registration, status and the policy attachment are fine.
  if (someRouteAuthenticated(facts)) {
    ruledOut.add('CERT_NOT_REGISTERED');
    ruledOut.add('CERT_NOT_ACTIVE');
    ruledOut.add('NO_POLICY_ATTACHED');
  }
  let candidates = all.filter((c) => !ruledOut.has(c.code));
  if (candidates.length === 0) {
    candidates = [
      ...(facts.is('cloud.endpoint', 'ENDPOINT_MATCHES')
        ? []
        : [
            {
              code: 'ENDPOINT_OTHER_ACCOUNT',
              title: 'The endpoint belongs to another account or region',
              decidedBy: 'cloud.endpoint (aws iot describe-endpoint --endpoint-type iot:Data-ATS)',
            },
          ]),
      {
        code: 'DUPLICATE_CLIENT_ID',
        title: `Another connection uses client id ${clientId} and takes it over`,
        decidedBy: 'a run with a fresh --client-id',
      },
    ];
  }
  return { candidates, cleared };
}

/** How the server rejected the device on one route, in words. */
function rejectionPhrase(s: CheckResult): string {
  return isCode(s, 'MQTT_CLOSED_AFTER_CONNECT')
    ? 'closed the connection right after MQTT CONNECT (no CONNACK)'
    : isCode(s, 'MQTT_CONNACK_REFUSED')
      ? `refused the MQTT CONNECT (${str(s.evidence['reason']) ?? `reason ${String(s.evidence['reasonCode'] ?? '?')}`})`
      : isCode(s, 'CLIENT_CERT_REJECTED')
        ? 'rejected the client certificate'
        : isCode(s, 'HTTP_CLOSED_WITHOUT_RESPONSE')
          ? 'closed the HTTPS publish without an answer'
          : `answered the HTTPS publish with ${isCode(s, 'HTTP_UNAUTHORIZED') ? '401' : '403'}`;
}

/**
 * AUTH_REJECTED_UNEXPLAINED: the server rejects the device after the handshake (closed after CONNECT, 403,
 * client certificate refused) and no finding explains it. Names every cause that is still possible and the check
 * that decides each. `claimed` holds the ids of results another finding already explains.
 */
export function authRejectedUnexplained(facts: Facts, claimed: ReadonlySet<string>): Finding[] {
  const symptoms = authSymptoms(facts).filter((s) => !claimed.has(s.id));
  if (symptoms.length === 0) return [];
  const clientId = facts.clientId() ?? '<client id>';
  const { candidates, cleared } = remainingCandidates(facts, authCandidates(facts, symptoms));
  const status = cloudStatus(facts);
  const seen = uniq(symptoms.map(rejectionPhrase));
  return [
    finding('AUTH_REJECTED_UNEXPLAINED', {
      severity: routeSeverity(facts),
      confidence: candidates.length === 1 ? 'likely' : 'possible',
      title: `AWS IoT rejects the device after the TLS handshake; ${candidates.length === 1 ? 'one cause is left' : `${candidates.length} causes are possible`}`,
      explanation: `The network path works and TLS completes, but AWS IoT ${list(seen)} (${list(uniq(symptoms.map((s) => s.route!)))}). AWS IoT gives no reason on the wire, and ${candidates.length === 1 ? 'the cause still possible is' : 'these causes all look the same'}: ${candidates.map((c, i) => `${candidates.length === 1 ? '' : `(${i + 1}) `}${c.title.charAt(0).toLowerCase()}${c.title.slice(1)}`).join('; ')}. ${status.text}${status.code === 'RAN' ? '' : candidates.length === 1 ? ', so it is not confirmed yet' : ', so they cannot be told apart yet'}.`,
      remediation: [
        ...(status.code === 'RAN'
          ? []
          : status.code === 'AUTH_UNDECIDED'
            ? [
                'Allow iot:TestAuthorization to the IAM identity that runs iot-doctor and run again, so AWS decides; or compare the policy statements that use these keys with what the device sends.',
              ]
            : [
                'Run again with read-only AWS credentials for the account (--profile or the AWS_* environment; iot:DescribeEndpoint, iot:DescribeCertificate, iot:ListAttachedPolicies, iot:TestAuthorization) so the cloud checks decide.',
              ]),
        ...candidates.map((c) => `${c.title}? Decided by ${c.decidedBy}.`),
      ],
      params: {
        routes: uniq(symptoms.map((s) => s.route)),
        symptoms: uniq(symptoms.map((s) => s.code)),
        clientId,
        cloudChecks: status.code,
      },
      evidence: ids([...symptoms, ...status.results, ...cleared]),
      candidates,
    }),
  ];
}
