import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeRoute, routeCheck } from '../../checks/route.js';
import { runChecks } from '../../src/runner/index.js';
import { generateKeyPair } from '../../src/lab/pki.js';
import { ALPN_HTTP, ALPN_MQTT, ROUTES, type CheckResult, type RouteId, type StageId } from '../../src/model/index.js';
import {
  ENDPOINT,
  closeAll,
  closedPort,
  contextFor,
  credentialsFor,
  garbageServer,
  makePki,
  resetOnHelloServer,
  silentServer,
  targetFor,
  tlsServer,
  type Pki,
} from '../helpers/servers.js';

let rsa: Pki;
let ec: Pki;

beforeAll(() => {
  rsa = makePki('rsa');
  ec = makePki('ec');
});
afterAll(closeAll);

const portOf: Record<RouteId, 8883 | 443 | 8443> = {
  'mqtt-8883': 8883,
  'mqtt-443': 443,
  'https-8443': 8443,
  'https-443': 443,
};

async function probe(
  route: RouteId,
  port: number,
  pki: Pki,
  extra: Parameters<typeof targetFor>[1] = {},
  creds = credentialsFor(pki),
): Promise<CheckResult[]> {
  const target = targetFor({ [portOf[route]]: port }, extra);
  return probeRoute(ROUTES[route], contextFor(target, creds));
}

function stage(results: CheckResult[], s: StageId): CheckResult {
  const r = results.find((x) => x.stage === s);
  if (!r) throw new Error(`no ${s} result`);
  return r;
}

function statuses(results: CheckResult[]): string {
  return results.map((r) => `${r.stage}:${r.status}:${r.code}`).join(' ');
}

describe('healthy servers, one per route', () => {
  for (const keyType of ['rsa', 'ec'] as const) {
    for (const route of ['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443'] as RouteId[]) {
      it(`${route} (${keyType}) passes dns, tcp, tls, alpn and client-auth`, async () => {
        const pki = keyType === 'rsa' ? rsa : ec;
        const alpn = route === 'mqtt-443' ? [ALPN_MQTT] : route === 'https-443' ? [ALPN_HTTP] : undefined;
        const { port } = await tlsServer({ cert: pki.server, clientCa: pki.deviceCa, ...(alpn ? { alpn } : {}) });
        const results = await probe(route, port, pki);
        expect(results.map((r) => r.stage)).toEqual([
          'dns',
          'tcp',
          'tls',
          'alpn',
          'client-auth',
          'protocol',
          'round-trip',
        ]);
        for (const s of ['dns', 'tcp', 'tls', 'alpn', 'client-auth'] as StageId[])
          expect(stage(results, s).status, statuses(results)).toBe('pass');
        expect(stage(results, 'dns').code).toBe('DNS_OVERRIDE');
        expect(stage(results, 'alpn').code).toBe(alpn ? 'ALPN_SELECTED' : 'ALPN_NOT_USED');
        const tls = stage(results, 'tls');
        expect(tls.evidence.protocol).toBe('TLSv1.3');
        expect(tls.evidence.address).toBe('127.0.0.1');
        const chain = tls.evidence.chain as { subject: string; fingerprint256: string }[];
        expect(chain[0]!.subject).toContain(ENDPOINT);
        expect(chain[0]!.fingerprint256).toBe(pki.server.cert.fingerprint256);
        expect(stage(results, 'client-auth').evidence.certificateId).toBe(pki.device.certificateId);
        expect(JSON.stringify(results)).not.toContain('PRIVATE KEY');
      });
    }
  }
});

describe('failures are classified at the right stage with a stable code', () => {
  it('server that selects no ALPN on 443: ALPN_NOT_SELECTED, with an s_client line that shows it', async () => {
    const { port } = await tlsServer({ cert: rsa.server, clientCa: rsa.deviceCa });
    const results = await probe('mqtt-443', port, rsa);
    const alpn = stage(results, 'alpn');
    expect(alpn.status).toBe('fail');
    expect(alpn.code).toBe('ALPN_NOT_SELECTED');
    expect(alpn.evidence).toMatchObject({ offered: ALPN_MQTT, selected: null });
    expect(alpn.reproduce).toContain(`-alpn ${ALPN_MQTT}`);
    expect(alpn.reproduce).toContain(`-servername ${ENDPOINT}`);
    expect(alpn.reproduce).toContain('-CAfile ca.pem -cert device.pem.crt -key private.pem.key');
    expect(alpn.reproduce).not.toContain('-brief');
    expect(stage(results, 'client-auth')).toMatchObject({
      status: 'skip',
      summary: 'blocked by alpn: ALPN_NOT_SELECTED',
    });
  });

  it('chain from another CA: TLS_CHAIN_UNTRUSTED naming the foreign issuer', async () => {
    const { port } = await tlsServer({ cert: rsa.otherServer, clientCa: rsa.deviceCa });
    const results = await probe('mqtt-8883', port, rsa);
    const tls = stage(results, 'tls');
    expect(tls.code).toBe('TLS_CHAIN_UNTRUSTED');
    expect(tls.summary).toContain('Corporate TLS Inspection CA');
    expect(stage(results, 'alpn').status).toBe('skip');
  });

  it('expired server certificate: TLS_SERVER_CERT_EXPIRED', async () => {
    const { port } = await tlsServer({ cert: rsa.expiredServer, clientCa: rsa.deviceCa });
    const results = await probe('https-8443', port, rsa);
    expect(stage(results, 'tls').code).toBe('TLS_SERVER_CERT_EXPIRED');
  });

  it('certificate for another name: TLS_HOSTNAME_MISMATCH', async () => {
    const { port } = await tlsServer({ cert: rsa.wrongNameServer, clientCa: rsa.deviceCa });
    const results = await probe('https-8443', port, rsa);
    expect(stage(results, 'tls')).toMatchObject({ status: 'fail', code: 'TLS_HOSTNAME_MISMATCH' });
  });

  it('TLS 1.3 server that rejects our client certificate: client-auth CLIENT_CERT_REJECTED', async () => {
    const { port } = await tlsServer({ cert: rsa.server, clientCa: rsa.otherCa });
    const results = await probe('mqtt-8883', port, rsa);
    expect(stage(results, 'tls').status).toBe('pass');
    expect(stage(results, 'client-auth')).toMatchObject({ status: 'fail', code: 'CLIENT_CERT_REJECTED' });
    // No alert: the plain close is confirmed on a second connection that sends nothing.
    expect(stage(results, 'protocol').summary).toBe('blocked by client-auth: CLIENT_CERT_REJECTED');
  });

  it('with the protocol stages, a rejection without an alert is confirmed on a second idle connection', async () => {
    const { port } = await tlsServer({ cert: rsa.server, clientCa: rsa.otherCa });
    const results = await probe('mqtt-8883', port, rsa, { protocol: true });
    expect(stage(results, 'tls').status).toBe('pass');
    const auth = stage(results, 'client-auth');
    expect(auth, statuses(results)).toMatchObject({ status: 'fail', code: 'CLIENT_CERT_REJECTED' });
    expect(auth.evidence['confirmedOnSecondConnection']).toBe(true);
    expect(stage(results, 'protocol').summary).toBe('blocked by client-auth: CLIENT_CERT_REJECTED');
    expect(stage(results, 'round-trip').status).toBe('skip');
  });

  it('TLS 1.2 server that rejects our client certificate: the handshake is closed (FIN, no alert)', async () => {
    // Node's server closes without an alert; Node's client calls that ECONNRESET, the TCP stream shows a FIN.
    const { port } = await tlsServer({ cert: rsa.server, clientCa: rsa.otherCa, maxVersion: 'TLSv1.2' });
    const results = await probe('mqtt-8883', port, rsa);
    expect(stage(results, 'tls')).toMatchObject({ status: 'fail', code: 'TLS_CLOSED' });
    expect(stage(results, 'tls').evidence['alert']).toBeUndefined();
  });

  it('reset right after the ClientHello: TLS_RESET', async () => {
    const port = await resetOnHelloServer();
    const results = await probe('mqtt-8883', port, rsa);
    expect(stage(results, 'tcp').status).toBe('pass');
    expect(stage(results, 'tls')).toMatchObject({ status: 'fail', code: 'TLS_RESET' });
  });

  it('TCP accepted but TLS never answered: TLS_STALLED after the timeout, with no bytes from the server', async () => {
    const port = await silentServer();
    const started = Date.now();
    const results = await probe('mqtt-8883', port, rsa, { timeoutMs: 800 });
    const elapsed = Date.now() - started;
    const tls = stage(results, 'tls');
    expect(tls).toMatchObject({ status: 'fail', code: 'TLS_STALLED' });
    expect(tls.evidence.bytesFromServer).toBe(0);
    expect(elapsed).toBeGreaterThanOrEqual(780);
    expect(elapsed).toBeLessThan(2000);
  });

  it('plain text instead of TLS: TLS_NOT_TLS', async () => {
    const port = await garbageServer();
    const results = await probe('https-8443', port, rsa);
    expect(stage(results, 'tls')).toMatchObject({ status: 'fail', code: 'TLS_NOT_TLS' });
  });

  it('closed port: TCP_REFUSED, later stages skipped with the reason', async () => {
    const port = await closedPort();
    const results = await probe('mqtt-8883', port, rsa);
    const tcp = stage(results, 'tcp');
    expect(tcp).toMatchObject({ status: 'fail', code: 'TCP_REFUSED' });
    expect(tcp.reproduce).toBe(`nc -vz -w 2 127.0.0.1 ${port}`);
    expect(tcp.hint).toContain('443');
    for (const s of ['tls', 'alpn', 'client-auth', 'protocol', 'round-trip'] as StageId[]) {
      expect(stage(results, s)).toMatchObject({ status: 'skip', summary: 'blocked by tcp: TCP_REFUSED' });
    }
  });

  it('a key that does not match the certificate: TLS_CLIENT_CREDENTIALS_UNUSABLE, not a crash', async () => {
    const { port } = await tlsServer({ cert: rsa.server, clientCa: rsa.deviceCa });
    const creds = credentialsFor(rsa);
    const stranger = generateKeyPair('rsa');
    const key = {
      path: 'other.key',
      object: stranger.privateKey,
      wasEncrypted: false,
      pem: stranger.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    const results = await probe('mqtt-8883', port, rsa, {}, { ...creds, key });
    expect(stage(results, 'tcp').status).toBe('pass');
    expect(stage(results, 'tls')).toMatchObject({ status: 'fail', code: 'TLS_CLIENT_CREDENTIALS_UNUSABLE' });
    expect(stage(results, 'tls').hint).toContain('cert.key-match');
  });

  it('--resolve pins the name to an address without DNS', async () => {
    const { port } = await tlsServer({ cert: rsa.server, clientCa: rsa.deviceCa });
    const target = targetFor(
      {},
      {
        resolve: [{ host: ENDPOINT, addresses: ['127.0.0.1'] }],
        connectTo: [{ host: '', port: 8883, address: '', toPort: port }],
      },
    );
    const results = await probeRoute(ROUTES['mqtt-8883'], contextFor(target, credentialsFor(rsa)));
    expect(stage(results, 'dns')).toMatchObject({ status: 'pass', code: 'DNS_PINNED' });
    expect(stage(results, 'client-auth').status).toBe('pass');
  });
});

describe('real TLS alerts from openssl s_server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iot-doctor-sserver-'));
  const children: ResultPromise[] = [];
  afterAll(() => {
    for (const c of children) c.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  async function sServer(extra: string[]): Promise<number> {
    const port = await closedPort();
    writeFileSync(join(dir, 'srv.pem'), rsa.server.certPem);
    writeFileSync(join(dir, 'srv.key'), rsa.server.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'other-ca.pem'), rsa.otherCa.certPem);
    const child = execa(
      'openssl',
      [
        's_server',
        '-accept',
        `127.0.0.1:${port}`,
        '-cert',
        join(dir, 'srv.pem'),
        '-key',
        join(dir, 'srv.key'),
        '-Verify',
        '1',
        '-verify_return_error',
        '-CAfile',
        join(dir, 'other-ca.pem'),
        '-naccept',
        '1',
        ...extra,
      ],
      { stdin: 'pipe', reject: false },
    );
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('s_server did not start')), 5000);
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ACCEPT')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    return port;
  }

  it('TLS 1.3: the alert after the handshake lands in client-auth and is named', async () => {
    const port = await sServer([]);
    const results = await probe('mqtt-8883', port, rsa);
    expect(stage(results, 'tls').status).toBe('pass');
    const auth = stage(results, 'client-auth');
    expect(auth).toMatchObject({ status: 'fail', code: 'CLIENT_CERT_REJECTED' });
    expect(auth.evidence.alert).toBe('unknown_ca');
  });

  it('TLS 1.2: the alert inside the handshake is named in tls and blamed on the client certificate', async () => {
    const port = await sServer(['-tls1_2']);
    const results = await probe('mqtt-8883', port, rsa);
    expect(stage(results, 'tls')).toMatchObject({ status: 'fail', code: 'TLS_ALERT' });
    expect(stage(results, 'tls').evidence.alert).toBe('unknown_ca');
    expect(stage(results, 'client-auth')).toMatchObject({ status: 'fail', code: 'CLIENT_CERT_REJECTED' });
  });
});

describe('routes run concurrently', () => {
  it('four routes whose servers each hold the handshake 400 ms finish in about 400 ms, not 1600', async () => {
    const delayMs = 400;
    const servers = await Promise.all([
      tlsServer({ cert: rsa.server, clientCa: rsa.deviceCa, delayMs }),
      tlsServer({ cert: rsa.server, clientCa: rsa.deviceCa, delayMs, alpn: [ALPN_MQTT, ALPN_HTTP] }),
      tlsServer({ cert: rsa.server, clientCa: rsa.deviceCa, delayMs }),
    ]);
    const target = targetFor({ 8883: servers[0].port, 443: servers[1].port, 8443: servers[2].port });
    const ctx = contextFor(target, credentialsFor(rsa));
    const checks = target.routes.map(routeCheck);
    const started = performance.now();
    const results = await runChecks(checks, ctx, { guardMs: 10_000 });
    const elapsed = performance.now() - started;
    const routeTimes = target.routes.map((r) =>
      results.filter((x) => x.route === r).reduce((sum, x) => sum + x.durationMs, 0),
    );
    const sum = routeTimes.reduce((a, b) => a + b, 0);
    expect(results.filter((r) => r.stage === 'client-auth').map((r) => r.status)).toEqual([
      'pass',
      'pass',
      'pass',
      'pass',
    ]);
    expect(sum).toBeGreaterThan(4 * delayMs);
    expect(elapsed).toBeLessThan(sum / 2);
    expect(elapsed).toBeLessThan(2 * delayMs + 300);
  });
});

describe('trust anchors', () => {
  it('an unusable --ca file trusts nothing (never the default store): TLS_CHAIN_UNTRUSTED naming files.ca', async () => {
    const { port } = await tlsServer({ cert: rsa.server, clientCa: rsa.deviceCa });
    const creds = credentialsFor(rsa);
    delete creds.ca;
    const results = await probe('mqtt-8883', port, rsa, {}, creds);
    expect(stage(results, 'tls')).toMatchObject({ status: 'fail', code: 'TLS_CHAIN_UNTRUSTED' });
    expect(stage(results, 'tls').summary).toContain('files.ca');
  });
});
