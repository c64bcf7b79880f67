/**
 * The hostile-server corpus (issue 17) × every route kind on main, over real TLS on 127.0.0.1: each misbehaviour of
 * test/helpers/hostile.ts must end in its exact code, within the deadline plus a small constant (at once when the
 * answer is already wrong), and without memory growth beyond the probe's caps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeRoute } from '../../checks/route.js';
import { issueServerCertificate } from '../../src/lab/pki.js';
import { ROUTES, type CheckResult, type RouteKindId } from '../../src/model/index.js';
import { HOSTILE } from '../helpers/hostile.js';
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

const CREDENTIALS_ENDPOINT = 'c1a2b3c4d5e6f7.credentials.iot.eu-west-1.amazonaws.com';
const TIMEOUT_MS = 1500;
/** Slack above the deadline for the whole route (handshake on loopback, close, scheduling on a shared machine). */
const SLACK_MS = 1200;
/**
 * An answer that is already wrong must be classified at once: those cases run with a long deadline and must end
 * well before it, so a loaded machine cannot make them pass by timing out nor fail by being slow.
 */
const FAST_TIMEOUT_MS = 8000;
const FAST_MS = 3000;
/** Memory the probe may add while a peer streams without end (its caps are 144 KB MQTT, 64 KB HTTP body). */
const MEMORY_BOUND_BYTES = 48 * 1024 * 1024;

type Protocol = 'mqtt' | 'https' | 'credentials';
/** Expected [stage, code] of the failing cell, by misbehaviour and protocol. */
const EXPECTED: Record<string, Record<Protocol, [string, string]>> = {
  silence: {
    mqtt: ['protocol', 'MQTT_NO_CONNACK'],
    https: ['protocol', 'HTTP_NO_RESPONSE'],
    credentials: ['protocol', 'CREDENTIALS_NO_RESPONSE'],
  },
  garbage: {
    mqtt: ['protocol', 'MQTT_NOT_MQTT'],
    https: ['protocol', 'HTTP_NOT_HTTP'],
    credentials: ['protocol', 'HTTP_NOT_HTTP'],
  },
  'endless stream': {
    mqtt: ['protocol', 'MQTT_NOT_MQTT'],
    https: ['protocol', 'HTTP_NOT_HTTP'],
    credentials: ['protocol', 'HTTP_NOT_HTTP'],
  },
  'oversized length field': {
    mqtt: ['protocol', 'MQTT_PACKET_TOO_LARGE'],
    https: ['protocol', 'HTTP_RESPONSE_TOO_LARGE'],
    credentials: ['protocol', 'HTTP_RESPONSE_TOO_LARGE'],
  },
  'endless header': {
    mqtt: ['round-trip', 'MQTT_NOT_MQTT'],
    https: ['protocol', 'HTTP_RESPONSE_TOO_LARGE'],
    credentials: ['protocol', 'HTTP_RESPONSE_TOO_LARGE'],
  },
  'invalid protocol': {
    mqtt: ['protocol', 'MQTT_NOT_MQTT'],
    https: ['protocol', 'HTTP_NOT_HTTP'],
    credentials: ['protocol', 'HTTP_NOT_HTTP'],
  },
  RST: {
    mqtt: ['protocol', 'MQTT_CLOSED_AFTER_CONNECT'],
    https: ['protocol', 'HTTP_CLOSED_WITHOUT_RESPONSE'],
    credentials: ['protocol', 'CREDENTIALS_NO_RESPONSE'],
  },
  FIN: {
    mqtt: ['protocol', 'MQTT_CLOSED_AFTER_CONNECT'],
    https: ['protocol', 'HTTP_CLOSED_WITHOUT_RESPONSE'],
    credentials: ['protocol', 'CREDENTIALS_NO_RESPONSE'],
  },
  dribbling: {
    mqtt: ['protocol', 'MQTT_NO_CONNACK'],
    https: ['protocol', 'HTTP_NO_RESPONSE'],
    credentials: ['protocol', 'CREDENTIALS_NO_RESPONSE'],
  },
};

let pki: Pki;
beforeAll(() => {
  pki = makePki('ec');
  pki.server = issueServerCertificate(pki.serverCa, [ENDPOINT, CREDENTIALS_ENDPOINT]);
});
afterAll(closeAll);

async function probeHostile(kind: RouteKindId, hostile: (typeof HOSTILE)[number]): Promise<CheckResult[]> {
  const act = hostile.act;
  const spec = ROUTES[kind];
  const alpn = spec.alpn ? [spec.alpn] : undefined;
  const { port } = await tlsServer({
    cert: pki.server,
    // Custom authentication sends no client certificate (facts §1 row 3): only the mTLS kinds demand one.
    ...(spec.auth ? {} : { clientCa: pki.deviceCa }),
    ...(alpn ? { alpn } : {}),
    onSecure: (s) => s.once('data', () => act(s, spec.protocol === 'mqtt' ? 'mqtt' : 'http')),
  });
  const host = spec.host === 'credentials' ? CREDENTIALS_ENDPOINT : ENDPOINT;
  const target = targetFor(
    {},
    {
      routes: [kind] as never,
      connectTo: [{ host, port: spec.port, address: '127.0.0.1', toPort: port }],
      protocol: true,
      timeoutMs: hostile.fast ? FAST_TIMEOUT_MS : TIMEOUT_MS,
      ...(spec.host === 'credentials' ? { credentials: { roleAlias: 'iot-doctor-role', endpoint: host } } : {}),
      // Custom authentication: a token and a signature to send (nothing checks them here).
      ...(spec.auth === 'custom'
        ? { customAuth: { authorizer: 'a', token: 't', tokenKeyName: 'k', signature: 'QQ==' } }
        : {}),
    },
  );
  return probeRoute(spec, contextFor(target, credentialsFor(pki)));
}

function memoryInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

// MQTT over WebSocket (auth sigv4) first needs AWS credentials and an HTTP upgrade: its hostile-server cases, at the
// upgrade and after it, are in hostile-wss.test.ts.
const KINDS = (Object.keys(ROUTES) as RouteKindId[]).filter((k) => ROUTES[k]!.auth !== 'sigv4');

describe.concurrent('hostile servers × route kinds', () => {
  for (const kind of KINDS) {
    const protocol = ROUTES[kind].protocol as Protocol;
    for (const hostile of HOSTILE) {
      const [stage, plain] = EXPECTED[hostile.name]![protocol];
      // With custom authentication a close after CONNECT is how AWS refuses it (field notes §5.6).
      const code =
        ROUTES[kind].auth === 'custom' && plain === 'MQTT_CLOSED_AFTER_CONNECT' ? 'CUSTOM_AUTH_REFUSED' : plain;
      it(`${kind}: ${hostile.name} → ${stage} ${code}`, async () => {
        const before = memoryInUse();
        const started = performance.now();
        const results = await probeHostile(kind, hostile);
        const elapsed = performance.now() - started;
        const summary = results.map((r) => `${r.stage}:${r.status}:${r.code} ${r.summary}`).join('\n');
        for (const s of ['dns', 'tcp', 'tls']) expect(results.find((r) => r.stage === s)?.status, summary).toBe('pass');
        expect(
          results.find((r) => r.stage === stage),
          summary,
        ).toMatchObject({ status: 'fail', code });
        expect(elapsed, summary).toBeLessThan(hostile.fast ? FAST_MS : TIMEOUT_MS + SLACK_MS);
        expect(memoryInUse() - before, summary).toBeLessThan(MEMORY_BOUND_BYTES);
        const failed = results.find((r) => r.stage === stage)!;
        if (/NOT_MQTT|NOT_HTTP|TOO_LARGE/.test(code)) {
          // Named as a foreign answer, never as a certificate or policy problem.
          expect(failed.hint ?? '').toMatch(/not a certificate or policy problem/);
          expect(failed.hint ?? '').not.toMatch(/policy does not allow|certificate status/);
        }
      });
    }
  }
});
