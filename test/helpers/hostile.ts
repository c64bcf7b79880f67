/**
 * The hostile-server corpus (issue 17): ways a server, proxy or middlebox misbehaves after the TLS handshake, each
 * a function that takes over the server side of a real TLS connection once the client's first bytes arrived. Used
 * by the hostile-*.test.ts files against every route kind, with real TLS on 127.0.0.1.
 */
import type { TLSSocket } from 'node:tls';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** One misbehaviour; `fast` when the client must classify it well before its deadline. */
export interface Hostile {
  name: string;
  fast: boolean;
  act: (socket: TLSSocket, protocol: 'mqtt' | 'http') => void;
}

/** Writes `chunk` again and again, honouring back-pressure, until the connection is gone. */
export function pumpForever(socket: TLSSocket, chunk: Buffer): void {
  const pump = (): void => {
    while (!socket.destroyed && socket.write(chunk));
    if (!socket.destroyed) socket.once('drain', pump);
  };
  pump();
}

/** Writes `bytes` one at a time, `everyMs` apart, then stays silent. */
function dribble(socket: TLSSocket, bytes: Buffer, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= bytes.length) return clearInterval(timer);
    socket.write(bytes.subarray(i, i + 1));
    i += 1;
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

/** 2 KB of deterministic pseudo-random bytes whose first byte starts no MQTT packet a server may send first. */
export function garbage(size = 2048): Buffer {
  const out = Buffer.alloc(size);
  let x = 0x2545f491;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  out[0] = 0xa7;
  return out;
}

function raw(socket: TLSSocket): Socket | undefined {
  return (socket as unknown as { _parent?: Socket })._parent;
}

/** The corpus. The expected code per protocol lives with the tests (a table). */
export const HOSTILE: readonly Hostile[] = [
  { name: 'silence', fast: false, act: () => undefined },
  { name: 'garbage', fast: true, act: (s) => s.write(garbage()) },
  { name: 'endless stream', fast: true, act: (s) => pumpForever(s, Buffer.alloc(16 * 1024, 0x41)) },
  {
    name: 'oversized length field',
    fast: true,
    act: (s, p) => {
      // MQTT: a CONNACK announcing 256 MB; HTTP: a body of 1 GB. Then bytes without end.
      if (p === 'mqtt') s.write(Buffer.from([0x20, 0xff, 0xff, 0xff, 0x7f]));
      else s.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000000\r\n\r\n');
      pumpForever(s, Buffer.alloc(16 * 1024, 0x7b));
    },
  },
  {
    name: 'endless header',
    fast: true,
    act: (s, p) => {
      // MQTT: a PUBLISH header whose length field never ends (continuation bit set forever: MQTT 3.1.1 §2.2.3 allows
      // four bytes); HTTP: a header line that never ends.
      if (p === 'mqtt') s.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
      s.write(p === 'mqtt' ? Buffer.from([0x30]) : 'HTTP/1.1 200 OK\r\nx-padding: ');
      pumpForever(s, Buffer.alloc(16 * 1024, p === 'mqtt' ? 0xff : 0x61));
    },
  },
  {
    name: 'invalid protocol',
    fast: true,
    // MQTT: packet type 0 is reserved (MQTT 3.1.1 §2.2.1); HTTP: a status line whose code is not three digits.
    act: (s, p) => s.write(p === 'mqtt' ? Buffer.from([0x00, 0x00]) : 'HTTP/1.1 2x0 OK\r\n\r\n'),
  },
  { name: 'RST', fast: true, act: (s) => raw(s)?.resetAndDestroy() },
  { name: 'FIN', fast: true, act: (s) => s.end() },
  {
    name: 'dribbling',
    fast: false,
    act: (s, p) =>
      dribble(
        s,
        p === 'mqtt' ? Buffer.from([0x20, 0x02, 0x00]) : Buffer.from('HTTP/1.1 200 OK\r\nx-a: ' + 'a'.repeat(100)),
        120,
      ),
  },
];

/**
 * Handshake misbehaviour (issue 17): a relay in front of a real TLS server that passes the client's bytes on and the
 * server's first `finAfter` bytes back, then closes towards the client with a FIN (and drops the server side). Every
 * byte offset of a real server flight can so be cut. Resolves to the relay's port; `close()` stops it.
 */
export async function finRelay(upstreamPort: number, finAfter: number): Promise<{ port: number; close(): void }> {
  const conns = new Set<Socket>();
  const server = createServer((client) => {
    conns.add(client);
    client.on('error', () => undefined);
    client.on('close', () => conns.delete(client));
    const upstream = connect(upstreamPort, '127.0.0.1');
    conns.add(upstream);
    upstream.on('error', () => undefined);
    upstream.on('close', () => conns.delete(upstream));
    let left = finAfter;
    const cut = (): void => {
      client.end();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => (left === 0 ? cut() : upstream.write(chunk)));
    upstream.on('data', (chunk: Buffer) => {
      const take = Math.min(left, chunk.length);
      if (take > 0) client.write(chunk.subarray(0, take));
      left -= take;
      if (left === 0) cut();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const c of conns) c.destroy();
      server.close();
    },
  };
}

/** A WebSocket frame header (RFC 6455 §5.2): FIN and `opcode`, unmasked (a server's), with a 64-bit `length`. */
function frameHeader(opcode: number, length: bigint): Buffer {
  const out = Buffer.alloc(10);
  out[0] = 0x80 | opcode;
  out[1] = 127;
  out.writeBigUInt64BE(length, 2);
  return out;
}

/**
 * WebSocket misbehaviours after a correct 101 (for `mqtt-wss-443`): each takes over once the client's first frame
 * (its MQTT CONNECT) arrived. RFC 6455 §5.2: opcode 0x3 is reserved, RSV bits must be 0 without an extension, a
 * length's most significant bit must be 0.
 */
export const HOSTILE_WEBSOCKET: readonly Hostile[] = [
  // A reserved opcode with RSV1 set: no extension was negotiated, so this frame is invalid twice over.
  { name: 'invalid frame', fast: true, act: (s) => s.write(Buffer.from([0xc3, 0x02, 0x20, 0x02])) },
  // A binary frame announcing 2^62 bytes, then bytes without end.
  {
    name: 'huge frame length',
    fast: true,
    act: (s) => {
      s.write(frameHeader(0x2, 1n << 62n));
      pumpForever(s, Buffer.alloc(16 * 1024, 0x20));
    },
  },
  // Binary frames of garbage (not MQTT) without end.
  {
    name: 'endless frame stream',
    fast: true,
    act: (s) => {
      const payload = garbage(16 * 1024);
      const head = Buffer.from([0x82, 126, 0x40, 0x00]);
      pumpForever(s, Buffer.concat([head, payload]));
    },
  },
  { name: 'RST after upgrade', fast: true, act: (s) => raw(s)?.resetAndDestroy() },
];
