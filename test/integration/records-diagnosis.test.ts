/**
 * The diagnosis from what AWS IoT records (field notes §7–8), end to end against the lab with the real SDK clients
 * (AWS_ENDPOINT_URL_IOT and AWS_ENDPOINT_URL_CLOUDWATCH_LOGS pointed at the lab): a second client sharing the
 * probe's client id → DUPLICATE_CLIENT_ID; a CONNECT refusal only the logs explain; logging off; missing
 * permissions named; no time added without AWS credentials.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudConnectivityCheck } from '../../checks/cloud-connectivity.js';
import { cloudLogsCheck } from '../../checks/cloud-logs.js';
import { createLabPki, LAB_DEVICE_NAME, startLab, type Lab, type LabPki } from '../../src/lab/index.js';
import type { CheckResult, Report } from '../../src/model/index.js';
import { runChecks } from '../../src/runner/index.js';
import { runDoctor } from '../../src/run.js';
import { parseConnectTo, type Target } from '../../src/target.js';
import { awsEnvSandbox, labCloudTarget, labDeviceCredentials } from '../helpers/cloud-run.js';
import { contextFor } from '../helpers/servers.js';

const env = awsEnvSandbox('iot-doctor-records-');
let pki: LabPki;
const labs: Lab[] = [];

beforeAll(() => {
  pki = createLabPki('ec');
});
afterAll(async () => {
  await Promise.all(labs.map((l) => l.close()));
  env.restore();
});

async function lab(scenario: string): Promise<Lab> {
  const l = await startLab({ pki, scenario });
  labs.push(l);
  env.clean({
    AWS_ACCESS_KEY_ID: 'AKIDLAB',
    AWS_SECRET_ACCESS_KEY: 'lab',
    AWS_ENDPOINT_URL_IOT: l.apiEndpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: l.apiEndpoint,
  });
  return l;
}

/** A full run (routes and cloud checks) with the device's own client id, as `--client-id <thing>` would. */
async function run(l: Lab, extra: Partial<Target> = {}): Promise<Report> {
  const files = await l.writeFiles();
  const target: Target = {
    endpoint: l.endpoint,
    routes: ['mqtt-8883'],
    connectTo: l.connectTo.map(parseConnectTo),
    resolve: [],
    certPath: files.cert,
    keyPath: files.key,
    caPath: files.ca,
    clientId: LAB_DEVICE_NAME,
    clientIdFromUser: true,
    topic: `iot-doctor/${LAB_DEVICE_NAME}/probe`,
    topicFromUser: true,
    mqttVersion: 4,
    keepaliveSeconds: 30,
    timeoutMs: 3000,
    protocol: true,
    cloud: true,
    warnDays: 30,
    region: l.region,
    ...extra,
  };
  return runDoctor(target);
}

/**
 * The other device: a real MQTT client (mqtt.js) that connects as the thing every `everyMs` ms with the device's
 * certificate, as a second device with the same client id does (field notes §8).
 */
async function otherDevice(
  l: Lab,
  everyMs: number,
  protocolVersion: 4 | 5 = 4,
): Promise<{ stop: () => Promise<void> }> {
  const options = {
    host: l.bind,
    port: l.ports.mqtt8883,
    protocol: 'mqtts' as const,
    protocolVersion,
    servername: l.endpoint,
    ca: l.caPem,
    cert: l.device.certPem,
    key: l.device.keyPem,
    clientId: LAB_DEVICE_NAME,
    reconnectPeriod: 0,
  };
  const clients: mqtt.MqttClient[] = [];
  const connect = (): Promise<void> =>
    new Promise((resolve) => {
      const c = mqtt.connect(options);
      c.on('error', () => {});
      clients.push(c);
      c.once('connect', () => resolve());
      c.once('close', () => resolve());
    });
  await connect();
  const timer = setInterval(() => void connect(), everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    },
  };
}

const result = (report: Report, id: string): CheckResult => {
  const r = report.results.find((x) => x.id === id);
  if (!r) throw new Error(`no result ${id}`);
  return r;
};

describe('what AWS IoT recorded, in the diagnosis', () => {
  it('a second client with the same client id: DUPLICATE_CLIENT_ID, certain, from the takeover and the records', async () => {
    const l = await lab('healthy');
    // The other device: connects as the thing every 2.5 s (field notes §8 replays ~2-2.3 s).
    const other = await otherDevice(l, 2_500);
    try {
      await new Promise((r) => setTimeout(r, 1_100)); // facts §3.1: the probe's CONNECT is not throttled
      // A hold of 6 s spans two of the other device's returns: one of them may fall within a second of the probe's
      // own CONNECT and be throttled (facts §3.1: 1 CONNECT/s per client id), the other then takes the session over.
      const report = await run(l, { holdMs: 6_000 });
      // Usually the takeover comes during the hold; under load the other device may come back earlier (closed after
      // SUBSCRIBE / PUBLISH) or the probe's CONNECT may fall within the other's second (throttled).
      const failed = report.results.filter((r) => r.id.startsWith('route.') && r.status === 'fail').map((r) => r.code);
      expect(failed.length).toBe(1);
      expect([
        'MQTT_SESSION_TAKEN_OVER',
        'MQTT_CLOSED_AFTER_SUBSCRIBE',
        'MQTT_CLOSED_AFTER_PUBLISH',
        'MQTT_CLOSED_BEFORE_DELIVERY',
        'MQTT_CLOSED_AFTER_CONNECT',
      ]).toContain(failed[0]);
      const dup = report.diagnosis.find((f) => f.code === 'DUPLICATE_CLIENT_ID');
      expect(dup).toMatchObject({ confidence: 'certain', severity: 'error' });
      expect(dup!.explanation).toContain('Recorded by AWS IoT');
      expect(dup!.remediation.join(' ')).toContain('iot:Connection.Thing.IsAttached');
      expect(result(report, 'cloud.logs')).toMatchObject({ status: 'fail', code: 'RECORDED_FAILURES' });
      expect(report.diagnosis.map((f) => f.code)).not.toContain('POLICY_DENIES_CONNECT');
      expect(report.diagnosis[0]?.code).toBe('DUPLICATE_CLIENT_ID');
      expect(report.exitCode).toBe(1);
    } finally {
      await other.stop();
    }
  }, 40_000);

  it('the other client back every ~1.2 s, MQTT 5: DUPLICATE_CLIENT_ID first, no policy verdict, guesses ruled out', async () => {
    const l = await lab('healthy');
    const other = await otherDevice(l, 1_200, 5);
    try {
      const report = await run(l, { mqttVersion: 5 });
      const failed = report.results.filter((r) => r.id.startsWith('route.') && r.status === 'fail');
      expect(failed.length).toBe(1);
      const cell = failed[0]!;
      if (cell.code === 'MQTT_SESSION_TAKEN_OVER') expect(cell.evidence['disconnectReasonCode']).toBe(0x8e);
      // TestAuthorization allows every action in this run (issue 14: the hints blamed the policy anyway).
      for (const a of ['connect', 'publish', 'subscribe', 'receive'])
        expect(result(report, `cloud.authorization.${a}`).code).toBe('AUTH_ALLOWED');
      const findings = report.diagnosis.map((f) => f.code);
      expect(findings[0]).toBe('DUPLICATE_CLIENT_ID');
      for (const code of ['POLICY_DENIES_CONNECT', 'POLICY_DENIES_PUBLISH', 'POLICY_DENIES_SUBSCRIBE'])
        expect(findings).not.toContain(code);
      expect(findings).not.toContain('UNEXPLAINED_FAILURE');
      const dup = report.diagnosis[0]!;
      // The probe's CONNECT may land within the other client's second: refused as throttled, which AWS logs. That
      // alone is an inference (likely); a takeover AWS recorded as well (the logs, the connectivity data: the two
      // clients also kick each other off) makes it certain.
      const throttled = ['MQTT_CONNACK_REFUSED', 'MQTT_CLOSED_AFTER_CONNECT'].includes(cell.code);
      const logged = (result(report, 'cloud.logs').evidence['failures'] ?? []) as {
        disconnectReason?: string;
        reason?: string;
      }[];
      const takeoverRecorded =
        result(report, 'cloud.connectivity').code === 'RECORDED_DUPLICATE_CLIENT_ID' ||
        logged.some((e) => /^(DUPLICATE_CLIENT_?ID|SESSION_TAKEN_OVER)$/.test(e.disconnectReason ?? e.reason ?? ''));
      const confidence = throttled && !takeoverRecorded ? 'likely' : 'certain';
      expect(dup).toMatchObject({ confidence, params: { recorded: true } });
      expect(findings).not.toContain('AUTH_REJECTED_UNEXPLAINED');
      expect(dup.evidence).toContain(cell.id);
      const guess = {
        MQTT_CLOSED_AFTER_PUBLISH: 'POLICY_DENIES_PUBLISH',
        MQTT_CLOSED_AFTER_SUBSCRIBE: 'POLICY_DENIES_SUBSCRIBE',
      }[cell.code as string];
      if (guess) {
        const ruled = dup.ruledOut?.find((r) => r.code === guess);
        expect(ruled?.ruledOutBy).toMatch(/cloud\.authorization\.\w+ \(TestAuthorization\) allows it/);
      }
      console.log(`duplicate client id, other client every 1.2 s (MQTT 5): route cell ${cell.code}`);
    } finally {
      await other.stop();
    }
  }, 40_000);

  it('connect denied, TestAuthorization not allowed: diagnosed from the log record', async () => {
    const l = await lab('connect-denied-logged');
    const report = await run(l);
    expect(result(report, 'cloud.authorization.connect')).toMatchObject({ status: 'skip', code: 'IAM_ACCESS_DENIED' });
    const logs = result(report, 'cloud.logs');
    expect(logs).toMatchObject({ status: 'fail', code: 'RECORDED_FAILURES' });
    const f = report.diagnosis[0]!;
    expect(f).toMatchObject({ code: 'POLICY_DENIES_CONNECT', confidence: 'certain' });
    expect(f.explanation).toContain('Recorded by AWS IoT');
    expect(f.explanation).toContain('AUTHORIZATION_FAILURE');
    expect(f.evidence).toContain('cloud.logs');
    // The record shows AWS authenticated the certificate before refusing: the certificate causes are ruled out.
    const ruled = (f.ruledOut ?? []).map((r) => r.code);
    expect(ruled).toEqual(expect.arrayContaining(['CERT_NOT_REGISTERED', 'CERT_NOT_ACTIVE']));
    expect(report.diagnosis.map((x) => x.code)).not.toContain('AUTH_REJECTED_UNEXPLAINED');
  }, 40_000);

  it('two MQTT routes taking turns on the client id, each holding: the logs are still read within the deadline', async () => {
    const l = await lab('healthy');
    // Two holds of 1.5 s one after the other: a deadline with one hold in it was used up before cloud.logs read.
    const report = await run(l, { routes: ['mqtt-8883', 'mqtt-443'], timeoutMs: 1500, holdMs: 1500 });
    for (const id of ['route.mqtt-8883.round-trip', 'route.mqtt-443.round-trip'])
      expect(result(report, id).code, id).toBe('MQTT_ROUND_TRIP_OK');
    expect(result(report, 'cloud.logs')).toMatchObject({ status: 'pass', code: 'NO_RECORDED_FAILURES' });
  }, 40_000);

  it('publish denied and logged: POLICY_DENIES_PUBLISH cites the record, which is no unexplained failure', async () => {
    const l = await lab('policy-no-publish');
    const report = await run(l);
    expect(result(report, 'cloud.logs')).toMatchObject({ status: 'fail', code: 'RECORDED_FAILURES' });
    const f = report.diagnosis[0]!;
    expect(f).toMatchObject({ code: 'POLICY_DENIES_PUBLISH', confidence: 'certain' });
    expect(f.evidence).toContain('cloud.logs');
    expect(f.explanation).toMatch(/Recorded by AWS IoT: .*Publish-In.*AUTHORIZATION_FAILURE/);
    expect(report.diagnosis.map((x) => x.code)).not.toContain('UNEXPLAINED_FAILURE');
  }, 40_000);

  it('the same refusal with --no-logs: only inferred (AUTH_REJECTED_UNEXPLAINED, not certain)', async () => {
    const l = await lab('connect-denied-logged');
    await new Promise((r) => setTimeout(r, 1_100)); // a new second for the client id (facts §3.1)
    const report = await run(l, { noLogs: true });
    expect(result(report, 'cloud.logs')).toMatchObject({ status: 'skip', code: 'LOGS_NOT_READ' });
    const codes = report.diagnosis.map((f) => f.code);
    expect(codes).not.toContain('POLICY_DENIES_CONNECT');
    expect(report.diagnosis[0]).toMatchObject({ code: 'AUTH_REJECTED_UNEXPLAINED' });
    expect(report.diagnosis[0]!.confidence).not.toBe('certain');
  }, 40_000);

  it('logging off: cloud.logs says so and how to turn it on', async () => {
    const l = await lab('logging-off');
    const report = await run(l);
    const logs = result(report, 'cloud.logs');
    expect(logs).toMatchObject({ status: 'warn', code: 'LOGGING_OFF' });
    expect(logs.hint).toContain('aws iot set-v2-logging-options');
    expect(logs.hint).toContain('--default-log-level ERROR');
  }, 40_000);

  it('missing permissions are named: iot:GetThingConnectivityData, logs:FilterLogEvents', async () => {
    const l = await lab('healthy');
    l.faults.api.accessDenied.add('iot:GetThingConnectivityData');
    l.faults.api.accessDenied.add('logs:FilterLogEvents');
    const ctx = contextFor(labCloudTarget(l), labDeviceCredentials(l));
    const results = await runChecks([cloudConnectivityCheck, cloudLogsCheck], ctx, { guardMs: 60_000 });
    const [conn, logs] = ['cloud.connectivity', 'cloud.logs'].map((id) => results.find((r) => r.id === id)!);
    expect(conn).toMatchObject({ status: 'skip', code: 'IAM_ACCESS_DENIED' });
    expect(conn!.evidence?.['permission']).toBe('iot:GetThingConnectivityData');
    expect(logs).toMatchObject({ status: 'skip', code: 'IAM_ACCESS_DENIED' });
    expect(logs!.evidence?.['permission']).toBe('logs:FilterLogEvents');
    for (const [r, permission] of [
      [conn!, 'iot:GetThingConnectivityData'],
      [logs!, 'logs:FilterLogEvents'],
    ] as const)
      expect(`${r.summary} ${r.hint ?? ''}`).toContain(permission);
  }, 40_000);

  it('GetV2LoggingOptions denied: the logs are still read, and the missing permission is named', async () => {
    const l = await lab('connect-denied-logged');
    l.faults.api.accessDenied.add('iot:GetV2LoggingOptions');
    const report = await run(l);
    const logs = result(report, 'cloud.logs');
    expect(logs).toMatchObject({ status: 'fail', code: 'RECORDED_FAILURES' });
    expect(String(logs.evidence['loggingOptions'])).toContain('iot:GetV2LoggingOptions');
  }, 40_000);

  it('healthy with the thing connected by the probe: connectivity recorded, no failure logged', async () => {
    const l = await lab('healthy');
    const report = await run(l, { holdMs: 0 });
    expect(result(report, 'cloud.connectivity')).toMatchObject({ status: 'pass', code: 'CONNECTIVITY_OK' });
    expect(result(report, 'cloud.logs')).toMatchObject({ status: 'pass', code: 'NO_RECORDED_FAILURES' });
    // The only warning is the probe's own: a user-given client id may take over a live device.
    expect(report.diagnosis.map((f) => f.code)).toEqual(['OTHER_WARNINGS']);
    expect(report.exitCode).toBe(0);
  }, 40_000);

  it('without AWS credentials a full run spends no time on the records and holds no session (measured)', async () => {
    const l = await lab('healthy');
    env.clean();
    const own = { clientId: 'iot-doctor-0a1b2c3d', clientIdFromUser: false, topicFromUser: false };
    const withRecords = await run(l, { ...own, topic: 'iot-doctor/iot-doctor-0a1b2c3d/probe' });
    const records = ['cloud.connectivity', 'cloud.logs'].map((id) => result(withRecords, id));
    for (const r of records) expect(r).toMatchObject({ status: 'skip', code: 'CLOUD_NO_CREDENTIALS' });
    const spent = records.reduce((sum, r) => sum + r.durationMs, 0);
    expect(spent).toBeLessThan(100);
    // The probe's own client id: no hold (the hold is for a user-given id, which another device may use).
    const roundTrip = result(withRecords, 'route.mqtt-8883.round-trip');
    expect(roundTrip.status).toBe('pass');
    expect(roundTrip.evidence['heldMs']).toBeUndefined();
    // A user-given client id is held 3000 ms by default (the takeover watch), with or without credentials.
    const held = await run(l);
    expect(result(held, 'route.mqtt-8883.round-trip').evidence['heldMs']).toBeGreaterThanOrEqual(2_900);
    console.log(
      `full run without credentials: ${withRecords.durationMs.toFixed(0)} ms; cloud.connectivity + cloud.logs ${spent.toFixed(1)} ms`,
    );
  }, 40_000);

  it('without AWS credentials both checks skip at once (measured)', async () => {
    const l = await lab('healthy');
    env.clean();
    const ctx = contextFor(labCloudTarget(l), labDeviceCredentials(l));
    const started = performance.now();
    const results = await runChecks([cloudConnectivityCheck, cloudLogsCheck], ctx, { guardMs: 60_000 });
    const ms = performance.now() - started;
    expect(results.map((r) => r.status)).toEqual(['skip', 'skip']);
    expect(ms).toBeLessThan(200);
    console.log(`cloud.connectivity + cloud.logs without credentials: ${ms.toFixed(1)} ms`);
  });
});
