/**
 * The lab's data plane in the healthy scenario, seen through real clients: mqtt.js for MQTT 3.1.1 on 8883 and on
 * 443 with ALPN, node:https for HTTPS publish on 8443 and 443, bare TLS for SNI and ALPN.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALPN_HTTP, ALPN_MQTT } from '../../src/model/index.js';
import { createLabPki, startLab, type Lab, type LabPki } from '../../src/lab/index.js';
import {
  closesWithin,
  connectPacket311,
  endClient,
  httpsCall,
  mqttAttempt,
  silentUntilClosedOrTimeout,
  tlsHandshake,
  uniqueClientId,
} from '../helpers/lab-clients.js';

let pki: LabPki;
let lab: Lab;

beforeAll(async () => {
  pki = createLabPki('rsa');
  lab = await startLab({ pki, mqtt5: 'off' });
});

afterAll(async () => {
  await lab?.close();
});

describe('lab data plane (healthy)', () => {
  it('exposes an AWS-like endpoint and connect-to overrides', () => {
    expect(lab.endpoint).toMatch(/^[a-z0-9]{14}-ats\.iot\.eu-west-1\.amazonaws\.com$/);
    expect(lab.accountId).toMatch(/^\d{12}$/);
    expect(lab.connectTo).toEqual([
      `${lab.endpoint}:8883:127.0.0.1:${lab.ports.mqtt8883}`,
      `${lab.endpoint}:443:127.0.0.1:${lab.ports.tls443}`,
      `${lab.endpoint}:8443:127.0.0.1:${lab.ports.https8443}`,
      // The credential provider has its own host name (field notes §6.1), served on its own loopback port.
      expect.stringMatching(new RegExp(`^${lab.credentialsEndpoint.replace(/\./g, '\\.')}:443:127\\.0\\.0\\.1:\\d+$`)),
    ]);
    expect(lab.credentialsEndpoint).toBe(lab.endpoint.replace(/-ats\.iot\./, '.credentials.iot.'));
    expect(lab.apiEndpoint).toBe(`http://127.0.0.1:${lab.ports.control}`);
    expect(lab.device.certificateId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('MQTT 3.1.1 on 8883: CONNACK, then a publish comes back to the subscriber', async () => {
    const clientId = uniqueClientId();
    const outcome = await mqttAttempt(lab, { clientId });
    expect(outcome.kind).toBe('connack');
    if (outcome.kind !== 'connack') return;
    const client = outcome.client;
    const topic = `iot-doctor/${clientId}/probe`;
    const granted = await client.subscribeAsync(topic, { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
    const received = new Promise<string>((resolve) =>
      client.once('message', (_t, payload) => resolve(payload.toString())),
    );
    await client.publishAsync(topic, 'ping', { qos: 1 });
    expect(await received).toBe('ping');
    await endClient(client);
  });

  it('MQTT on 443 with ALPN x-amzn-mqtt-ca: ALPN selected and CONNACK', async () => {
    const tls = await tlsHandshake(lab, { port: 'tls443', alpn: [ALPN_MQTT] });
    expect(tls.ok).toBe(true);
    expect(tls.alpnProtocol).toBe(ALPN_MQTT);
    tls.socket?.destroy();
    const outcome = await mqttAttempt(lab, { port: 'tls443', alpn: [ALPN_MQTT] });
    expect(outcome.kind).toBe('connack');
    if (outcome.kind === 'connack') await endClient(outcome.client);
  });

  it('MQTT 3.1.1: a QoS 2 SUBSCRIBE gets no SUBACK; QoS 1 is granted 1 (facts §3: QoS 2 is not acknowledged)', async () => {
    const clientId = uniqueClientId();
    const outcome = await mqttAttempt(lab, { clientId });
    if (outcome.kind !== 'connack') throw new Error(`expected CONNACK, got ${outcome.kind}`);
    let subacked = false;
    outcome.client.subscribe(`iot-doctor/${clientId}/x`, { qos: 2 }, () => (subacked = true));
    const granted = await outcome.client.subscribeAsync(`iot-doctor/${clientId}/y`, { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
    expect(subacked).toBe(false);
    await endClient(outcome.client);
  });

  it('MQTT 3.1.1: a denied PUBLISH closes the connection', async () => {
    const outcome = await mqttAttempt(lab);
    if (outcome.kind !== 'connack') throw new Error(`expected CONNACK, got ${outcome.kind}`);
    const closed = closesWithin(outcome.client, 3_000);
    outcome.client.publish('not-allowed/topic', 'x', { qos: 0 });
    expect(await closed).toBe(true);
    await endClient(outcome.client);
  });

  it('MQTT 3.1.1: a QoS 2 PUBLISH is not acknowledged and the connection stays (facts §3, QoS 2 row)', async () => {
    const clientId = uniqueClientId();
    const outcome = await mqttAttempt(lab, { clientId });
    if (outcome.kind !== 'connack') throw new Error(`expected CONNACK, got ${outcome.kind}`);
    let acked = false;
    const closed = closesWithin(outcome.client, 1_500);
    outcome.client.publish(`iot-doctor/${clientId}/probe`, 'x', { qos: 2 }, () => (acked = true));
    expect(await closed).toBe(false);
    expect(acked).toBe(false);
    await endClient(outcome.client);
  });

  it('MQTT 3.1.1: a denied SUBSCRIBE closes the connection', async () => {
    const outcome = await mqttAttempt(lab);
    if (outcome.kind !== 'connack') throw new Error(`expected CONNACK, got ${outcome.kind}`);
    const closed = closesWithin(outcome.client, 3_000);
    outcome.client.subscribe('iot-doctor/someone-else/#', { qos: 0 });
    expect(await closed).toBe(true);
    await endClient(outcome.client);
  });

  it('an unregistered client certificate: TLS completes, then the socket closes after CONNECT without CONNACK', async () => {
    const stranger = pki.otherDevice('stranger');
    const tls = await tlsHandshake(lab, { certPem: stranger.certPem, keyPem: stranger.keyPem });
    expect(tls.ok).toBe(true);
    tls.socket?.destroy();
    const outcome = await mqttAttempt(lab, { certPem: stranger.certPem, keyPem: stranger.keyPem });
    expect(outcome.kind).toBe('closed');
  });

  it('no client certificate at all: the connection is closed right after the handshake', async () => {
    const tls = await tlsHandshake(lab, { certPem: '' });
    expect(tls.ok).toBe(true);
    const result = await silentUntilClosedOrTimeout(tls.socket!, 2_000);
    expect(result).toEqual({ closed: true, bytes: 0 });
  });

  it('a registry change applies at once: INACTIVE certificate is closed after CONNECT, ACTIVE again connects', async () => {
    lab.registry.setCertificateStatus(lab.device.certificateId, 'INACTIVE');
    try {
      expect((await mqttAttempt(lab)).kind).toBe('closed');
      expect((await httpsCall(lab)).status).toBe(403);
    } finally {
      lab.registry.setCertificateStatus(lab.device.certificateId, 'ACTIVE');
    }
    const outcome = await mqttAttempt(lab);
    expect(outcome.kind).toBe('connack');
    if (outcome.kind === 'connack') await endClient(outcome.client);
  });

  it('SNI (facts §2.2): none is accepted for a DEFAULT-mode certificate; another name fails with alert 40', async () => {
    const none = await tlsHandshake(lab, { servername: null, rejectUnauthorized: false });
    expect(none.ok).toBe(true);
    none.socket?.destroy();
    const mqtt = await mqttAttempt(lab, { servername: null, rejectUnauthorized: false });
    expect(mqtt.kind).toBe('connack');
    if (mqtt.kind === 'connack') await endClient(mqtt.client);
    // An SNI_ONLY certificate (registered without a CA) needs SNI: without it the connection is closed after CONNECT.
    lab.registry.setCertificateMode(lab.device.certificateId, 'SNI_ONLY');
    try {
      expect((await mqttAttempt(lab, { servername: null, rejectUnauthorized: false })).kind).toBe('closed');
      const withSni = await mqttAttempt(lab);
      expect(withSni.kind).toBe('connack');
      if (withSni.kind === 'connack') await endClient(withSni.client);
    } finally {
      lab.registry.setCertificateMode(lab.device.certificateId, 'DEFAULT');
    }
    const other = await tlsHandshake(lab, { servername: 'abcdefghijklmn-ats.iot.eu-west-1.amazonaws.com' });
    expect(other.ok).toBe(false);
    expect(other.error?.code).toMatch(/HANDSHAKE_FAILURE/);
  });

  it('HTTPS publish on 8443: 200 OK body, request id, date header; subscribers receive the message', async () => {
    const clientId = uniqueClientId();
    const outcome = await mqttAttempt(lab, { clientId });
    if (outcome.kind !== 'connack') throw new Error(`expected CONNACK, got ${outcome.kind}`);
    const topic = `iot-doctor/${clientId}/probe`;
    await outcome.client.subscribeAsync(topic, { qos: 1 });
    const received = new Promise<string>((resolve) => outcome.client.once('message', (_t, p) => resolve(p.toString())));
    const res = await httpsCall(lab, { topic, body: 'hello over https' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json?.['message']).toBe('OK');
    expect(res.json?.['traceId']).toBe(res.headers['x-amzn-requestid']);
    expect(Math.abs(Date.parse(String(res.headers['date'])) - Date.now())).toBeLessThan(5_000);
    expect(await received).toBe('hello over https');
    await endClient(outcome.client);
  });

  it('HTTPS publish on 443 with ALPN x-amzn-http-ca works like 8443', async () => {
    const res = await httpsCall(lab, { port: 'tls443', alpn: [ALPN_HTTP] });
    expect(res.alpnProtocol).toBe(ALPN_HTTP);
    expect(res.status).toBe(200);
  });

  it('HTTPS: denied topic 403 ForbiddenException, other path 404, other method 405', async () => {
    const denied = await httpsCall(lab, { topic: 'not-allowed/topic' });
    expect(denied.status).toBe(403);
    expect(denied.headers['x-amzn-errortype']).toBe('ForbiddenException:');
    expect(denied.json?.['message']).toBe('Forbidden');
    expect(typeof denied.json?.['traceId']).toBe('string');
    expect(denied.headers['date']).toBeTruthy();
    expect((await httpsCall(lab, { path: '/things/x' })).status).toBe(404);
    const wrongMethod = await httpsCall(lab, { method: 'PUT' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers['date']).toBeTruthy();
  });

  it('HTTPS with an unregistered certificate: 403', async () => {
    const stranger = pki.otherDevice('stranger');
    const res = await httpsCall(lab, { certPem: stranger.certPem, keyPem: stranger.keyPem });
    expect(res.status).toBe(403);
    expect(res.json?.['message']).toBe('Forbidden');
  });

  it('443 without ALPN: HTTP gets 403 Missing Authentication Token', async () => {
    const res = await httpsCall(lab, { port: 'tls443' });
    expect(res.alpnProtocol).toBe(false);
    expect(res.status).toBe(403);
    expect(res.headers['x-amzn-errortype']).toBe('ForbiddenException:');
    expect(res.json?.['message']).toBe('Missing Authentication Token');
    expect(res.headers['date']).toBeTruthy();
  });

  it('443 without ALPN: MQTT CONNECT gets no CONNACK, the socket stays open and silent', async () => {
    const tls = await tlsHandshake(lab, { port: 'tls443' });
    expect(tls.ok).toBe(true);
    expect(tls.alpnProtocol).toBe(false);
    tls.socket!.write(connectPacket311(uniqueClientId()));
    const result = await silentUntilClosedOrTimeout(tls.socket!, 1_500);
    expect(result).toEqual({ closed: false, bytes: 0 });
    tls.socket!.destroy();
  });

  it('443 with an unrelated ALPN protocol: nothing selected, treated as no ALPN', async () => {
    const res = await httpsCall(lab, { port: 'tls443', alpn: ['h2', 'http/1.1'] });
    expect(res.alpnProtocol).toBe(false);
    expect(res.json?.['message']).toBe('Missing Authentication Token');
  });

  it('counts TLS handshakes per listener and TCP connections', () => {
    expect(lab.stats.tlsHandshakes.mqtt8883).toBeGreaterThan(5);
    expect(lab.stats.tlsHandshakes.tls443).toBeGreaterThan(3);
    expect(lab.stats.tlsHandshakes.https8443).toBeGreaterThan(3);
    expect(lab.stats.connections).toBeGreaterThan(15);
  });
});
