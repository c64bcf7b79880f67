/**
 * Account-side causes, decided by the cloud checks (AWS IoT API): the certificate is not registered or not active,
 * no policy is attached, the policy denies an action, the endpoint belongs elsewhere. A rejection nothing here
 * explains is AUTH_REJECTED_UNEXPLAINED (auth-rejected.ts).
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

/** A TestAuthorization action type. */
export type Action = 'CONNECT' | 'PUBLISH' | 'SUBSCRIBE' | 'RECEIVE';

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

/** The cloud.authorization.<action> result when it says AUTH_ALLOWED. */
export function allowed(facts: Facts, action: Action): CheckResult | undefined {
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

/** Some route got MQTT CONNACK or HTTP 200: the certificate is registered, active and has a policy. */
export function someRouteAuthenticated(facts: Facts): boolean {
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
  // A name that does not resolve belongs to no account: the wording follows the dns cells.
  const unresolved = facts.routeCells(['DNS_NXDOMAIN'], 'dns');
  return [
    finding('ENDPOINT_OTHER_ACCOUNT', {
      severity: 'error',
      confidence: 'certain',
      title:
        kind === 'region'
          ? `The endpoint ${configured} is in another region than the account checked`
          : unresolved.length > 0
            ? `The endpoint ${configured} is not this account's, and it does not resolve`
            : `The endpoint ${configured} belongs to another AWS account`,
      explanation: `Each AWS account has its own data endpoint per region, and certificates, policies and things exist only behind that endpoint. ${kind === 'region' ? `The endpoint is in ${str(ev['endpointRegion']) ?? 'another region'}, but the account was checked in ${str(ev['apiRegion']) ?? str(ev['region']) ?? 'another region'}.` : `DescribeEndpoint for these credentials returns ${accountEndpoint ?? 'a different endpoint'}.`} ${unresolved.length > 0 ? `DNS answers that ${configured} does not exist (${list(uniq(unresolved.map((c) => c.route!)))}), so no account serves it: the name is mistyped or made up.` : "A device configured with another account's endpoint connects at TLS level and is then rejected, because its certificate is not registered there."}`,
      remediation: [
        `Configure the device with ${accountEndpoint ?? 'the endpoint from aws iot describe-endpoint --endpoint-type iot:Data-ATS'} (the account and region where its certificate is registered).`,
        'Or, if the endpoint is right, run the cloud checks with credentials (--profile, --region) of the account that owns it.',
      ],
      params: { configured, accountEndpoint: accountEndpoint ?? null, kind },
      evidence: ids([r, ...unresolved, ...authSymptoms(facts)]),
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
