/**
 * Property tests of the MQTT and HTTP readers (issue 17: "arbitrary and mutated input never throws an unclassified
 * error, never exceeds its bounds"). A real TCP server on 127.0.0.1 answers each connection with bytes fast-check
 * draws — random bytes, or a valid CONNACK / HTTP response with bytes flipped, cut or a length field inflated — split
 * at arbitrary chunk boundaries, then closes. The probe's own readers (`MqttSession.connect`, `httpOverSocket`) must
 * resolve, never reject, with a classified outcome, within the step deadline, and an announced length above the cap
 * must be `too-large` before the body is buffered.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PACKET_BYTES, MqttSession } from '../../src/probes/mqtt.js';
import { MAX_BODY_BYTES, MAX_HEADER_BYTES, httpOverSocket } from '../../src/probes/https.js';

const STEP_MS = 400;
/** What the server sends on the next connection: chunks written one after another, then FIN. */
let answer: Buffer[] = [];
let server: Server;
let port = 0;
const accepted = new Set<Socket>();

beforeAll(async () => {
  server = createServer((socket: Socket) => {
    socket.on('error', () => undefined);
    accepted.add(socket);
    socket.on('close', () => accepted.delete(socket));
    const chunks = answer;
    void (async () => {
      for (const c of chunks) {
        if (socket.destroyed) return;
        socket.write(c);
        await new Promise((r) => setImmediate(r));
      }
      socket.end();
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of accepted) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Bytes split at the given cut points (sorted, deduplicated, inside the buffer). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => (bytes.length ? c % bytes.length : 0)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of at) if (c > from) out.push(bytes.subarray(from, (from = c)));
  out.push(bytes.subarray(from));
  return out.filter((b) => b.length > 0);
}

/** A seed answer mutated: flipped bytes, a cut, a duplicated slice. */
function mutate(seeds: Buffer[]) {
  return fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.option(fc.nat()),
      fc.option(fc.tuple(fc.nat(), fc.nat({ max: 64 }))),
    )
    .map(([seed, flips, cut, dup]) => {
      let b = Buffer.from(seed);
      for (const [at, v] of flips) b[at % b.length] = v;
      if (dup) b = Buffer.concat([b, b.subarray(dup[0] % b.length, (dup[0] % b.length) + dup[1])]);
      if (cut !== null) b = b.subarray(0, cut % (b.length + 1));
      return b;
    });
}

const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const CONNACK_PUBLISH = Buffer.concat([CONNACK, Buffer.from([0x30, 0x07, 0x00, 0x03, 0x61, 0x2f, 0x62, 0x68, 0x69])]);
const HTTP_OK = Buffer.from(
  'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 41\r\n' +
    'date: Mon, 30 Nov 2026 01:00:00 GMT\r\n\r\n{"message":"OK","traceId":"a-b-c-d-e-f"}',
);
const CHUNK = '{"message":"Forbidden"}';
const HTTP_403 = Buffer.from(
  'HTTP/1.1 403 Forbidden\r\nx-amzn-ErrorType: ForbiddenException:\r\ntransfer-encoding: chunked\r\n\r\n' +
    `${CHUNK.length.toString(16)}\r\n${CHUNK}\r\n0\r\n\r\n`,
);

const MQTT_KINDS = new Set(['refused', 'closed', 'timeout', 'error', 'invalid', 'too-large']);
const HTTP_KINDS = new Set(['timeout', 'closed', 'error', 'invalid', 'too-large']);
const cuts = fc.array(fc.nat(), { maxLength: 6 });
const bytes = fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a));

async function mqttConnect(chunks: Buffer[]) {
  answer = chunks;
  const socket = await open();
  const session = new MqttSession(socket, { clientId: 'prop', version: 4, keepaliveSeconds: 30, timeoutMs: STEP_MS });
  const started = performance.now();
  const step = await session.connect();
  socket.destroy();
  return { step, ms: performance.now() - started };
}

async function httpGet(chunks: Buffer[]) {
  answer = chunks;
  const socket = await open();
  const started = performance.now();
  const out = await httpOverSocket(socket, { method: 'GET', host: 'x', path: '/', timeoutMs: STEP_MS });
  socket.destroy();
  return { out, ms: performance.now() - started };
}

describe('the seeds, unmutated, are what the readers accept', () => {
  it('CONNACK is a session, the HTTP answers are their statuses', async () => {
    expect((await mqttConnect([CONNACK])).step.ok).toBe(true);
    expect((await mqttConnect(split(CONNACK_PUBLISH, [1, 5]))).step.ok).toBe(true);
    const ok = (await httpGet(split(HTTP_OK, [3, 40]))).out;
    expect(ok.ok && [ok.status, ok.message]).toEqual([200, 'OK']);
    const denied = (await httpGet([HTTP_403])).out;
    expect(denied.ok && [denied.status, denied.errorType]).toEqual([403, 'ForbiddenException']);
  });
});

describe('MQTT reader: any answer to CONNECT resolves classified, within the step deadline', () => {
  it('random and mutated bytes at any chunk boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(bytes, mutate([CONNACK, CONNACK_PUBLISH])), cuts, async (answerBytes, at) => {
        const { step, ms } = await mqttConnect(split(answerBytes, at));
        if (!step.ok) expect(MQTT_KINDS).toContain(step.kind);
        expect(ms).toBeLessThan(STEP_MS + 1500);
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('a length field above the cap is too-large before the body arrives', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: MAX_PACKET_BYTES + 1, max: 0x0fffffff }), async (length) => {
        const varint: number[] = [];
        for (let n = length; ;) {
          const digit = n % 128;
          n = Math.floor(n / 128);
          varint.push(n > 0 ? digit | 0x80 : digit);
          if (n === 0) break;
        }
        const { step } = await mqttConnect([Buffer.from([0x20, ...varint, 0, 0, 0])]);
        expect(step.ok ? 'ok' : step.kind).toBe('too-large');
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});

describe('HTTP reader: any answer resolves classified and within its caps', () => {
  it('random and mutated bytes at any chunk boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(bytes, mutate([HTTP_OK, HTTP_403])), cuts, async (answerBytes, at) => {
        const { out, ms } = await httpGet(split(answerBytes, at));
        if (out.ok) {
          expect(out.status).toBeGreaterThanOrEqual(100);
          expect(out.body.length).toBeLessThanOrEqual(2000);
        } else expect(HTTP_KINDS).toContain(out.kind);
        expect(ms).toBeLessThan(STEP_MS + 1500);
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('headers or a body above the caps are too-large', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.integer({ min: 1, max: 4 }), async (inHeaders, chunks) => {
        const big = inHeaders
          ? Buffer.from(`HTTP/1.1 200 OK\r\nx-fill: ${'a'.repeat(MAX_HEADER_BYTES)}\r\n\r\n`)
          : Buffer.from(
              `HTTP/1.1 200 OK\r\ncontent-length: ${MAX_BODY_BYTES * 2}\r\n\r\n${'b'.repeat(MAX_BODY_BYTES * 2)}`,
            );
        const size = Math.ceil(big.length / chunks);
        const parts = Array.from({ length: chunks }, (_, i) => big.subarray(i * size, (i + 1) * size));
        const { out } = await httpGet(parts);
        expect(out.ok ? 'ok' : out.kind).toBe('too-large');
      }),
      { numRuns: 12 },
    );
  }, 60_000);
});
