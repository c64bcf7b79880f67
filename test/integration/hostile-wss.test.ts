/**
 * The hostile-server corpus (test/helpers/hostile.ts) against the `mqtt-wss-443` route, over real TLS on 127.0.0.1:
 * every misbehaviour of the shared corpus as the answer to the WebSocket upgrade (`GET /mqtt`), and the WebSocket
 * misbehaviours of `HOSTILE_WEBSOCKET` after a correct 101 (invalid frames, a huge frame length, an endless frame
 * stream, RST). Each ends in its exact code, within the deadline plus a small constant (at once when the answer is
 * already wrong), and without memory growth beyond the probe's caps (`ws` maxPayload 512 KB, Node's 16 KB header
 * limit, 4 KB of a refusal's body).
 */
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeRoute } from '../../checks/route.js';
import { ROUTES, type CheckResult } from '../../src/model/index.js';
import { awsEnvSandbox } from '../helpers/cloud-run.js';
import { HOSTILE, HOSTILE_WEBSOCKET, type Hostile } from '../helpers/hostile.js';
import {
  ENDPOINT,
  closeAll,
  contextFor,
  credentialsFor,
  makePki,
  targetFor,
  tlsServer,
  type Pki,
} from '../helpers/servers.js';

const TIMEOUT_MS = 1500;
/**
 * Slack above the deadline for the whole route: as hostile-servers.test.ts, plus the AWS credential lookup the
 * upgrade signs with (the SDK's chain, loaded inside the route on first use: about a second on a busy machine).
 */
const SLACK_MS = 2500;
const FAST_TIMEOUT_MS = 8000;
const FAST_MS = 3000;
const MEMORY_BOUND_BYTES = 48 * 1024 * 1024;
const SPEC = ROUTES['mqtt-wss-443'];

/** Expected [stage, code] of the failing cell when the corpus answers the upgrade request. */
const AT_UPGRADE: Record<string, [string, string]> = {
  silence: ['upgrade', 'UPGRADE_NO_ANSWER'],
  garbage: ['upgrade', 'UPGRADE_ERROR'],
  'endless stream': ['upgrade', 'UPGRADE_ERROR'],
  'oversized length field': ['upgrade', 'UPGRADE_REFUSED'],
  'endless header': ['upgrade', 'UPGRADE_ERROR'],
  'invalid protocol': ['upgrade', 'UPGRADE_ERROR'],
  RST: ['upgrade', 'UPGRADE_ERROR'],
  FIN: ['upgrade', 'UPGRADE_ERROR'],
  dribbling: ['upgrade', 'UPGRADE_NO_ANSWER'],
};

/** Expected [stage, code] of the failing cell for the WebSocket misbehaviours after a correct 101. */
const AFTER_UPGRADE: Record<string, [string, string]> = {
  'invalid frame': ['protocol', 'MQTT_NOT_MQTT'],
  'huge frame length': ['protocol', 'MQTT_NOT_MQTT'],
  'endless frame stream': ['protocol', 'MQTT_NOT_MQTT'],
  // A reset after CONNECT looks like AWS closing a CONNECT it refuses: the route's own code for that.
  'RST after upgrade': ['protocol', 'WSS_CONNECT_REFUSED'],
};

let pki: Pki;
const env = awsEnvSandbox('iot-doctor-hostile-wss-');
beforeAll(() => {
  pki = makePki('ec');
  env.clean({ AWS_ACCESS_KEY_ID: 'AKIDHOSTILEWSS', AWS_SECRET_ACCESS_KEY: 'lab' });
});
afterAll(async () => {
  await closeAll();
  env.restore();
});

/** Answers the upgrade request correctly (RFC 6455 §4.2.2: Sec-WebSocket-Accept), then lets `act` take over. */
function upgradeThen(act: Hostile['act']): (s: TLSSocket) => void {
  return (s) => {
    let head = '';
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onData);
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1] ?? '';
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      s.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n`,
      );
      s.once('data', () => act(s, 'mqtt'));
    };
    s.on('data', onData);
  };
}

async function probe(onSecure: (s: TLSSocket) => void, fast: boolean): Promise<CheckResult[]> {
  const { port } = await tlsServer({ cert: pki.server, onSecure });
  const target = targetFor(
    {},
    {
      routes: ['mqtt-wss-443'] as never,
      connectTo: [{ host: ENDPOINT, port: SPEC.port, address: '127.0.0.1', toPort: port }],
      protocol: true,
      cloud: false,
      timeoutMs: fast ? FAST_TIMEOUT_MS : TIMEOUT_MS,
    },
  );
  return probeRoute(SPEC, contextFor(target, credentialsFor(pki)));
}

function memoryInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const CASES = [
  ...HOSTILE.map((h) => ({
    hostile: h,
    expected: AT_UPGRADE[h.name]!,
    onSecure: (s: TLSSocket) => s.once('data', () => h.act(s, 'http')),
  })),
  ...HOSTILE_WEBSOCKET.map((h) => ({ hostile: h, expected: AFTER_UPGRADE[h.name]!, onSecure: upgradeThen(h.act) })),
];

describe.concurrent('hostile servers × mqtt-wss-443', () => {
  for (const { hostile, expected, onSecure } of CASES) {
    const [stage, code] = expected;
    it(`${hostile.name} → ${stage} ${code}`, async () => {
      const before = memoryInUse();
      const started = performance.now();
      const results = await probe(onSecure, hostile.fast);
      const elapsed = performance.now() - started;
      const summary = results.map((r) => `${r.stage}:${r.status}:${r.code} ${r.summary}`).join('\n');
      for (const s of ['dns', 'tcp', 'tls']) expect(results.find((r) => r.stage === s)?.status, summary).toBe('pass');
      expect(
        results.find((r) => r.stage === stage),
        summary,
      ).toMatchObject({ status: 'fail', code });
      expect(elapsed, summary).toBeLessThan(hostile.fast ? FAST_MS : TIMEOUT_MS + SLACK_MS);
      expect(memoryInUse() - before, summary).toBeLessThan(MEMORY_BOUND_BYTES);
      if (code === 'MQTT_NOT_MQTT') {
        // A server that breaks the framing is named as a foreign answer, never as a denied identity.
        const hint = results.find((r) => r.stage === stage)?.hint ?? '';
        expect(hint, summary).toMatch(/not a certificate or policy problem/);
      }
    });
  }
});
