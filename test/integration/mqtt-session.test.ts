/**
 * The probe's MQTT session against servers that misbehave at the byte level, over real TCP sockets on 127.0.0.1:
 * a malformed packet or a foreign answer ends the step as `invalid`, an oversized one as `too-large`, at once (bounded input), a close after CONNECT
 * is `closed`, and a CONNACK with a return code is `refused` with its name.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_PACKET_BYTES, MqttSession } from '../../src/probes/mqtt.js';

const servers: Server[] = [];
const sockets = new Set<Socket>();

async function serverThat(onConnect: (socket: Socket, firstBytes: Buffer) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('data', (chunk) => onConnect(socket, chunk));
    socket.on('error', () => {});
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

async function session(port: number, version: 4 | 5 = 4): Promise<MqttSession> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  return new MqttSession(socket, { clientId: 'probe-1', version, keepaliveSeconds: 30, timeoutMs: 3000 });
}

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  for (const s of servers.splice(0)) s.close();
});

describe('MQTT session on a raw socket', () => {
  it('sends a CONNECT and reads a refusing CONNACK (3.1.1 return code 5)', async () => {
    let first: Buffer | undefined;
    const port = await serverThat((socket, bytes) => {
      first = bytes;
      socket.write(Buffer.from([0x20, 0x02, 0x00, 0x05]));
    });
    const s = await session(port);
    const step = await s.connect();
    expect(step).toMatchObject({ ok: false, kind: 'refused', code: 5, reason: '0x05 not authorized' });
    expect(first?.[0]).toBe(0x10);
    expect(first?.subarray(2, 8).toString('latin1')).toBe('\u0000\u0004MQTT');
    expect(first?.[8]).toBe(4);
    expect(first?.includes(Buffer.from('probe-1'))).toBe(true);
  });

  it('a close after CONNECT without a CONNACK is `closed` (the AWS answer to an unauthorized 3.1.1 client)', async () => {
    const port = await serverThat((socket) => socket.end());
    const s = await session(port);
    const step = await s.connect();
    expect(step).toMatchObject({ ok: false, kind: 'closed' });
    expect(step.durationMs).toBeLessThan(2000);
  });

  it('a malformed packet ends the step as `invalid` (not MQTT) and drops the connection', async () => {
    // Packet type 0 is reserved (MQTT 3.1.1 §2.2.1): no parser may take it for a CONNACK.
    const port = await serverThat((socket) => socket.write(Buffer.from([0x00, 0x00])));
    const s = await session(port);
    const step = await s.connect();
    expect(step).toMatchObject({ ok: false, kind: 'invalid' });
    expect((step as { message: string }).message).toMatch(/not MQTT \(2 bytes: 00 00\)/);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.isClosed).toBe(true);
  });

  it('a length field above MAX_PACKET_BYTES ends the step at once as `too-large`, not buffered without end', async () => {
    const port = await serverThat((socket) => {
      // A CONNACK announcing 256 MB, then a stream of bytes that never completes it.
      socket.write(Buffer.from([0x20, 0xff, 0xff, 0xff, 0x7f]));
      const junk = Buffer.alloc(64 * 1024, 0x41);
      const pump = (): void => {
        while (!socket.destroyed && socket.write(junk));
        if (!socket.destroyed) socket.once('drain', pump);
      };
      pump();
    });
    const s = await session(port);
    const started = performance.now();
    const step = await s.connect();
    expect(step).toMatchObject({ ok: false, kind: 'too-large' });
    expect((step as { message: string }).message).toContain(`${0x0fffffff} bytes, above the ${MAX_PACKET_BYTES}`);
    expect(performance.now() - started).toBeLessThan(2500);
  });

  it('a first packet other than CONNACK is `invalid`, named with its bytes (an HTTP answer on the MQTT port)', async () => {
    const port = await serverThat((socket) => socket.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const s = await session(port);
    const step = await s.connect();
    expect(step).toMatchObject({ ok: false, kind: 'invalid' });
    expect((step as { message: string }).message).toContain('("HTTP/1.1 400 Bad …")');
  });
});
