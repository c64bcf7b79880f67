/**
 * Account-side causes, decided by the cloud checks (AWS IoT API): the certificate is not registered or not active,
 * no policy is attached, the policy denies an action, the endpoint belongs elsewhere. When the cloud checks could
 * not run, a rejection after the handshake has several candidates and is reported as such.
 */
import type { CheckResult, Finding } from '../model/index.js';
import {
  authSymptoms,
  certificateId,
  finding,
  ids,
  list,
  names,
  num,
  routeSeverity,
  str,
  uniq,
  type Facts,
  isCode,
} from './facts.js';
import type { ResultCode } from './codes.js';
import { isLegacyName } from './tls.js';

/** CERT_NOT_REGISTERED: DescribeCertificate does not know the certificate in this account and region. */
export function certNotRegistered(facts: Facts): Finding[] {
  const r = facts.is('cloud.certificate', 'CERT_NOT_REGISTERED');
  if (!r) return [];
  const symptoms = authSymptoms(facts);
  const id = str(r.evidence['certificateId']) ?? certificateId(facts);
  return [
    finding('CERT_NOT_REGISTERED', {
      severity: routeSeverity(facts),
      confidence: 'certain',
      title: 'The device certificate is not registered in this account and region',
      explanation: `AWS IoT only accepts client certificates registered in the account and region of the endpoint. DescribeCertificate does not know this one${id ? ` (id ${id.slice(0, 16)}…)` : ''}: it was never registered, was deleted, or was registered in another region or account.${symptoms.length > 0 ? ' That is why the server closes the connection or answers 403.' : ''}`,
      remediation: [
        'Register the certificate in this region: aws iot register-certificate --certificate-pem file://cert.pem --set-as-active (or register-certificate-without-ca), then attach the policy and thing.',
        'Or point the device at the endpoint of the region and account where the certificate is registered.',
        ...(r.reproduce ? [`Check by hand: ${r.reproduce}`] : []),
      ],
      params: { certificateId: id ?? null, region: str(r.evidence['region']) ?? null },
      evidence: ids([r, ...symptoms]),
    }),
  ];
}

/**
 * CERT_NOT_ACTIVE: the certificate is registered but not ACTIVE. An inactive CA is not a cause: certificates it
 * registered earlier keep working, only new (auto-)registrations stop; it stays a warning of its own.
 */
export function certNotActive(facts: Facts): Finding[] {
  const r = facts.is('cloud.certificate', 'CERT_NOT_ACTIVE');
  if (!r) return [];
  const status = str(r.evidence['status']) ?? 'INACTIVE';
  const symptoms = authSymptoms(facts);
  return [
    finding('CERT_NOT_ACTIVE', {
      severity: routeSeverity(facts),
      confidence: 'certain',
      title: `The device certificate is ${status}, not ACTIVE`,
      explanation: `AWS IoT lets a device connect only while its certificate is ACTIVE. This certificate is ${status}${status === 'REVOKED' ? ': a revoked certificate cannot be activated again, only replaced' : ''}.${symptoms.length > 0 ? ' That is why the server closes the connection or answers 403.' : ''}`,
      remediation:
        status === 'REVOKED'
          ? ['Issue and register a new certificate for the device, attach the policy and thing, and install it.']
          : [
              'Activate it: aws iot update-certificate --certificate-id <id> --new-status ACTIVE',
              ...(status === 'PENDING_TRANSFER'
                ? ['Or accept the pending transfer first: aws iot accept-certificate-transfer --certificate-id <id>']
                : []),
            ],
      params: { status },
      evidence: ids([r, ...symptoms]),
    }),
  ];
}

/** NO_POLICY_ATTACHED: the certificate has no policy, so every action is denied. */
export function noPolicyAttached(facts: Facts): Finding[] {
  const r = facts.is('cloud.policy-attached', 'NO_POLICY_ATTACHED');
  if (!r) return [];
  const symptoms = authSymptoms(facts);
  return [
    finding('NO_POLICY_ATTACHED', {
      severity: routeSeverity(facts),
      confidence: 'certain',
      title: 'No AWS IoT policy is attached to the device certificate',
      explanation: `Everything in AWS IoT is denied unless a policy allows it. No policy is attached to this certificate${r.evidence['thingGroups'] ? ' (nor to its thing groups)' : ''}, so AWS IoT refuses the MQTT CONNECT (closing the connection with MQTT 3.1.1) and every publish.`,
      remediation: [
        'Attach a policy that allows iot:Connect on client/<client id> and iot:Publish/iot:Subscribe/iot:Receive on the device topics: aws iot attach-policy --policy-name <policy> --target <certificate ARN>.',
        ...(r.reproduce ? [`Check by hand: ${r.reproduce}`] : []),
      ],
      params: { certificateArn: str(r.evidence['certificateArn']) ?? null },
      evidence: ids([r, ...symptoms]),
    }),
  ];
}

type Action = 'CONNECT' | 'PUBLISH' | 'SUBSCRIBE' | 'RECEIVE';

interface AuthVerdict {
  result: CheckResult;
  action: Action;
  deny: 'implicit' | 'explicit';
  resource: string | undefined;
  clientId: string | undefined;
  policies: string[];
  missingContextValues: string[];
}

function attachedPolicyNames(facts: Facts): string[] {
  const r = facts.get('cloud.policy-attached');
  if (!r) return [];
  return uniq([...names(r.evidence['policies']), ...names(r.evidence['policyNames'])]);
}

function authVerdict(facts: Facts, action: Action): AuthVerdict | undefined {
  const r = facts.is(`cloud.authorization.${action.toLowerCase()}`, 'AUTH_IMPLICIT_DENY', 'AUTH_EXPLICIT_DENY');
  if (!r) return undefined;
  const deny = isCode(r, 'AUTH_EXPLICIT_DENY') ? 'explicit' : 'implicit';
  const checked = names(r.evidence['implicitDenyBy']);
  const policies =
    deny === 'explicit' ? names(r.evidence['deniedBy']) : checked.length > 0 ? checked : attachedPolicyNames(facts);
  const missing = Array.isArray(r.evidence['missingContextValues'])
    ? (r.evidence['missingContextValues'] as unknown[]).map(String)
    : [];
  return {
    result: r,
    action,
    deny,
    resource: str(r.evidence['resource']),
    clientId: str(r.evidence['clientId']),
    policies,
    missingContextValues: missing,
  };
}

function allowed(facts: Facts, action: Action): CheckResult | undefined {
  return facts.is(`cloud.authorization.${action.toLowerCase()}`, 'AUTH_ALLOWED');
}

/** The part after `:topic/`, `:topicfilter/` or `:client/` of an IoT resource ARN. */
function resourceName(arn: string | undefined, kind: 'topic' | 'topicfilter' | 'client'): string | undefined {
  if (!arn) return undefined;
  const m = new RegExp(`:${kind}/(.*)$`).exec(arn);
  return m ? m[1] : undefined;
}

function denyText(v: AuthVerdict): string {
  return v.deny === 'explicit'
    ? `explicitly denied by ${v.policies.length > 0 ? list(v.policies.map((p) => `"${p}"`)) : 'a policy'} (an explicit Deny wins over every Allow)`
    : `not allowed by any attached policy${v.policies.length > 0 ? ` (${list(v.policies.map((p) => `"${p}"`))})` : ''}: an implicit deny`;
}

/** POLICY_DENIES_CONNECT: TestAuthorization says iot:Connect on client/<id> is denied. */
export function policyDeniesConnect(facts: Facts): Finding[] {
  const v = authVerdict(facts, 'CONNECT');
  if (!v) return [];
  const clientId = v.clientId ?? resourceName(v.resource, 'client') ?? facts.clientId() ?? '<client id>';
  const thing = facts.is('cloud.thing', 'THING_NOT_ATTACHED_FOR_POLICY');
  const symptoms = facts.routeCells(['MQTT_CLOSED_AFTER_CONNECT', 'MQTT_CONNACK_REFUSED']);
  return [
    finding('POLICY_DENIES_CONNECT', {
      severity: routeSeverity(facts),
      confidence: 'certain',
      title: `The policy does not let client id "${clientId}" connect`,
      explanation: `To connect, a policy must allow iot:Connect on client/${clientId}. TestAuthorization says it is ${denyText(v)}.${v.missingContextValues.length > 0 ? ` The policy uses values that were not known (${list(v.missingContextValues)}), such as thing variables that need a thing attached to the certificate.` : ''}${thing ? ' The policy uses thing variables, but no thing is attached to the certificate.' : ''} AWS IoT then closes the connection right after CONNECT (MQTT 3.1.1) or refuses it with "not authorized" (MQTT 5).`,
      remediation: [
        v.deny === 'explicit'
          ? `Remove or narrow the Deny statement in ${list(v.policies) || 'the denying policy'}.`
          : `Allow it: add "iot:Connect" on "arn:aws:iot:<region>:<account>:client/${clientId}" (or client/\${iot:Connection.Thing.ThingName} with the thing attached) to the device policy.`,
        ...(thing
          ? [
              'Attach the thing to the certificate: aws iot attach-thing-principal --thing-name <thing> --principal <certificate ARN>.',
            ]
          : []),
        'Or configure the device with a client id the policy already allows (often the thing name).',
        ...(v.result.reproduce ? [`Check by hand: ${v.result.reproduce}`] : []),
      ],
      params: {
        clientId,
        deny: v.deny,
        policies: v.policies,
        ...(v.missingContextValues.length > 0 ? { missingContextValues: v.missingContextValues } : {}),
      },
      evidence: ids([v.result, thing, facts.get('cloud.policy-attached'), ...symptoms]),
    }),
  ];
}

const PUBLISH_SYMPTOMS: readonly ResultCode[] = ['MQTT_PUBACK_REFUSED', 'MQTT_CLOSED_AFTER_PUBLISH'];

/** An MQTT route connected: the certificate, its status and iot:Connect are fine, so a later refusal is a topic policy. */
function someMqttConnected(facts: Facts): boolean {
  return facts.routes().some((r) => isCode(facts.cell(r, 'protocol'), 'MQTT_CONNACK_OK'));
}

function someRouteAuthenticated(facts: Facts): boolean {
  return facts.routes().some((r) => isCode(facts.cell(r, 'protocol'), 'MQTT_CONNACK_OK', 'HTTP_PUBLISH_OK'));
}

function isNotAuthorized(r: CheckResult): boolean {
  const code = num(r.evidence['reasonCode']);
  return code === 0x87 || code === 5;
}

/** POLICY_DENIES_PUBLISH: iot:Publish on the probe topic is denied (TestAuthorization, or the way the routes fail). */
export function policyDeniesPublish(facts: Facts): Finding[] {
  const v = authVerdict(facts, 'PUBLISH');
  let symptoms = facts.routeCells(PUBLISH_SYMPTOMS);
  const forbidden = facts.routeCells(['HTTP_FORBIDDEN']);
  if (v || someMqttConnected(facts)) symptoms = [...symptoms, ...forbidden];
  if (!v && (symptoms.length === 0 || allowed(facts, 'PUBLISH'))) return [];
  const topic = resourceName(v?.resource, 'topic') ?? facts.topic() ?? '<topic>';
  const confidence = v
    ? 'certain'
    : symptoms.some((s) => isCode(s, 'MQTT_CLOSED_AFTER_PUBLISH') || isCode(s, 'HTTP_FORBIDDEN') || isNotAuthorized(s))
      ? 'likely'
      : 'possible';
  return [
    finding('POLICY_DENIES_PUBLISH', {
      severity: 'error',
      confidence,
      title: `The policy does not allow publishing on ${topic}`,
      explanation: `Publishing needs a policy that allows iot:Publish on topic/${topic}. ${v ? `TestAuthorization says it is ${denyText(v)}.` : `The device connected, but: ${uniq(symptoms.map((s) => s.summary)).join('; ')}. That is how AWS IoT answers a publish the policy does not allow (MQTT 3.1.1 closes the connection, MQTT 5 answers "not authorized", HTTPS answers 403).`} The probe publishes on its own test topic; if the device uses other topics, probe with --topic set to one of them.`,
      remediation: [
        v?.deny === 'explicit'
          ? `Remove or narrow the Deny statement in ${list(v.policies) || 'the denying policy'}.`
          : `Allow it: add "iot:Publish" on "arn:aws:iot:<region>:<account>:topic/${topic}" (note: topic/, not topicfilter/) to the device policy.`,
        ...(v?.result.reproduce
          ? [`Check by hand: ${v.result.reproduce}`]
          : [
              'Confirm with the cloud checks (AWS credentials with iot:TestAuthorization), or aws iot test-authorization --auth-infos actionType=PUBLISH,resources=<topic ARN>.',
            ]),
      ],
      params: {
        topic,
        ...(v ? { deny: v.deny, policies: v.policies } : {}),
        routes: uniq(symptoms.map((s) => s.route)),
      },
      evidence: ids([v?.result, ...symptoms]),
    }),
  ];
}

/** POLICY_DENIES_SUBSCRIBE: iot:Subscribe on the topic filter (or iot:Receive on the topic) is denied. */
export function policyDeniesSubscribe(facts: Facts): Finding[] {
  const sub = authVerdict(facts, 'SUBSCRIBE');
  const recv = authVerdict(facts, 'RECEIVE');
  const subSymptoms = allowed(facts, 'SUBSCRIBE')
    ? []
    : facts.routeCells(['MQTT_SUBACK_REFUSED', 'MQTT_CLOSED_AFTER_SUBSCRIBE']);
  const recvSymptoms = allowed(facts, 'RECEIVE')
    ? []
    : facts.routeCells(['MQTT_MESSAGE_NOT_RECEIVED', 'MQTT_CLOSED_BEFORE_DELIVERY', 'HTTP_MESSAGE_NOT_RECEIVED']);
  const verdicts = [sub, recv].filter((v): v is AuthVerdict => !!v);
  const symptoms = [...subSymptoms, ...recvSymptoms];
  if (verdicts.length === 0 && symptoms.length === 0) return [];
  const actions = uniq([
    ...verdicts.map((v) => v.action),
    ...(subSymptoms.length > 0 ? (['SUBSCRIBE'] as const) : []),
    ...(recvSymptoms.length > 0 ? (['RECEIVE'] as const) : []),
  ]);
  const topic =
    resourceName(sub?.resource, 'topicfilter') ?? resourceName(recv?.resource, 'topic') ?? facts.topic() ?? '<topic>';
  const confidence = verdicts.length > 0 ? 'certain' : subSymptoms.length > 0 ? 'likely' : 'possible';
  const policies = uniq(verdicts.flatMap((v) => v.policies));
  const deny = verdicts.some((v) => v.deny === 'explicit') ? 'explicit' : verdicts.length > 0 ? 'implicit' : undefined;
  return [
    finding('POLICY_DENIES_SUBSCRIBE', {
      severity: 'error',
      confidence,
      title: `The policy does not let the device ${actions.includes('SUBSCRIBE') ? 'subscribe to' : 'receive messages on'} ${topic}`,
      explanation: `To get messages a device needs iot:Subscribe on topicfilter/${topic} and iot:Receive on topic/${topic}. ${verdicts.length > 0 ? `TestAuthorization says ${verdicts.map((v) => `${v.action} is ${denyText(v)}`).join('; ')}.` : `Seen: ${uniq(symptoms.map((s) => s.summary)).join('; ')}. That is how AWS IoT treats a subscription or delivery the policy does not allow${confidence === 'possible' ? ', although a slow delivery looks the same' : ''}.`}`,
      remediation: [
        deny === 'explicit'
          ? `Remove or narrow the Deny statement in ${list(policies) || 'the denying policy'}.`
          : `Allow "iot:Subscribe" on "arn:aws:iot:<region>:<account>:topicfilter/${topic}" and "iot:Receive" on "arn:aws:iot:<region>:<account>:topic/${topic}" in the device policy.`,
        'Policies name MQTT wildcards literally: use * in the policy resource, not + or #.',
      ],
      params: { topic, actions, ...(deny ? { deny, policies } : {}), routes: uniq(symptoms.map((s) => s.route)) },
      evidence: ids([...verdicts.map((v) => v.result), ...symptoms]),
      ...(confidence === 'possible'
        ? {
            candidates: [
              {
                code: 'POLICY_DENIES_SUBSCRIBE',
                title: `iot:Receive on topic/${topic} is not allowed`,
                decidedBy: 'cloud.authorization.receive (aws iot test-authorization actionType=RECEIVE)',
              },
              {
                code: 'SLOW_DELIVERY',
                title: 'The message arrived after the deadline',
                decidedBy: 'a run with a longer --timeout',
              },
            ],
          }
        : {}),
    }),
  ];
}

/** ENDPOINT_OTHER_ACCOUNT: the configured endpoint is not the one DescribeEndpoint returns for these credentials. */
export function endpointOtherAccount(facts: Facts): Finding[] {
  const r = facts.is('cloud.endpoint', 'ENDPOINT_OTHER_ACCOUNT', 'ENDPOINT_REGION_MISMATCH');
  if (!r) return [];
  const ev = r.evidence;
  const configured =
    str(ev['actual']) ??
    str(ev['configured']) ??
    str(ev['endpoint']) ??
    facts.endpointName() ??
    'the configured endpoint';
  const accountEndpoint =
    str(ev['accountEndpoint']) ?? str(ev['expected']) ?? str(ev['describedEndpoint']) ?? str(ev['endpointAddress']);
  const kind = isCode(r, 'ENDPOINT_REGION_MISMATCH') ? 'region' : 'account';
  return [
    finding('ENDPOINT_OTHER_ACCOUNT', {
      severity: 'error',
      confidence: 'certain',
      title:
        kind === 'region'
          ? `The endpoint ${configured} is in another region than the account checked`
          : `The endpoint ${configured} belongs to another AWS account`,
      explanation: `Each AWS account has its own data endpoint per region, and certificates, policies and things exist only behind that endpoint. ${kind === 'region' ? `The endpoint is in ${str(ev['endpointRegion']) ?? 'another region'}, but the account was checked in ${str(ev['apiRegion']) ?? str(ev['region']) ?? 'another region'}.` : `DescribeEndpoint for these credentials returns ${accountEndpoint ?? 'a different endpoint'}.`} A device configured with another account's endpoint connects at TLS level and is then rejected, because its certificate is not registered there.`,
      remediation: [
        `Configure the device with ${accountEndpoint ?? 'the endpoint from aws iot describe-endpoint --endpoint-type iot:Data-ATS'} (the account and region where its certificate is registered).`,
        'Or, if the endpoint is right, run the cloud checks with credentials (--profile, --region) of the account that owns it.',
      ],
      params: { configured, accountEndpoint: accountEndpoint ?? null, kind },
      evidence: ids([r, ...authSymptoms(facts)]),
    }),
  ];
}

/** LEGACY_ENDPOINT: the endpoint is the deprecated VeriSign one (no -ats). */
export function legacyEndpoint(facts: Facts): Finding[] {
  const r = facts.is('cloud.endpoint', 'ENDPOINT_LEGACY');
  const name = facts.endpointName();
  const byName = name && isLegacyName(name);
  if (!r && !byName) return [];
  const endpoint =
    str(r?.evidence['actual']) ??
    str(r?.evidence['configured']) ??
    str(r?.evidence['endpoint']) ??
    name ??
    'the endpoint';
  const ats =
    str(r?.evidence['accountEndpoint']) ??
    str(r?.evidence['expected']) ??
    (byName ? endpoint.replace(/^([a-z0-9]+)\.iot\./i, '$1-ats.iot.') : undefined);
  const routeEvidence = facts
    .relevantRoutes()
    .flatMap((route) => [facts.cell(route, 'dns'), facts.cell(route, 'tls')])
    .filter((c) => !!c);
  const failing = routeEvidence.filter((c) => c!.status === 'fail');
  return [
    finding('LEGACY_ENDPOINT', {
      severity: failing.length > 0 ? routeSeverity(facts) : 'warning',
      confidence: 'certain',
      title: `${endpoint} is the legacy endpoint; use the -ats one`,
      explanation: `Endpoints without -ats (${endpoint}) are the old ones with Symantec/VeriSign server certificates, which AWS IoT no longer supports. Devices must use the iot:Data-ATS endpoint, which chains to Amazon Root CA 1 or 3.`,
      remediation: [
        `Configure the device with ${ats ?? 'the endpoint from aws iot describe-endpoint --endpoint-type iot:Data-ATS'}.`,
        'Give it AmazonRootCA1.pem (and AmazonRootCA3.pem) as the server CA instead of the VeriSign root.',
      ],
      params: { endpoint, atsEndpoint: ats ?? null },
      evidence: ids([r, ...(failing.length > 0 ? failing : routeEvidence.slice(0, 1))]),
    }),
  ];
}

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

/** Why the cloud checks could not tell the causes apart: skipped, denied, unreachable, or not run. */
function cloudStatus(facts: Facts): { text: string; results: CheckResult[]; code: string } {
  const cloud = facts.results.filter((r) => r.id.startsWith('cloud.'));
  if (cloud.length === 0) return { text: 'The cloud checks did not run', results: [], code: 'NOT_RUN' };
  const blocking = cloud.filter((r) => isCode(r, ...CLOUD_BLOCKERS));
  const first = blocking[0];
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
