/**
 * Every lab scenario, observed from the outside with real clients (mqtt.js, node:https, node:tls, node:net and the
 * AWS SDK): the fault is there, and what a device sees is what AWS IoT would show it.
 */
import { connect as netConnect } from 'node:net';
import {
  DescribeCertificateCommand,
  DescribeEndpointCommand,
  ListAttachedPoliciesCommand,
  ResourceNotFoundException,
  TestAuthorizationCommand,
  type AuthResult,
} from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALPN_HTTP, ALPN_MQTT } from '../../src/model/index.js';
import { createLabPki, SCENARIOS, startLab, type Lab, type LabPki } from '../../src/lab/index.js';
import {
  closesWithin,
  endClient,
  httpsCall,
  iotClient,
  mqttAttempt,
  silentUntilClosedOrTimeout,
  tlsHandshake,
  uniqueClientId,
  type MqttOutcome,
} from '../helpers/lab-clients.js';

let pki: LabPki;
const labs = new Map<string, Lab>();

const REQUIRED = [
  'healthy',
  'port-8883-refused',
  'tls-stall-8443',
  'alpn-ignored',
  'tls-intercepted',
  'server-cert-expired',
  'clock-skew',
  'cert-inactive',
  'cert-not-registered',
  'no-policy',
  'policy-other-client',
  'policy-no-publish',
  'endpoint-other-account',
];

beforeAll(async () => {
  pki = createLabPki('ec');
  const started = await Promise.all(SCENARIOS.map((s) => startLab({ pki, scenario: s.name, mqtt5: 'off' })));
  for (const lab of started) labs.set(lab.scenario.name, lab);
});

afterAll(async () => {
  await Promise.all([...labs.values()].map((l) => l.close()));
});

function lab(name: string): Lab {
  const l = labs.get(name);
  if (!l) throw new Error(`no lab for ${name}`);
  return l;
}

async function expectConnack(outcome: MqttOutcome): Promise<void> {
  expect(outcome.kind).toBe('connack');
  if (outcome.kind === 'connack') await endClient(outcome.client);
}

async function authorize(l: Lab, clientId: string, actionType: string, resource: string): Promise<AuthResult> {
  const iot = iotClient(l);
  try {
    const out = await iot.send(
      new TestAuthorizationCommand({
        principal: `arn:aws:iot:${l.region}:${l.accountId}:cert/${l.device.certificateId}`,
        clientId,
        authInfos: [
          { actionType: actionType as 'CONNECT', resources: [`arn:aws:iot:${l.region}:${l.accountId}:${resource}`] },
        ],
      }),
    );
    return out.authResults![0]!;
  } finally {
    iot.destroy();
  }
}

function tcpConnect(port: number): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: Error & { code?: string }) => resolve(e.code ?? e.message));
  });
}

describe('lab scenarios', () => {
  it('lists every required scenario with a one-line description', () => {
    const names = SCENARIOS.map((s) => s.name);
    for (const n of REQUIRED) expect(names).toContain(n);
    for (const s of SCENARIOS) {
      expect(s.description.length).toBeGreaterThan(20);
      expect(s.description).not.toContain('\n');
    }
  });

  it('unknown scenario: a clear error', async () => {
    await expect(startLab({ pki, scenario: 'nope' })).rejects.toThrow(/unknown lab scenario "nope".*healthy/);
  });

  it('healthy: MQTT on 8883 and 443, HTTPS on 8443 and 443', async () => {
    const l = lab('healthy');
    await expectConnack(await mqttAttempt(l));
    await expectConnack(await mqttAttempt(l, { port: 'tls443', alpn: [ALPN_MQTT] }));
    expect((await httpsCall(l)).status).toBe(200);
    expect((await httpsCall(l, { port: 'tls443', alpn: [ALPN_HTTP] })).status).toBe(200);
  });

  it('port-8883-refused: TCP connection refused on 8883, 443 with ALPN still works', async () => {
    const l = lab('port-8883-refused');
    expect(await tcpConnect(l.ports.mqtt8883)).toBe('ECONNREFUSED');
    await expectConnack(await mqttAttempt(l, { port: 'tls443', alpn: [ALPN_MQTT] }));
  });

  it('tls-stall-8443: TCP connects but the ClientHello is never answered', async () => {
    const l = lab('tls-stall-8443');
    expect(await tcpConnect(l.ports.https8443)).toBe('connected');
    const tls = await tlsHandshake(l, { port: 'https8443', timeoutMs: 800 });
    expect(tls.ok).toBe(false);
    expect(tls.error?.code).toBe('TIMEOUT');
    await expectConnack(await mqttAttempt(l));
  });

  it('alpn-ignored: no ALPN selected on 443; MQTT gets no CONNACK, HTTPS 403 Missing Authentication Token', async () => {
    const l = lab('alpn-ignored');
    const tls = await tlsHandshake(l, { port: 'tls443', alpn: [ALPN_MQTT] });
    expect(tls.ok).toBe(true);
    expect(tls.alpnProtocol).toBe(false);
    tls.socket?.destroy();
    const mqtt = await mqttAttempt(l, { port: 'tls443', alpn: [ALPN_MQTT], timeoutMs: 1_000 });
    expect(mqtt.kind).toBe('timeout');
    if (mqtt.kind === 'timeout') await endClient(mqtt.client);
    const https = await httpsCall(l, { port: 'tls443', alpn: [ALPN_HTTP] });
    expect(https.status).toBe(403);
    expect(https.json?.['message']).toBe('Missing Authentication Token');
    await expectConnack(await mqttAttempt(l));
  });

  it('tls-intercepted: certificate from a foreign CA on every port, no client certificate passes, no ALPN on 443', async () => {
    const l = lab('tls-intercepted');
    for (const port of ['mqtt8883', 'tls443', 'https8443'] as const) {
      const verified = await tlsHandshake(l, { port });
      expect(verified.ok).toBe(false);
      expect(verified.error?.code).toMatch(/SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY/);
      const seen = await tlsHandshake(l, {
        port,
        rejectUnauthorized: false,
        alpn: port === 'tls443' ? [ALPN_MQTT] : undefined,
      });
      expect(seen.ok).toBe(true);
      expect(seen.peerIssuerCN).toBe('Corporate TLS Inspection CA');
      if (port === 'tls443') expect(seen.alpnProtocol).toBe(false);
      if (port === 'mqtt8883') expect((await silentUntilClosedOrTimeout(seen.socket!, 2_000)).closed).toBe(true);
      seen.socket?.destroy();
    }
  });

  it('server-cert-expired: verification fails with CERT_HAS_EXPIRED', async () => {
    const l = lab('server-cert-expired');
    const tls = await tlsHandshake(l);
    expect(tls.ok).toBe(false);
    expect(tls.error?.code).toBe('CERT_HAS_EXPIRED');
    const https = await httpsCall(l).catch((e: Error & { code?: string }) => e.code);
    expect(https).toBe('CERT_HAS_EXPIRED');
  });

  it('clock-skew: date headers are 10 minutes ahead; publishing works', async () => {
    const l = lab('clock-skew');
    const ok = await httpsCall(l);
    expect(ok.status).toBe(200);
    const skew = Date.parse(String(ok.headers['date'])) - Date.now();
    expect(skew).toBeGreaterThan(9 * 60_000);
    expect(skew).toBeLessThan(11 * 60_000);
    const denied = await httpsCall(l, { topic: 'not-allowed' });
    expect(Date.parse(String(denied.headers['date'])) - Date.now()).toBeGreaterThan(9 * 60_000);
    const noAlpn = await httpsCall(l, { port: 'tls443' });
    expect(Date.parse(String(noAlpn.headers['date'])) - Date.now()).toBeGreaterThan(9 * 60_000);
  });

  it('cert-inactive: TLS completes, MQTT closed after CONNECT, HTTPS 403, API says INACTIVE', async () => {
    const l = lab('cert-inactive');
    const tls = await tlsHandshake(l);
    expect(tls.ok).toBe(true);
    tls.socket?.destroy();
    expect((await mqttAttempt(l)).kind).toBe('closed');
    expect((await httpsCall(l)).status).toBe(403);
    const iot = iotClient(l);
    const out = await iot.send(new DescribeCertificateCommand({ certificateId: l.device.certificateId }));
    iot.destroy();
    expect(out.certificateDescription?.status).toBe('INACTIVE');
  });

  it('cert-not-registered: TLS completes, MQTT closed after CONNECT, HTTPS 403, DescribeCertificate not found', async () => {
    const l = lab('cert-not-registered');
    expect((await tlsHandshake(l)).ok).toBe(true);
    expect((await mqttAttempt(l)).kind).toBe('closed');
    const https = await httpsCall(l);
    expect(https.status).toBe(403);
    expect(https.headers['x-amzn-errortype']).toBe('ForbiddenException:');
    const iot = iotClient(l);
    const err = await iot
      .send(new DescribeCertificateCommand({ certificateId: l.device.certificateId }))
      .catch((e: unknown) => e);
    iot.destroy();
    expect(err).toBeInstanceOf(ResourceNotFoundException);
  });

  it('no-policy: MQTT closed after CONNECT, HTTPS 403, no attached policy, TestAuthorization implicit deny', async () => {
    const l = lab('no-policy');
    expect((await mqttAttempt(l)).kind).toBe('closed');
    expect((await httpsCall(l)).status).toBe(403);
    const iot = iotClient(l);
    const attached = await iot.send(
      new ListAttachedPoliciesCommand({
        target: `arn:aws:iot:${l.region}:${l.accountId}:cert/${l.device.certificateId}`,
      }),
    );
    iot.destroy();
    expect(attached.policies).toEqual([]);
    const result = await authorize(l, 'probe-1', 'CONNECT', 'client/probe-1');
    expect(result.authDecision).toBe('IMPLICIT_DENY');
    expect(result.denied?.implicitDeny?.policies).toEqual([]);
  });

  it('policy-other-client: only client id another-device may connect; HTTPS publish works', async () => {
    const l = lab('policy-other-client');
    expect((await mqttAttempt(l, { clientId: uniqueClientId() })).kind).toBe('closed');
    await expectConnack(await mqttAttempt(l, { clientId: 'another-device' }));
    expect((await httpsCall(l)).status).toBe(200);
    expect((await authorize(l, 'iot-doctor-x', 'CONNECT', 'client/iot-doctor-x')).authDecision).toBe('IMPLICIT_DENY');
    expect((await authorize(l, 'another-device', 'CONNECT', 'client/another-device')).authDecision).toBe('ALLOWED');
  });

  it('policy-no-publish: CONNACK and SUBACK, then the PUBLISH closes the connection; HTTPS 403', async () => {
    const l = lab('policy-no-publish');
    const clientId = uniqueClientId();
    const outcome = await mqttAttempt(l, { clientId });
    if (outcome.kind !== 'connack') throw new Error(`expected CONNACK, got ${outcome.kind}`);
    const topic = `iot-doctor/${clientId}/probe`;
    const granted = await outcome.client.subscribeAsync(topic, { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
    const closed = closesWithin(outcome.client, 3_000);
    outcome.client.publish(topic, 'x', { qos: 1 });
    expect(await closed).toBe(true);
    await endClient(outcome.client);
    expect((await httpsCall(l, { topic })).status).toBe(403);
    expect((await authorize(l, clientId, 'PUBLISH', `topic/${topic}`)).authDecision).toBe('IMPLICIT_DENY');
  });

  it('policy-explicit-deny: TestAuthorization says EXPLICIT_DENY, HTTPS publish 403', async () => {
    const l = lab('policy-explicit-deny');
    const result = await authorize(l, 'probe-2', 'PUBLISH', 'topic/iot-doctor/probe-2/probe');
    expect(result.authDecision).toBe('EXPLICIT_DENY');
    expect(result.denied?.explicitDeny?.policies?.map((p) => p.policyName)).toEqual(['deny-diagnostics']);
    expect((await httpsCall(l)).status).toBe(403);
  });

  it('endpoint-other-account: DescribeEndpoint names another endpoint; the data plane works', async () => {
    const l = lab('endpoint-other-account');
    const iot = iotClient(l);
    const out = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
    iot.destroy();
    expect(out.endpointAddress).toMatch(/^[a-z0-9]{14}-ats\.iot\.eu-west-1\.amazonaws\.com$/);
    expect(out.endpointAddress).not.toBe(l.endpoint);
    await expectConnack(await mqttAttempt(l));
  });
});
