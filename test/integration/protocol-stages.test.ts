/**
 * Protocol and round-trip stages against the lab's scenarios, for MQTT 3.1.1 and 5: the stage and the code each
 * fault must produce, and one TLS handshake per route.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../checks/index.js';
import { createLabPki, startLab, type Lab, type LabPki } from '../../src/lab/index.js';
import type { CheckResult, Report } from '../../src/model/index.js';
import { runDoctor } from '../../src/run.js';
import { parseConnectTo, type Target } from '../../src/target.js';

let pki: LabPki;
const labs: Lab[] = [];
beforeAll(() => {
  pki = createLabPki('rsa');
});
afterAll(async () => {
  await Promise.all(labs.map((l) => l.close()));
});

const mosquittoPresent = existsSync('/usr/sbin/mosquitto') || existsSync('/usr/bin/mosquitto');

async function runAgainst(scenario: string, extra: Partial<Target> = {}): Promise<{ report: Report; lab: Lab }> {
  const lab = await startLab({ scenario, pki });
  labs.push(lab);
  const files = await lab.writeFiles();
  const target: Target = {
    endpoint: lab.endpoint,
    routes: ['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443'],
    connectTo: lab.connectTo.map(parseConnectTo),
    resolve: [],
    certPath: files.cert,
    keyPath: files.key,
    caPath: files.ca,
    clientId: `iot-doctor-${scenario}`,
    clientIdFromUser: false,
    topic: `iot-doctor/iot-doctor-${scenario}/probe`,
    topicFromUser: false,
    mqttVersion: 4,
    keepaliveSeconds: 30,
    timeoutMs: 1500,
    protocol: true,
    cloud: false,
    warnDays: 30,
    region: lab.region,
    ...extra,
  };
  const routeOnly = catalogue(target).filter(
    (c) => c.family === 'route' || c.family === 'clock' || c.family === 'probe',
  );
  expect(routeOnly.some((c) => c.id === 'probe.client-id')).toBe(true);
  return { report: await runDoctor(target, { checks: routeOnly }), lab };
}

function cell(report: Report, id: string): CheckResult {
  const r = report.results.find((x) => x.id === id);
  if (!r) throw new Error(`no result ${id}`);
  return r;
}

for (const version of [4, 5] as const) {
  const label = version === 5 ? 'MQTT 5' : 'MQTT 3.1.1';
  describe.skipIf(version === 5 && !mosquittoPresent)(`${label}`, () => {
    it('healthy: CONNACK, round trip on both MQTT routes, HTTPS publish arrives at an MQTT subscription', async () => {
      const { report, lab } = await runAgainst('healthy', { mqttVersion: version });
      for (const route of ['mqtt-8883', 'mqtt-443']) {
        expect(cell(report, `route.${route}.protocol`)).toMatchObject({ status: 'pass', code: 'MQTT_CONNACK_OK' });
        const rt = cell(report, `route.${route}.round-trip`);
        expect(rt).toMatchObject({ status: 'pass', code: 'MQTT_ROUND_TRIP_OK' });
        expect(rt.evidence.mqttVersion).toBe(version === 5 ? '5' : '3.1.1');
        expect(rt.evidence.topic).toBe(`iot-doctor/iot-doctor-healthy-${route.split('-')[1]}/probe`);
      }
      for (const route of ['https-8443', 'https-443']) {
        const p = cell(report, `route.${route}.protocol`);
        expect(p).toMatchObject({ status: 'pass', code: 'HTTP_PUBLISH_OK' });
        expect(p.evidence.traceId).toMatch(/^[0-9a-f-]{36}$/);
        expect(cell(report, `route.${route}.round-trip`)).toMatchObject({ status: 'pass', code: 'HTTP_ROUND_TRIP_OK' });
      }
      expect(cell(report, 'clock.skew').code).toBe('CLOCK_OK');
      // One TCP and one TLS handshake per route: the MQTT client and the HTTP request reuse the TLS stage's socket.
      expect(lab.stats.tlsHandshakes).toEqual({ mqtt8883: 1, tls443: 2, https8443: 1 });
      expect(report.exitCode).toBe(0);
    });

    it('inactive certificate: closed after CONNECT (3.1.1) or CONNACK 0x87 (5); HTTPS 403', async () => {
      const { report } = await runAgainst('cert-inactive', { mqttVersion: version });
      const p = cell(report, 'route.mqtt-8883.protocol');
      if (version === 4) {
        expect(p).toMatchObject({ status: 'fail', code: 'MQTT_CLOSED_AFTER_CONNECT' });
        expect(p.hint).toContain('cloud.certificate');
      } else {
        expect(p).toMatchObject({ status: 'fail', code: 'MQTT_CONNACK_REFUSED' });
        expect(p.evidence.reasonCode).toBe(0x87);
      }
      expect(cell(report, 'route.https-8443.protocol')).toMatchObject({ status: 'fail', code: 'HTTP_FORBIDDEN' });
      expect(cell(report, 'route.https-8443.protocol').evidence.errorType).toBe('ForbiddenException');
      expect(cell(report, 'route.mqtt-8883.client-auth').status).toBe('pass');
    });

    it('no policy: the same symptom at CONNECT', async () => {
      const { report } = await runAgainst('no-policy', { mqttVersion: version });
      expect(cell(report, 'route.mqtt-443.protocol').code).toBe(
        version === 4 ? 'MQTT_CLOSED_AFTER_CONNECT' : 'MQTT_CONNACK_REFUSED',
      );
    });

    it('policy for another client id: MQTT refused at CONNECT, HTTPS (no client id) publishes', async () => {
      const { report } = await runAgainst('policy-other-client', { mqttVersion: version });
      expect(cell(report, 'route.mqtt-8883.protocol').code).toBe(
        version === 4 ? 'MQTT_CLOSED_AFTER_CONNECT' : 'MQTT_CONNACK_REFUSED',
      );
      expect(cell(report, 'route.https-8443.protocol').code).toBe('HTTP_PUBLISH_OK');
      expect(cell(report, 'route.https-8443.round-trip')).toMatchObject({ status: 'skip', code: 'NO_MQTT_SUBSCRIBER' });
    });

    it('no publish right: closed after PUBLISH (3.1.1) or PUBACK 0x87 (5); HTTPS 403', async () => {
      const { report } = await runAgainst('policy-no-publish', { mqttVersion: version });
      const rt = cell(report, 'route.mqtt-8883.round-trip');
      expect(rt.code).toBe(version === 4 ? 'MQTT_CLOSED_AFTER_PUBLISH' : 'MQTT_PUBACK_REFUSED');
      expect(cell(report, 'route.mqtt-8883.protocol').code).toBe('MQTT_CONNACK_OK');
      expect(cell(report, 'route.https-443.protocol').code).toBe('HTTP_FORBIDDEN');
    });
  });
}

describe('faults below MQTT', () => {
  it('ALPN ignored on 443: the 443 routes stop at alpn, 8883 and 8443 work', async () => {
    const { report } = await runAgainst('alpn-ignored');
    expect(cell(report, 'route.mqtt-443.alpn')).toMatchObject({ status: 'fail', code: 'ALPN_NOT_SELECTED' });
    expect(cell(report, 'route.https-443.alpn')).toMatchObject({ status: 'fail', code: 'ALPN_NOT_SELECTED' });
    expect(cell(report, 'route.mqtt-8883.round-trip').code).toBe('MQTT_ROUND_TRIP_OK');
    expect(cell(report, 'route.https-8443.round-trip').code).toBe('HTTP_ROUND_TRIP_OK');
  });

  it('clock skew: the server date header shows the offset as a warning', async () => {
    const { report } = await runAgainst('clock-skew');
    const skew = cell(report, 'clock.skew');
    expect(skew).toMatchObject({ status: 'warn', code: 'CLOCK_SKEW' });
    expect(skew.evidence.offsetSeconds as number).toBeGreaterThanOrEqual(590);
    expect(skew.evidence.offsetSeconds as number).toBeLessThanOrEqual(610);
    expect(skew.summary).toContain('behind the server');
    expect(report.exitCode).toBe(0);
  });

  it('a user-given client id is shared by both MQTT routes, which take turns instead of kicking each other off', async () => {
    const { report } = await runAgainst('healthy', {
      clientId: 'lab-device-1',
      clientIdFromUser: true,
      topic: 'iot-doctor/lab-device-1/probe',
      topicFromUser: true,
    });
    const a = cell(report, 'route.mqtt-8883.round-trip');
    const b = cell(report, 'route.mqtt-443.round-trip');
    expect([a.code, b.code]).toEqual(['MQTT_ROUND_TRIP_OK', 'MQTT_ROUND_TRIP_OK']);
    expect(a.evidence.clientId).toBe('lab-device-1');
    expect(b.evidence.clientId).toBe('lab-device-1');
    // The device's own id: the probe warns that it would take over a live connection.
    expect(cell(report, 'probe.client-id')).toMatchObject({
      status: 'warn',
      code: 'CLIENT_ID_MAY_BE_LIVE',
      evidence: { certificateCommonName: 'lab-device-1' },
    });
  });

  it('handing the client id on, a route closes its connection after DISCONNECT first: the broker records no takeover', async () => {
    // A hold longer than the 1 s CONNECT spacing: the second route sends CONNECT right after the first one ends.
    for (let i = 0; i < 2; i++) {
      const { lab } = await runAgainst('healthy', {
        clientId: 'lab-device-1',
        clientIdFromUser: true,
        topic: 'iot-doctor/lab-device-1/probe',
        topicFromUser: true,
        holdMs: 1100,
      });
      await new Promise((resolve) => setTimeout(resolve, 200)); // the last connection's close
      // The lab logs at ERROR, as a careful account does: a takeover or a lost connection would be there.
      const failed = lab.records
        .logEntries()
        .map((e) => JSON.parse(e.message) as { eventType: string; disconnectReason?: string })
        .filter((e) => e.eventType === 'Disconnect');
      expect(failed.map((e) => e.disconnectReason)).toEqual([]);
      expect(lab.records.connectivityOf('lab-device-1')?.disconnectReason).toBe('CLIENT_INITIATED_DISCONNECT');
    }
  }, 30_000);
});

describe('client-auth proved by the server answer, confirmed on a second connection only on failure', () => {
  it('healthy: CONNACK or the HTTP status proves acceptance, with no observation window', async () => {
    const { report } = await runAgainst('healthy');
    const mqtt = cell(report, 'route.mqtt-8883.client-auth');
    expect(mqtt).toMatchObject({ status: 'pass', code: 'CLIENT_CERT_ACCEPTED', durationMs: 0 });
    expect(mqtt.evidence['provedBy']).toBe('CONNACK');
    const https = cell(report, 'route.https-8443.client-auth');
    expect(https).toMatchObject({ status: 'pass', code: 'CLIENT_CERT_ACCEPTED', durationMs: 0 });
    expect(https.evidence['provedBy']).toBe('HTTP 200');
  });

  it('closed after CONNECT without an alert: a second, idle connection stays open, so the certificate is accepted', async () => {
    const { report } = await runAgainst('no-policy');
    const auth = cell(report, 'route.mqtt-8883.client-auth');
    expect(auth).toMatchObject({ status: 'pass', code: 'CLIENT_CERT_ACCEPTED' });
    expect(auth.evidence['confirmedOnSecondConnection']).toBe(true);
    expect(cell(report, 'route.mqtt-8883.protocol').code).toBe('MQTT_CLOSED_AFTER_CONNECT');
  });
});
