/**
 * A server-side fact overrides a client-side guess (issue 18 item 4): a guess the route cells suggest is withdrawn
 * when a cloud check or AWS IoT's own record contradicts it, and shown as ruled out, with what ruled it out, on the
 * finding that explains those cells. Each case is paired with the same run without the server-side fact, where the
 * guess stands: the override is what changes the verdict.
 */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import type { CheckResult, Finding } from '../../src/model/index.js';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderDiagnosis } from '../../src/report/table.js';
import { finishReport } from '../../src/run.js';
import { CLIENT_ID, TOPIC, allRoutes, check, codes, fail, localPasses, only, route } from './diagnose-fixtures.js';

const closedAfterSubscribe = { 'round-trip': fail('MQTT_CLOSED_AFTER_SUBSCRIBE', { topic: TOPIC }) };
const closedAfterPublish = { 'round-trip': fail('MQTT_CLOSED_AFTER_PUBLISH', { topic: TOPIC }) };
const closedAfterConnect = {
  protocol: fail('MQTT_CLOSED_AFTER_CONNECT', { clientId: CLIENT_ID, topic: TOPIC, step: 'connect' }),
};
const denied = (id: string, permission: string): CheckResult => check(id, 'IAM_ACCESS_DENIED', 'skip', { permission });

/** cloud.logs as checks/cloud-logs.ts reports failed entries. */
function logsWith(...failures: Record<string, string>[]): CheckResult {
  return check('cloud.logs', 'RECORDED_FAILURES', 'fail', { recordedBy: 'AWS IoT logs', failures });
}

const takeoverRecord = () =>
  check('cloud.connectivity', 'RECORDED_DUPLICATE_CLIENT_ID', 'warn', {
    thingName: CLIENT_ID,
    disconnectReason: 'DUPLICATE_CLIENTID',
    recordedBy: 'GetThingConnectivityData',
  });

const ruledOutCodes = (f: Finding): string[] => (f.ruledOut ?? []).map((r) => r.code);

describe('a server-side fact overrides a client-side guess', () => {
  it('closed after SUBSCRIBE, no TestAuthorization: the policy guess stands without a record', () => {
    const results = [
      ...localPasses(),
      denied('cloud.authorization.subscribe', 'iot:TestAuthorization'),
      ...route('mqtt-8883', closedAfterSubscribe),
    ];
    const f = only(diagnose(results), 'POLICY_DENIES_SUBSCRIBE');
    expect(f.confidence).toBe('likely');
  });

  it('closed after SUBSCRIBE with a recorded takeover: the policy guess is withdrawn, shown ruled out by the record', () => {
    const results = [
      ...localPasses(),
      denied('cloud.authorization.subscribe', 'iot:TestAuthorization'),
      takeoverRecord(),
      ...route('mqtt-8883', closedAfterSubscribe),
    ];
    const findings = diagnose(results);
    expect(codes(findings)).not.toContain('POLICY_DENIES_SUBSCRIBE');
    const dup = only(findings, 'DUPLICATE_CLIENT_ID');
    expect(dup.confidence).toBe('certain');
    expect(dup.evidence).toContain('route.mqtt-8883.round-trip');
    expect(dup.ruledOut).toEqual([
      expect.objectContaining({
        code: 'POLICY_DENIES_SUBSCRIBE',
        ruledOutBy: expect.stringContaining('recorded by AWS IoT: another client took the session over'),
        evidence: ['cloud.connectivity'],
      }),
    ]);
    expect(findings[0]!.code).toBe('DUPLICATE_CLIENT_ID');
  });

  it('closed after PUBLISH while TestAuthorization allows it: no policy finding; the fallback says what ruled it out', () => {
    const results = [
      ...localPasses(),
      check('cloud.authorization.publish', 'AUTH_ALLOWED', 'pass', { source: 'TestAuthorization' }),
      ...route('mqtt-8883', closedAfterPublish),
    ];
    const findings = diagnose(results);
    expect(codes(findings)).not.toContain('POLICY_DENIES_PUBLISH');
    const left = only(findings, 'UNEXPLAINED_FAILURE');
    expect(left.ruledOut).toEqual([
      {
        code: 'POLICY_DENIES_PUBLISH',
        title: `The policy does not allow publishing on ${TOPIC}`,
        ruledOutBy: expect.stringMatching(/^cloud\.authorization\.publish \(TestAuthorization\) allows it/),
        evidence: ['cloud.authorization.publish'],
      },
    ]);
    expect(left.evidence).toContain('cloud.authorization.publish');
  });

  it('the same close without TestAuthorization: the publish guess is made', () => {
    const results = [...localPasses(), ...route('mqtt-8883', closedAfterPublish)];
    expect(only(diagnose(results), 'POLICY_DENIES_PUBLISH').confidence).toBe('likely');
  });

  it('a CONNECT refusal the logs record as an authorization failure: certificate causes ruled out by the record', () => {
    const log = {
      eventType: 'Connect',
      clientId: CLIENT_ID,
      reason: 'AUTHORIZATION_FAILURE',
      details: 'Authorization Failure',
    };
    const results = [
      ...localPasses(),
      denied('cloud.certificate', 'iot:DescribeCertificate'),
      denied('cloud.authorization.connect', 'iot:TestAuthorization'),
      logsWith(log),
      ...route('mqtt-8883', closedAfterConnect),
    ];
    const findings = diagnose(results);
    expect(codes(findings)).not.toContain('AUTH_REJECTED_UNEXPLAINED');
    const f = only(findings, 'POLICY_DENIES_CONNECT');
    expect(f).toMatchObject({ confidence: 'certain', params: { recorded: true } });
    expect(ruledOutCodes(f)).toEqual(['CERT_NOT_REGISTERED', 'CERT_NOT_ACTIVE']);
    for (const r of f.ruledOut!) {
      expect(r.ruledOutBy).toContain('the CONNECT failed at authorization');
      expect(r.evidence).toEqual(['cloud.logs']);
    }
  });

  it('without the log record the same refusal stays unexplained, with the certificate causes as candidates', () => {
    const results = [
      ...localPasses(),
      denied('cloud.certificate', 'iot:DescribeCertificate'),
      denied('cloud.authorization.connect', 'iot:TestAuthorization'),
      ...route('mqtt-8883', closedAfterConnect),
    ];
    const f = only(diagnose(results), 'AUTH_REJECTED_UNEXPLAINED');
    expect((f.candidates ?? []).map((c) => c.code)).toContain('CERT_NOT_REGISTERED');
    expect(f.ruledOut).toBeUndefined();
  });

  it('the record wins over TestAuthorization: allowed by TestAuthorization, refused in the log; both shown', () => {
    const log = { eventType: 'Connect', clientId: CLIENT_ID, reason: 'AUTHORIZATION_FAILURE' };
    const results = [
      ...localPasses(),
      check('cloud.authorization.connect', 'AUTH_ALLOWED', 'pass', { source: 'TestAuthorization' }),
      logsWith(log),
      ...route('mqtt-8883', closedAfterConnect),
    ];
    const f = only(diagnose(results), 'POLICY_DENIES_CONNECT');
    expect(f.confidence).toBe('certain');
    expect(f.explanation).toContain('cloud.authorization.connect said');
    expect(f.explanation).toContain('the record is what AWS IoT decided');
    expect(ruledOutCodes(f)).not.toContain('POLICY_DENIES_CONNECT');
    expect(f.evidence).toEqual(expect.arrayContaining(['cloud.logs', 'cloud.authorization.connect']));
  });

  it('an unexplained rejection lists what the cloud checks ruled out', () => {
    const results = [
      ...localPasses(),
      check('cloud.endpoint', 'ENDPOINT_MATCHES'),
      check('cloud.certificate', 'CERT_REGISTERED_ACTIVE', 'pass', { status: 'ACTIVE' }),
      check('cloud.policy-attached', 'POLICY_ATTACHED'),
      denied('cloud.authorization.connect', 'iot:TestAuthorization'),
      ...allRoutes({ 'mqtt-8883': closedAfterConnect, 'mqtt-443': closedAfterConnect }),
    ];
    const f = only(diagnose(results), 'AUTH_REJECTED_UNEXPLAINED');
    expect(ruledOutCodes(f)).toEqual(
      expect.arrayContaining([
        'CERT_NOT_REGISTERED',
        'CERT_NOT_ACTIVE',
        'NO_POLICY_ATTACHED',
        'ENDPOINT_OTHER_ACCOUNT',
      ]),
    );
    const candidates = (f.candidates ?? []).map((c) => c.code);
    for (const code of ruledOutCodes(f)) expect(candidates).not.toContain(code);
  });

  it('a certain finding is never withdrawn, and never listed as ruled out', () => {
    const results = [
      ...localPasses(),
      check('cloud.authorization.publish', 'AUTH_IMPLICIT_DENY', 'fail', { source: 'TestAuthorization' }),
      takeoverRecord(),
      ...route('mqtt-8883', closedAfterPublish),
    ];
    const findings = diagnose(results);
    expect(only(findings, 'POLICY_DENIES_PUBLISH').confidence).toBe('certain');
    for (const f of findings) expect(ruledOutCodes(f)).not.toContain('POLICY_DENIES_PUBLISH');
  });

  it('reports show the ruled-out guesses and what ruled them out', () => {
    const results = [
      ...localPasses(),
      check('cloud.authorization.publish', 'AUTH_ALLOWED', 'pass', { source: 'TestAuthorization' }),
      ...route('mqtt-8883', closedAfterPublish),
    ];
    const report = finishReport({
      target: { endpoint: 'a-ats.iot.eu-west-1.amazonaws.com', routes: ['mqtt-8883'], connectTo: [], files: {} },
      startedAt: new Date('2026-06-01T00:00:00Z'),
      durationMs: 1,
      results,
    });
    const table = renderDiagnosis(report.diagnosis, { color: false });
    expect(table).toContain('Ruled out:');
    expect(table).toMatch(
      /- The policy does not allow publishing on \S+ \(POLICY_DENIES_PUBLISH\): cloud\.authorization\.publish/,
    );
    expect(renderMarkdown(report)).toMatch(
      /\*\*Ruled out\*\*\n\n- The policy does not allow publishing on .*`POLICY_DENIES_PUBLISH`/,
    );
    expect(renderHtml(report)).toContain('<p><strong>Ruled out</strong></p><ul>');
    expect(JSON.stringify(report.diagnosis)).toContain('"ruledOutBy"');
  });
});
