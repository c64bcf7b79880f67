/**
 * MQTT 5 through the lab (mosquitto behind the policy-enforcing front), seen through mqtt.js: CONNACK 0x87 for a
 * refused CONNECT, SUBACK / PUBACK 0x87 for denied subscribe / publish, messages crossing between MQTT 5, MQTT
 * 3.1.1 and HTTPS publish; and CONNACK 0x80 when the lab has no MQTT 5 broker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALPN_MQTT } from '../../src/model/index.js';
import { findMosquitto } from '../../src/lab/broker.js';
import { createLabPki, startLab, type Lab, type LabPki } from '../../src/lab/index.js';
import mqttPacket from 'mqtt-packet';
import { endClient, httpsCall, mqttAttempt, tlsHandshake, uniqueClientId } from '../helpers/lab-clients.js';

const hasMosquitto = findMosquitto() !== undefined;

let pki: LabPki;
let lab: Lab;
let labOff: Lab;

beforeAll(async () => {
  pki = createLabPki('ec');
  [lab, labOff] = await Promise.all([startLab({ pki }), startLab({ pki, mqtt5: 'off' })]);
});

afterAll(async () => {
  await Promise.all([lab?.close(), labOff?.close()]);
});

describe.skipIf(!hasMosquitto)('lab MQTT 5 (mosquitto available)', () => {
  it('reports MQTT 5 as available', () => {
    expect(lab.mqtt5Available).toBe(true);
  });

  it('CONNACK success with Maximum QoS 1, on 8883 and on 443 with ALPN', async () => {
    for (const port of ['mqtt8883', 'tls443'] as const) {
      const outcome = await mqttAttempt(lab, { version: 5, port, ...(port === 'tls443' ? { alpn: [ALPN_MQTT] } : {}) });
      expect(outcome.kind).toBe('connack');
      if (outcome.kind !== 'connack') return;
      expect(outcome.client.options.protocolVersion).toBe(5);
      expect(outcome.connack.properties?.maximumQoS).toBe(1);
      await endClient(outcome.client);
    }
  });

  it('unregistered or INACTIVE certificate: CONNACK 0x87 Not authorized, then close', async () => {
    const stranger = pki.otherDevice('mqtt5-stranger');
    const refused = await mqttAttempt(lab, { version: 5, certPem: stranger.certPem, keyPem: stranger.keyPem });
    expect(refused.kind).toBe('refused');
    if (refused.kind === 'refused') {
      expect(refused.reasonCode).toBe(0x87);
      await refused.closed;
    }
    lab.registry.setCertificateStatus(lab.device.certificateId, 'INACTIVE');
    try {
      const inactive = await mqttAttempt(lab, { version: 5 });
      expect(inactive.kind === 'refused' && inactive.reasonCode).toBe(0x87);
    } finally {
      lab.registry.setCertificateStatus(lab.device.certificateId, 'ACTIVE');
    }
  });

  it('policy denying the client id: CONNACK 0x87', async () => {
    const policy = lab.registry.getPolicy('lab-device-policy')!;
    const original = policy.document;
    const doc = JSON.parse(original) as { Statement: { Sid: string; Resource: unknown }[] };
    doc.Statement[0]!.Resource = `arn:aws:iot:${lab.region}:${lab.accountId}:client/another-device`;
    lab.registry.createPolicyVersion('lab-device-policy', doc);
    try {
      const outcome = await mqttAttempt(lab, { version: 5 });
      expect(outcome.kind === 'refused' && outcome.reasonCode).toBe(0x87);
      // MQTT 3.1.1 with the same policy: closed without CONNACK.
      expect((await mqttAttempt(lab, { version: 4 })).kind).toBe('closed');
    } finally {
      lab.registry.createPolicyVersion('lab-device-policy', original);
    }
  });

  it('denied SUBSCRIBE: SUBACK 0x87 for that filter only; the connection stays up', async () => {
    const clientId = uniqueClientId();
    const outcome = await mqttAttempt(lab, { version: 5, clientId });
    if (outcome.kind !== 'connack') throw new Error(`expected CONNACK, got ${outcome.kind}`);
    const client = outcome.client;
    // mqtt.js rejects a SUBACK carrying a failure code and attaches the packet.
    const subackCodes = (subs: Record<string, { qos: 0 | 1 }>): Promise<number[]> =>
      client.subscribeAsync(subs).then(
        (granted) => granted.map((g) => g.qos),
        (err: { packet?: { granted?: number[] } }) => err.packet?.granted ?? [],
      );
    expect(await subackCodes({ 'iot-doctor/someone-else/#': { qos: 1 } })).toEqual([0x87]);
    expect(await subackCodes({ [`iot-doctor/${clientId}/a`]: { qos: 1 }, 'forbidden/#': { qos: 0 } })).toEqual([
      1, 0x87,
    ]);
    expect(client.connected).toBe(true);
    await endClient(client);
  });

  it('denied QoS 1 PUBLISH: PUBACK 0x87; allowed publish round-trips', async () => {
    const clientId = uniqueClientId();
    const outcome = await mqttAttempt(lab, { version: 5, clientId });
    if (outcome.kind !== 'connack') throw new Error(`expected CONNACK, got ${outcome.kind}`);
    const client = outcome.client;
    await expect(client.publishAsync('not-allowed/topic', 'x', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    expect(client.connected).toBe(true);
    const topic = `iot-doctor/${clientId}/probe`;
    await client.subscribeAsync(topic, { qos: 1 });
    const received = new Promise<string>((resolve) => client.once('message', (_t, p) => resolve(p.toString())));
    await client.publishAsync(topic, 'v5 ping', { qos: 1 });
    expect(await received).toBe('v5 ping');
    await endClient(client);
  });

  it('QoS 2 PUBLISH: DISCONNECT 0x9B QoS not supported (AWS maximum is QoS 1)', async () => {
    const outcome = await mqttAttempt(lab, { version: 5 });
    if (outcome.kind !== 'connack') throw new Error(`expected CONNACK, got ${outcome.kind}`);
    const disconnect = new Promise<number | undefined>((resolve) =>
      outcome.client.once('disconnect', (p) => resolve(p.reasonCode)),
    );
    outcome.client.publish(`iot-doctor/x/y`, 'q2', { qos: 2 }, () => {});
    expect(await disconnect).toBe(0x9b);
    await endClient(outcome.client);
  });

  it('messages cross between MQTT 3.1.1, MQTT 5 and HTTPS publish', async () => {
    const id5 = uniqueClientId();
    const id4 = uniqueClientId();
    const o5 = await mqttAttempt(lab, { version: 5, clientId: id5 });
    const o4 = await mqttAttempt(lab, { version: 4, clientId: id4 });
    if (o5.kind !== 'connack' || o4.kind !== 'connack') throw new Error('expected two CONNACKs');
    const t5 = `iot-doctor/${id5}/probe`;
    const t4 = `iot-doctor/${id4}/probe`;
    await o5.client.subscribeAsync(t5, { qos: 1 });
    await o4.client.subscribeAsync(t4, { qos: 1 });
    const nextMessage = (c: typeof o5.client): Promise<string> =>
      new Promise((resolve) => c.once('message', (_t, p) => resolve(p.toString())));

    let got5 = nextMessage(o5.client);
    await o4.client.publishAsync(t5, 'from 3.1.1', { qos: 1 });
    expect(await got5).toBe('from 3.1.1');

    const got4 = nextMessage(o4.client);
    await o5.client.publishAsync(t4, 'from 5', { qos: 1 });
    expect(await got4).toBe('from 5');

    got5 = nextMessage(o5.client);
    expect((await httpsCall(lab, { topic: t5, body: 'from https' })).status).toBe(200);
    expect(await got5).toBe('from https');

    await Promise.all([endClient(o5.client), endClient(o4.client)]);
  });
});

describe('lab MQTT 5 without mosquitto', () => {
  it("mqtt5: 'off' gives CONNACK 0x80 with a reason string naming mosquitto", async () => {
    expect(labOff.mqtt5Available).toBe(false);
    const outcome = await mqttAttempt(labOff, { version: 5 });
    expect(outcome.kind).toBe('refused');
    if (outcome.kind === 'refused') {
      expect(outcome.reasonCode).toBe(0x80);
      await outcome.closed;
    }
    // The reason string, read from the raw CONNACK.
    const tls = await tlsHandshake(labOff, {});
    expect(tls.ok).toBe(true);
    const socket = tls.socket!;
    socket.write(
      mqttPacket.generate(
        { cmd: 'connect', protocolVersion: 5, clientId: uniqueClientId(), clean: true, keepalive: 30 },
        { protocolVersion: 5 },
      ),
    );
    const connack = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const parser = mqttPacket.parser({ protocolVersion: 5 });
      parser.on('packet', (p) => resolve(p as unknown as Record<string, unknown>));
      parser.on('error', reject);
      socket.on('data', (d: Buffer) => parser.parse(d));
    });
    socket.destroy();
    expect(connack['cmd']).toBe('connack');
    expect(connack['reasonCode']).toBe(0x80);
    expect(String((connack['properties'] as { reasonString?: string } | undefined)?.reasonString)).toMatch(/mosquitto/);
    // MQTT 3.1.1 is unaffected.
    const v4 = await mqttAttempt(labOff, { version: 4 });
    expect(v4.kind).toBe('connack');
    if (v4.kind === 'connack') await endClient(v4.client);
  });
});
