/**
 * Fidelity of the lab's MQTT broker to AWS IoT Core, checked with mosquitto_pub/sub (through a SOCKS5 proxy, under
 * the endpoint's name), mqtt.js (for MQTT 5 reason codes and properties) and one raw TLS socket. Each test names the
 * fact it imitates.
 */
import { connect as tlsConnect } from 'node:tls';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, LAB_DEVICE_POLICY } from '../../src/lab/index.js';
import { endClient, mqttAttempt, uniqueClientId } from '../helpers/lab-clients.js';
import { mosquitto, startFidelityLab, type FidelityLab } from './fidelity-tools.js';

let f: FidelityLab;

beforeAll(async () => {
  f = await startFidelityLab({ pki: createLabPki('ec') });
  // A watcher may read the lifecycle events (field notes §7.5: Subscribe on topicfilter/$aws/events/presence/*).
  const { registry } = f.lab;
  registry.createPolicy('presence-watch', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: registry.arn('topicfilter', '$aws/events/presence/*') },
      { Effect: 'Allow', Action: 'iot:Receive', Resource: registry.arn('topic', '$aws/events/presence/*') },
    ],
  });
  registry.attachPolicy('presence-watch', registry.certificateArn(f.lab.device.certificateId));
});
afterAll(async () => {
  await f?.close();
});

const v311 = ['-V', 'mqttv311'];

// Concurrent: each waits out a keep-alive (5 s) on its own client id to see the PINGRESP; one lab serves both.
describe.concurrent('QoS 2 on MQTT 3.1.1 (facts §3 table "QoS 2 requested": no PUBACK/SUBACK sent)', () => {
  it('a QoS 2 PUBLISH gets no PUBREC and the connection stays open (PINGREQ still answered)', async () => {
    const id = uniqueClientId('q2');
    const args = [...v311, '-i', id, '-k', '5', '-t', `iot-doctor/${id}/probe`, '-m', 'x', '-q', '2', '-d'];
    const out = await mosquitto(f, 'pub', args, 6_500);
    expect(out.all).toMatch(/sending PUBLISH \(d0, q2/);
    expect(out.all).not.toMatch(/received PUBREC/);
    expect(out.all).toMatch(/received PINGRESP/);
    expect(out.all).not.toMatch(/Connection lost|Error/i);
  });

  it('a SUBSCRIBE asking for QoS 2 gets no SUBACK and the connection stays open', async () => {
    const id = uniqueClientId('q2s');
    const args = [...v311, '-i', id, '-k', '5', '-t', `iot-doctor/${id}/x`, '-q', '2', '-d'];
    const out = await mosquitto(f, 'sub', args, 6_500);
    expect(out.all).toMatch(/sending SUBSCRIBE/);
    expect(out.all).not.toMatch(/received SUBACK/);
    expect(out.all).toMatch(/received PINGRESP/);
  });
});

describe('Last Will (field notes §7.5: a Will topic the client may not publish to refuses the CONNECT)', () => {
  it('MQTT 3.1.1: closed without CONNACK; MQTT 5: CONNACK 0x87; a Will on an allowed topic connects', async () => {
    const id = uniqueClientId('will');
    const refused = await mosquitto(f, 'pub', [
      ...v311,
      '-i',
      id,
      '-t',
      `iot-doctor/${id}/probe`,
      '-m',
      'x',
      '-d',
      '--will-topic',
      'forbidden/will',
      '--will-payload',
      'gone',
    ]);
    expect(refused.all).not.toMatch(/received CONNACK/);
    expect(refused.code).not.toBe(0);
    const v5 = await mqttAttempt(f.lab, {
      version: 5,
      options: { will: { topic: 'forbidden/will', payload: Buffer.from('x'), qos: 0, retain: false } },
    });
    expect(v5.kind).toBe('refused');
    if (v5.kind === 'refused') expect(v5.reasonCode).toBe(0x87);
    const ok = await mosquitto(f, 'pub', [
      ...v311,
      '-i',
      `${id}-ok`,
      '-t',
      `iot-doctor/${id}/probe`,
      '-m',
      'x',
      '-d',
      '--will-topic',
      `iot-doctor/${id}/will`,
      '--will-payload',
      'gone',
    ]);
    expect(ok.all).toMatch(/received CONNACK \(0\)/);
  });
});

describe('keep-alive (facts §3.1: values below 30 s are raised to 30)', () => {
  it('MQTT 3.1.1 with keep-alive 2 s and no traffic is still open after 4 s', async () => {
    const socket = tlsConnect({
      host: f.lab.bind,
      port: f.lab.ports.mqtt8883,
      servername: f.lab.endpoint,
      ca: f.lab.caPem,
      cert: f.lab.device.certPem,
      key: f.lab.device.keyPem,
    });
    try {
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      const connect = mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        clientId: uniqueClientId('ka'),
        keepalive: 2,
      });
      const connack = new Promise<Buffer>((resolve) => socket.once('data', resolve));
      socket.write(connect);
      expect((await connack)[0]).toBe(0x20);
      const closed = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 4_000);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      expect(closed).toBe(false);
    } finally {
      socket.destroy();
    }
  });

  it('MQTT 5 with keep-alive 5 s: CONNACK announces Server Keep Alive 30; over 1200 s: 1200 (facts §3.1, §3.2)', async () => {
    for (const [asked, told] of [
      [5, 30],
      [3000, 1200],
    ] as const) {
      const out = await mqttAttempt(f.lab, { version: 5, options: { keepalive: asked } });
      if (out.kind !== 'connack') throw new Error(`expected CONNACK, got ${out.kind}`);
      expect(out.connack.properties?.serverKeepAlive).toBe(told);
      await endClient(out.client);
    }
  });
});

describe('broker limits (facts §3.1; AWS message broker limits page)', () => {
  it('client id over 128 bytes or starting with $: MQTT 3.1.1 closed without CONNACK, MQTT 5 CONNACK 0x85', async () => {
    for (const clientId of ['c'.repeat(129), '$abc']) {
      expect((await mqttAttempt(f.lab, { clientId })).kind).toBe('closed');
      const v5 = await mqttAttempt(f.lab, { clientId, version: 5 });
      expect(v5.kind).toBe('refused');
      if (v5.kind === 'refused') expect(v5.reasonCode).toBe(0x85);
    }
    const ok = await mqttAttempt(f.lab, { clientId: 'c'.repeat(128) });
    expect(ok.kind).toBe('connack');
    if (ok.kind === 'connack') await endClient(ok.client);
  });

  it('MQTT 3.1.1: a topic over 256 bytes or with 8 slashes, or a payload over 128 KB, closes the connection', async () => {
    const id = uniqueClientId('lim');
    const pub = (topic: string, payload: string) =>
      // A fresh client id each time: AWS allows one CONNECT per second per client id (facts §3.1).
      mosquitto(f, 'pub', [...v311, '-i', uniqueClientId('lim'), '-t', topic, '-q', '1', '-d', '-s'], 8_000, payload);
    const long = await pub(`iot-doctor/${id}/${'t'.repeat(256)}`, 'x');
    expect(long.all).toMatch(/sending PUBLISH/);
    expect(long.all).not.toMatch(/received PUBACK/);
    const deep = await pub(`iot-doctor/${id}/a/b/c/d/e/f/g`, 'x');
    expect(deep.all).toMatch(/sending PUBLISH/);
    expect(deep.all).not.toMatch(/received PUBACK/);
    const big = await pub(`iot-doctor/${id}/probe`, 'x'.repeat(128 * 1024 + 1));
    expect(big.all).toMatch(/sending PUBLISH/);
    expect(big.all).not.toMatch(/received PUBACK/);
    const fits = await pub(`iot-doctor/${id}/a/b/c/d/e/f`, 'x'.repeat(128 * 1024));
    expect(fits.all).toMatch(/received PUBACK/);
  });

  it('after a 200 KB 3.1.1 publish, MQTT 5 PUBACKs are 0x00 and messages still cross between the versions', async () => {
    const id = uniqueClientId('bridge');
    const big = await mosquitto(
      f,
      'pub',
      [...v311, '-i', id, '-t', `iot-doctor/${id}/probe`, '-q', '1', '-d', '-s'],
      8_000,
      'x'.repeat(200 * 1024),
    );
    expect(big.all).not.toMatch(/received PUBACK/);
    const subId = `${id}-sub`;
    const sub = await mqttAttempt(f.lab, { clientId: subId });
    if (sub.kind !== 'connack') throw new Error(`expected CONNACK, got ${sub.kind}`);
    await sub.client.subscribeAsync(`iot-doctor/${subId}/x`, { qos: 1 });
    const got = new Promise<string>((resolve) => sub.client.once('message', (_t, p) => resolve(p.toString())));
    const pub = await mqttAttempt(f.lab, { version: 5 });
    if (pub.kind !== 'connack') throw new Error(`expected CONNACK, got ${pub.kind}`);
    const ack = await pub.client.publishAsync(`iot-doctor/${subId}/x`, 'from v5', { qos: 1 });
    expect((ack as { reasonCode?: number } | undefined)?.reasonCode ?? 0).toBe(0);
    expect(await got).toBe('from v5');
    await Promise.all([endClient(sub.client), endClient(pub.client)]);
  });
});

describe('lifecycle events (facts §3.3; field notes §7.5)', () => {
  it('connected, disconnected (client-initiated) and connect_failed are published on $aws/events/presence/...', async () => {
    const watcher = uniqueClientId('watch');
    const id = uniqueClientId('dev');
    const events = mosquitto(
      f,
      'sub',
      [...v311, '-i', watcher, '-t', `$aws/events/presence/+/${id}`, '-C', '3', '-F', '%t %p'],
      8_000,
    );
    await new Promise((r) => setTimeout(r, 800));
    await mosquitto(f, 'pub', [...v311, '-i', id, '-t', `iot-doctor/${id}/probe`, '-m', 'x']);
    // One CONNECT per second per client id (facts §3.1): the next attempt waits its turn.
    await new Promise((r) => setTimeout(r, 1_100));
    await mosquitto(f, 'pub', [
      ...v311,
      '-i',
      id,
      '-t',
      'x',
      '-m',
      'x',
      '--will-topic',
      'forbidden/will',
      '--will-payload',
      'x',
    ]);
    const lines = (await events).stdout.trim().split('\n');
    const parsed = lines.map((l) => ({
      topic: l.slice(0, l.indexOf(' ')),
      event: JSON.parse(l.slice(l.indexOf(' ') + 1)),
    }));
    expect(parsed.map((p) => p.topic)).toEqual([
      `$aws/events/presence/connected/${id}`,
      `$aws/events/presence/disconnected/${id}`,
      `$aws/events/presence/connect_failed/${id}`,
    ]);
    expect(parsed[0]!.event).toMatchObject({
      clientId: id,
      eventType: 'connected',
      principalIdentifier: f.lab.device.certificateId,
      versionNumber: 1,
    });
    expect(parsed[1]!.event).toMatchObject({
      eventType: 'disconnected',
      clientInitiatedDisconnect: true,
      disconnectReason: 'CLIENT_INITIATED_DISCONNECT',
      versionNumber: 1,
    });
    expect(parsed[2]!.event).toMatchObject({
      eventType: 'connect_failed',
      connectFailureReason: 'AUTHORIZATION_FAILED',
    });
  });
});

describe('MQTT 5 CONNACK and PUBACK (facts §3.2)', () => {
  it("CONNACK has Maximum QoS 1 and none of mosquitto's Maximum Packet Size / Receive Maximum; PUBACK without subscribers is 0x00", async () => {
    const out = await mqttAttempt(f.lab, { version: 5 });
    if (out.kind !== 'connack') throw new Error(`expected CONNACK, got ${out.kind}`);
    const props = out.connack.properties ?? {};
    expect(props.maximumQoS).toBe(1);
    expect(props.maximumPacketSize).toBeUndefined();
    expect(props.receiveMaximum).toBeUndefined();
    const ack = await out.client.publishAsync(`iot-doctor/${uniqueClientId('nobody')}/probe`, 'x', { qos: 1 });
    expect((ack as { reasonCode?: number } | undefined)?.reasonCode ?? 0).toBe(0);
    await endClient(out.client);
  });
});

void LAB_DEVICE_POLICY;
