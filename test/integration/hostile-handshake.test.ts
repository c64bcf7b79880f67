/**
 * Hostile servers during the TLS handshake (issue 17): a FIN at every byte offset of a real server flight (TLS 1.2
 * and 1.3, with a client certificate requested) must read TLS_CLOSED at once, and a server whose handshake flight
 * grows without bound must be cut at the flight cap (TLS_HANDSHAKE_TOO_LARGE) without memory growth. Real TLS servers
 * on 127.0.0.1; the FIN comes from a relay that passes the first N bytes of the real flight (test/helpers/hostile.ts).
 */
import { connect as connectTcp } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeRoute } from '../../checks/route.js';
import { ROUTES, type RouteKindId } from '../../src/model/index.js';
import { tlsHandshake, type TlsFailure, type TlsSuccess } from '../../src/probes/tls.js';
import { issueServerCertificate } from '../../src/lab/pki.js';
import { finRelay } from '../helpers/hostile.js';
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
let pki: Pki;
beforeAll(() => {
  pki = makePki('ec');
  pki.server = issueServerCertificate(pki.serverCa, [ENDPOINT, CREDENTIALS_ENDPOINT]);
});
afterAll(closeAll);

const TIMEOUT_MS = 5000;
/** A close is seen at once: well under the deadline even on a loaded machine (a hang would take TIMEOUT_MS). */
const FAST_MS = 2500;

async function handshakeTo(port: number): Promise<TlsSuccess | TlsFailure> {
  const tcp = connectTcp(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    tcp.once('connect', resolve);
    tcp.once('error', reject);
  });
  const result = await tlsHandshake(tcp, {
    servername: ENDPOINT,
    alpn: null,
    cert: pki.device.certPem,
    key: pki.device.keyPem,
    ca: pki.serverCa.certPem,
    timeoutMs: TIMEOUT_MS,
  });
  if (result.ok) result.socket.destroy();
  return result;
}

/** Offsets to cut at: every byte of the first 600 (hellos, record headers), then every 3rd byte to the end. */
function offsets(length: number): number[] {
  const out: number[] = [];
  for (let n = 0; n < length; n += n < 600 ? 1 : 3) out.push(n);
  if (out.at(-1) !== length - 1) out.push(length - 1);
  return out;
}

/** What a cut at each offset gave: `ok`, or the failure code, and the time it took. */
async function cutAtEach(port: number, cuts: readonly number[]): Promise<Map<number, { code: string; ms: number }>> {
  const out = new Map<number, { code: string; ms: number }>();
  for (let i = 0; i < cuts.length; i += 24) {
    await Promise.all(
      cuts.slice(i, i + 24).map(async (n) => {
        const relay = await finRelay(port, n);
        try {
          const started = performance.now();
          const r = await handshakeTo(relay.port);
          out.set(n, { code: r.ok ? 'ok' : r.code, ms: performance.now() - started });
        } finally {
          relay.close();
        }
      }),
    );
  }
  return out;
}

describe.concurrent('FIN at every byte of a real TLS server flight', () => {
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`${version}: every cut before the server's Finished reads TLS_CLOSED at once`, async () => {
      const { port } = await tlsServer({ cert: pki.server, clientCa: pki.deviceCa, maxVersion: version });
      const whole = await handshakeTo(port);
      expect(whole.ok).toBe(true);
      // The bytes the client read before it saw the handshake complete (TLS 1.3: maybe a session ticket too).
      const flight = whole.wire.serverFlightBytes;
      expect(flight).toBeGreaterThan(500);
      const cuts = offsets(flight);
      const results = await cutAtEach(port, cuts);
      const firstOk = cuts.find((n) => results.get(n)!.code === 'ok') ?? flight;
      const wrong = cuts
        .map((n) => ({ n, ...results.get(n)! }))
        // An ECDSA signature's DER length varies by a byte or two per connection: near the end either may come back.
        .filter(
          ({ n, code, ms }) => (n < firstOk ? code !== 'TLS_CLOSED' : !/^(ok|TLS_CLOSED)$/.test(code)) || ms > FAST_MS,
        )
        .map(({ n, code, ms }) => `${n}: ${code} ${Math.round(ms)} ms`);
      expect(wrong.slice(0, 20).join('\n')).toBe('');
      // TLS 1.2: the server's Finished is its last handshake byte; TLS 1.3: only a session ticket may follow it.
      if (version === 'TLSv1.2') expect(flight - firstOk).toBeLessThanOrEqual(3);
      else expect(flight - firstOk).toBeLessThan(600);
    }, 60_000);
  }
});

/** A server certificate of about `kb` KB: the endpoint name and padding names (real DER, a real chain). */
function hugeCertificate(kb: number): ReturnType<typeof issueServerCertificate> {
  const names = Array.from({ length: Math.ceil((kb * 1024) / 64) }, (_, i) => `pad-${i}-${'x'.repeat(48)}.example.com`);
  return issueServerCertificate(pki.serverCa, [ENDPOINT, ...names]);
}

describe.concurrent('a server handshake flight beyond the cap', () => {
  for (const [label, kb] of [
    ['80 KB certificate (the flight cap)', 80],
    ['130 KB certificate (the TLS library refuses the message)', 130],
  ] as const) {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      it(`${version}, ${label}: TLS_HANDSHAKE_TOO_LARGE, no memory growth`, async () => {
        const { port } = await tlsServer({ cert: hugeCertificate(kb), maxVersion: version });
        const before = process.memoryUsage().arrayBuffers;
        const r = await handshakeTo(port);
        expect(r.ok ? 'ok' : `${r.code} ${r.message}`).toMatch(/^TLS_HANDSHAKE_TOO_LARGE /);
        expect(r.durationMs).toBeLessThan(FAST_MS);
        // Our cap counts every byte on the socket; the TLS library refuses a message whose header is above its own.
        if (kb === 80) expect(r.wire.serverFlightBytes).toBeGreaterThan(64 * 1024);
        else expect(r.wire.serverFlightBytes).toBeLessThanOrEqual(64 * 1024);
        expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
      });
    }
  }
});

/** The route `kind` against a server on `port` (a relay or the TLS server itself), with a long deadline. */
async function probeKind(kind: RouteKindId, port: number): Promise<ReturnType<typeof probeRoute>> {
  const spec = ROUTES[kind];
  const host = spec.host === 'credentials' ? CREDENTIALS_ENDPOINT : ENDPOINT;
  const target = targetFor(
    {},
    {
      routes: [kind] as never,
      connectTo: [{ host, port: spec.port, address: '127.0.0.1', toPort: port }],
      protocol: true,
      timeoutMs: TIMEOUT_MS,
      ...(spec.host === 'credentials' ? { credentials: { roleAlias: 'iot-doctor-role', endpoint: host } } : {}),
      ...(spec.auth === 'custom'
        ? { customAuth: { authorizer: 'a', token: 't', tokenKeyName: 'k', signature: 'QQ==' } }
        : {}),
    },
  );
  return probeRoute(spec, contextFor(target, credentialsFor(pki)));
}

describe.concurrent('handshake misbehaviour × route kinds', () => {
  for (const kind of Object.keys(ROUTES) as RouteKindId[]) {
    const spec = ROUTES[kind];
    const server = (cert = pki.server): ReturnType<typeof tlsServer> =>
      tlsServer({
        cert,
        ...(spec.auth ? {} : { clientCa: pki.deviceCa }),
        ...(spec.alpn ? { alpn: [spec.alpn] } : {}),
      });
    for (const cut of [0, 5, 90, 700]) {
      it(`${kind}: FIN after ${cut} bytes of the server flight → tls TLS_CLOSED at once`, async () => {
        const relay = await finRelay((await server()).port, cut);
        try {
          const started = performance.now();
          const results = await probeKind(kind, relay.port);
          const summary = results.map((r) => `${r.stage}:${r.status}:${r.code} ${r.summary}`).join('\n');
          expect(
            results.find((r) => r.stage === 'tls'),
            summary,
          ).toMatchObject({ status: 'fail', code: 'TLS_CLOSED' });
          expect(performance.now() - started, summary).toBeLessThan(FAST_MS);
        } finally {
          relay.close();
        }
      });
    }
    it(`${kind}: a 90 KB handshake flight → tls TLS_HANDSHAKE_TOO_LARGE, no certificate advice`, async () => {
      const { port } = await server(hugeCertificate(80));
      const results = await probeKind(kind, port);
      const summary = results.map((r) => `${r.stage}:${r.status}:${r.code} ${r.summary}`).join('\n');
      const tls = results.find((r) => r.stage === 'tls')!;
      expect(tls, summary).toMatchObject({ status: 'fail', code: 'TLS_HANDSHAKE_TOO_LARGE' });
      expect(tls.hint ?? '').toMatch(/not a certificate or policy problem/);
      expect(tls.durationMs).toBeLessThan(FAST_MS);
    });
  }
});
