/**
 * The lab's MQTT 3.1.1 side sends each control packet whole, as a broker does (mosquitto hands a packet to SSL_write
 * in one buffer): aedes writes a packet in pieces, and pieces written one by one left as one TLS record and one TCP
 * segment each (Nagle is off), so a pipelined CONNECT + SUBSCRIBE + PUBLISH was answered in 19 records and
 * segments, beyond the server's initial congestion window: on a link with real delay the delivery then waited one
 * round trip for the client's ACKs. Counted here on the wire, through a plain TCP relay on loopback that reads the
 * TLS record headers the lab sends after the handshake.
 */
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, startLab, type Lab, type LabPki } from '../../src/lab/index.js';
import { ALPN_MQTT } from '../../src/model/index.js';
import { uniqueClientId } from '../helpers/lab-clients.js';

let pki: LabPki;
let lab: Lab;
const servers: Server[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  pki = createLabPki('rsa');
  lab = await startLab({ pki, mqtt5: 'off' });
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await lab?.close();
});

/** TLS record headers (content type, length) the lab sent through a relay to `port`, in order. */
interface Relay {
  port: number;
  records: { type: number; length: number }[];
}

async function relayTo(port: number): Promise<Relay> {
  const relay: Relay = { port: 0, records: [] };
  const server = createServer((client) => {
    const up = netConnect(port, lab.bind);
    sockets.push(client, up);
    let pending = Buffer.alloc(0);
    client.on('data', (d) => up.write(d));
    up.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 5) {
        const length = pending.readUInt16BE(3);
        if (pending.length < 5 + length) break;
        relay.records.push({ type: pending[0]!, length });
        pending = pending.subarray(5 + length);
      }
      client.write(d);
    });
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  relay.port = (server.address() as AddressInfo).port;
  return relay;
}

/**
 * CONNECT, SUBSCRIBE and PUBLISH QoS 1 in one write through the relay; resolves when CONNACK, SUBACK, PUBACK and the
 * message back arrived, with the number of application-data records the lab sent after the handshake.
 */
function pipelined(relay: Relay, alpn?: string[]): Promise<{ packets: string[]; records: number }> {
  const clientId = uniqueClientId();
  const topic = `iot-doctor/${clientId}/probe`;
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: relay.port,
      servername: lab.endpoint,
      ca: lab.caPem,
      cert: lab.device.certPem,
      key: lab.device.keyPem,
      ...(alpn ? { ALPNProtocols: alpn } : {}),
    });
    sockets.push(socket);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within 5 s: ${packets.join(', ')}`));
    }, 5000);
    const packets: string[] = [];
    let mark = 0;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => {
      packets.push(p.cmd);
      if (['connack', 'suback', 'puback', 'publish'].every((c) => packets.includes(c))) {
        clearTimeout(timer);
        // Whatever else the lab might still send in pieces has left by now on loopback.
        setTimeout(() => {
          const records = relay.records.slice(mark).filter((r) => r.type === 23).length;
          socket.destroy();
          resolve({ packets, records });
        }, 100);
      }
    });
    socket.on('data', (d: Buffer) => parser.parse(d));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('secureConnect', () => {
      mark = relay.records.length;
      const opts = { protocolVersion: 4 } as const;
      socket.write(
        Buffer.concat([
          mqttPacket.generate({ cmd: 'connect', clientId, keepalive: 30, clean: true, protocolVersion: 4 }, opts),
          mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 1 }] }, opts),
          mqttPacket.generate(
            { cmd: 'publish', messageId: 2, topic, payload: 'ping', qos: 1, retain: false, dup: false },
            opts,
          ),
        ]),
      );
    });
  });
}

describe('lab MQTT 3.1.1: one TLS record per control packet', () => {
  for (const [name, port, alpn] of [
    ['8883', 'mqtt8883', undefined],
    ['443 with ALPN x-amzn-mqtt-ca', 'tls443', [ALPN_MQTT]],
  ] as const) {
    it(`${name}: the answers to a pipelined CONNECT, SUBSCRIBE and PUBLISH come in few records`, async () => {
      const relay = await relayTo(lab.ports[port]);
      const { packets, records } = await pipelined(relay, alpn ? [...alpn] : undefined);
      expect([...packets].sort()).toEqual(['connack', 'puback', 'publish', 'suback']);
      // One record per packet, plus at most the TLS 1.3 session tickets sent after the client's Finished (OpenSSL
      // sends 2). Written piece by piece, the same answers took 19 records here.
      expect(records).toBeGreaterThanOrEqual(1);
      expect(records).toBeLessThanOrEqual(packets.length + 2);
    });
  }
});
