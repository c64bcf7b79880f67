/**
 * Findings from what AWS IoT recorded (field notes §7–8): the connectivity data's `disconnectReason`
 * (cloud.connectivity) and the failed entries of the AWS IoT logs (cloud.logs), plus the takeover a route saw while
 * holding its session (MQTT_SESSION_TAKEN_OVER). A record makes its finding `certain` ("recorded by AWS IoT", with
 * the record); where a record contradicts an inference (e.g. TestAuthorization allowed what the logs show refused),
 * the record wins and the finding shows both.
 */
import type { CheckResult, Finding } from '../model/index.js';
import { allowed } from './cloud.js';
import type { ResultCode } from './codes.js';
import { finding, ids, routeSeverity, type Facts } from './facts.js';

/** One failed log entry as cloud.logs reports it (checks/cloud-logs.ts `RecordedFailure`). */
interface Recorded {
  time?: string;
  eventType?: string;
  clientId?: string;
  reason?: string;
  details?: string;
  disconnectReason?: string;
  sourceIp?: string;
}

/** The failed entries cloud.logs found (empty when it found none or did not run). */
export function recordedFailures(facts: Facts): { result: CheckResult; entries: Recorded[] } | undefined {
  const result = facts.is('cloud.logs', 'RECORDED_FAILURES');
  const entries = result?.evidence?.['failures'];
  return result && Array.isArray(entries) ? { result, entries: entries as Recorded[] } : undefined;
}

/** Log wordings of a takeover disconnect (field notes §8: older `DUPLICATE_CLIENT_ID`, MQTT 5 `SESSION_TAKEN_OVER`). */
const TAKEOVER = new Set(['DUPLICATE_CLIENT_ID', 'DUPLICATE_CLIENTID', 'SESSION_TAKEN_OVER']);

/** Route cells a takeover produces when the other client reconnects during the round trip. */
const TAKEOVER_SYMPTOMS: readonly ResultCode[] = [
  'MQTT_CLOSED_AFTER_SUBSCRIBE',
  'MQTT_CLOSED_AFTER_PUBLISH',
  'MQTT_CLOSED_BEFORE_DELIVERY',
];

const describe = (e: Recorded): string =>
  [e.time, e.eventType, e.reason ?? e.disconnectReason, e.details, e.sourceIp ? `from ${e.sourceIp}` : undefined]
    .filter(Boolean)
    .join(' ');

/** A logged takeover or the connectivity data's DUPLICATE_CLIENTID: the record in words and the results it is in. */
export function recordedTakeover(
  facts: Facts,
): { record: string; records: string[]; results: CheckResult[]; logged: Recorded[] } | undefined {
  const connectivity = facts.is('cloud.connectivity', 'RECORDED_DUPLICATE_CLIENT_ID');
  const logs = recordedFailures(facts);
  const logged = (logs?.entries ?? []).filter((e) => TAKEOVER.has(e.disconnectReason ?? e.reason ?? ''));
  const records = [
    ...(connectivity ? [`GetThingConnectivityData: ${connectivity.summary}`] : []),
    ...logged.slice(0, 3).map((e) => `AWS IoT log: ${describe(e)}`),
  ];
  if (records.length === 0) return undefined;
  const results = [connectivity, logged.length > 0 ? logs?.result : undefined];
  return {
    record: records.join('; '),
    records,
    results: results.filter((r): r is CheckResult => Boolean(r)),
    logged,
  };
}

/**
 * The failed entries AWS IoT logged for `eventType` (`Connect`, `Publish-In`, `Subscribe`, …) with an
 * authorization reason (`AUTHORIZATION_FAILURE`, facts §3 table), each in words with the cloud.logs result.
 */
export function loggedAuthorizationFailures(
  facts: Facts,
  eventType: string,
): { text: string; entry: Recorded; result: CheckResult }[] {
  const logs = recordedFailures(facts);
  if (!logs) return [];
  return logs.entries
    .filter((e) => e.eventType === eventType && /AUTHORI[SZ]ATION/i.test(e.reason ?? ''))
    .map((e) => ({ text: describe(e), entry: e, result: logs.result }));
}

/** The CONNECTs AWS IoT logged as throttled (more than 1 CONNECT per second for the client id, facts §3.1). */
function loggedThrottles(facts: Facts): Recorded[] {
  return (recordedFailures(facts)?.entries ?? []).filter((e) => e.eventType === 'Connect' && e.reason === 'THROTTLED');
}

/**
 * DUPLICATE_CLIENT_ID: another client uses the probe's client id. From a route's takeover during its hold, or a
 * refused CONNECT that AWS IoT logged as throttled (likely); made certain by the connectivity data
 * (`DUPLICATE_CLIENTID`) or a logged takeover disconnect.
 */
export function duplicateClientId(facts: Facts): Finding[] {
  const seen = facts.routeCells(['MQTT_SESSION_TAKEN_OVER']);
  const taken = recordedTakeover(facts);
  // The probe spaces its CONNECTs with one client id 1 s apart, so a throttled CONNECT for the id means another
  // client connected with it within that second (field notes §8: duplicates run into THROTTLED too; inference).
  const throttles = loggedThrottles(facts);
  const refusedConnects =
    throttles.length > 0 ? facts.routeCells(['MQTT_CLOSED_AFTER_CONNECT', 'MQTT_CONNACK_REFUSED']) : [];
  if (seen.length === 0 && !taken && refusedConnects.length === 0) return [];
  const clientId = facts.clientId() ?? '<client id>';
  const records = [...(taken?.records ?? []), ...throttles.slice(0, 2).map((e) => `AWS IoT log: ${describe(e)}`)];
  const logs = recordedFailures(facts);
  // With a takeover record, the routes' closes after SUBSCRIBE / PUBLISH are the takeover too, not a policy.
  const closes = taken ? [...facts.routeCells(TAKEOVER_SYMPTOMS), ...refusedConnects] : refusedConnects;
  const otherIps = (taken?.logged ?? []).map((e) => e.sourceIp).filter((ip): ip is string => Boolean(ip));
  return [
    finding('DUPLICATE_CLIENT_ID', {
      severity: 'error',
      confidence: taken ? 'certain' : 'likely',
      title: `Another client uses client id "${clientId}"`,
      explanation:
        'AWS IoT allows one connection per client id: when a second client connects with the same id, the older ' +
        'connection is closed (MQTT 5: DISCONNECT 0x8E Session taken over), so two devices with one id keep knocking ' +
        'each other off, and reconnecting more than once a second is also throttled. ' +
        (records.length > 0
          ? `Recorded by AWS IoT: ${records.join('; ')}.`
          : `The probe's session was closed while idle (${seen.map((c) => c.summary).join('; ')}).`),
      remediation: [
        'Give every device its own client id (the thing name is the usual choice) and never reuse it in tools or tests.',
        'Make AWS IoT enforce it: allow iot:Connect on client/${iot:Connection.Thing.ThingName} with the condition ' +
          '"Bool": {"iot:Connection.Thing.IsAttached": "true"}, so only the certificate attached to that thing can use the id.',
        `Find the other client: the AWS IoT logs show the source IP of each Connect for this id (aws logs filter-log-events --log-group-name AWSIotLogsV2 --filter-pattern '{ $.clientId = "${clientId}" }')` +
          (otherIps.length ? `; recorded so far: ${[...new Set(otherIps)].join(', ')}.` : '.'),
      ],
      params: { clientId, recorded: records.length > 0, ...(records.length ? { records } : {}) },
      evidence: ids([...seen, ...closes, ...(taken?.results ?? []), throttles.length > 0 ? logs?.result : undefined]),
    }),
  ];
}

/**
 * A refused CONNECT that the logs explain (reason AUTHORIZATION_FAILURE, facts §3 table): the POLICY_DENIES_CONNECT
 * finding becomes certain with the record; when there is none (TestAuthorization not allowed to the caller) it is
 * made from the record; when TestAuthorization said ALLOWED, the record wins and both are shown.
 */
export function applyRecordedConnectFailures(facts: Facts, findings: Finding[]): void {
  const refused = loggedAuthorizationFailures(facts, 'Connect');
  const logs = refused[0]?.result;
  if (!logs) return;
  const record = recordText(refused);
  const existing = findings.find((f) => f.code === 'POLICY_DENIES_CONNECT');
  if (existing) return citeRecord(existing, record, logs);
  const clientId = refused[0]?.entry.clientId ?? facts.clientId() ?? '<client id>';
  const auth = allowed(facts, 'CONNECT');
  const inferred = auth ? `${auth.id} said: ${auth.summary}` : undefined;
  const symptoms = facts.routeCells(['MQTT_CLOSED_AFTER_CONNECT', 'MQTT_CONNACK_REFUSED']);
  dropExplained(facts, findings, new Set(ids([...symptoms, logs, auth])));
  findings.push(
    finding('POLICY_DENIES_CONNECT', {
      severity: routeSeverity(facts),
      confidence: 'certain',
      title: `AWS IoT refused client id "${clientId}" at CONNECT: authorization failure (recorded by AWS IoT)`,
      explanation:
        `Recorded by AWS IoT: ${record}. The certificate was accepted, but no policy reaching it allows iot:Connect ` +
        `on client/${clientId}.` +
        (inferred ? ` This contradicts the inference: ${inferred}; the record is what AWS IoT decided.` : ''),
      remediation: [
        `Allow "iot:Connect" on "arn:aws:iot:<region>:<account>:client/${clientId}" in the device policy, or ` +
          'configure the device with a client id the policy allows (often the thing name).',
        'To see which statement decides, allow iot:TestAuthorization (or iot:GetPolicy) to the identity running iot-doctor.',
      ],
      params: { clientId, record, recorded: true, ...(inferred ? { inferred } : {}) },
      evidence: ids([logs, ...symptoms, auth]),
    }),
  );
}

/** The log event of each operation a policy finding names (facts §3 table: `Publish-In`, `Subscribe`). */
const OPERATION_EVENTS = [
  ['POLICY_DENIES_PUBLISH', 'Publish-In'],
  ['POLICY_DENIES_SUBSCRIBE', 'Subscribe'],
] as const;

/**
 * A refused PUBLISH or SUBSCRIBE that the logs explain (reason AUTHORIZATION_FAILURE): the POLICY_DENIES_PUBLISH /
 * _SUBSCRIBE finding cites the record (the cloud.logs result, which is then no unexplained failure) and becomes certain.
 */
export function applyRecordedOperationFailures(facts: Facts, findings: Finding[]): void {
  for (const [code, eventType] of OPERATION_EVENTS) {
    const existing = findings.find((f) => f.code === code);
    const logged = existing ? loggedAuthorizationFailures(facts, eventType) : [];
    const logs = logged[0]?.result;
    if (!existing || !logs) continue;
    citeRecord(existing, recordText(logged), logs);
  }
}

/** The first three logged failures in words, `; `-separated. */
function recordText(logged: readonly { text: string }[]): string {
  return logged
    .slice(0, 3)
    .map((r) => r.text)
    .join('; ');
}

/** `f` made certain by what AWS IoT recorded: the record quoted in its explanation and params, cloud.logs cited. */
function citeRecord(f: Finding, record: string, logs: CheckResult): void {
  f.confidence = 'certain';
  f.explanation += ` Recorded by AWS IoT: ${record}.`;
  f.params['record'] = record;
  if (!f.evidence.includes(logs.id)) f.evidence.push(logs.id);
}

/**
 * Drops AUTH_REJECTED_UNEXPLAINED and UNEXPLAINED_FAILURE when the record explains every route cell they cite (the
 * ids in `explained`); a fallback that also cites other failed cells stays.
 */
function dropExplained(facts: Facts, findings: Finding[], explained: ReadonlySet<string>): void {
  for (let i = findings.length - 1; i >= 0; i--) {
    const f = findings[i]!;
    if (f.code !== 'AUTH_REJECTED_UNEXPLAINED' && f.code !== 'UNEXPLAINED_FAILURE') continue;
    if (f.evidence.every((id) => explained.has(id) || !facts.get(id)?.route)) findings.splice(i, 1);
  }
}
