/**
 * The proxy and TLS-measurement stages against real parts on loopback: Squid (HTTP CONNECT, Basic auth through
 * basic_ncsa_auth, a CONNECT port allow-list), Dante (SOCKS5, a port block), Node TLS servers with test PKI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTcp } from '../../src/probes/tcp.js';
import { parseProxyUrl, type ProxyConfig } from '../../src/probes/proxy-config.js';
import { proxyConnect, type ProxyStageResult } from '../../src/probes/proxy-connect.js';
import { TlsRecordMeter, meteredStream } from '../../src/probes/tls-records.js';
import { acceptedCiphers } from '../../src/probes/device-tls.js';
import {
  danteCommand,
  proxiesUnavailableReason,
  squidCommand,
  waitReady,
  type ProxyCommand,
} from '../helpers/proxies.js';
import { ENDPOINT, closeAll, closedPort, makePki, silentServer, tlsServer, type Pki } from '../helpers/servers.js';

const unavailable = proxiesUnavailableReason();
if (unavailable) console.log(`proxy stage tests skipped: ${unavailable}`);

const PASSWORD = 'Sq1d-T3st-Pw';

describe.skipIf(unavailable !== null)('proxy stages against Squid and Dante on loopback', () => {
  const dir = mkdtempSync(join(tmpdir(), `iotd-proxy-${process.pid}-`));
  // Squid runs as the 'proxy' user: it must get through this folder to its own.
  chmodSync(dir, 0o755);
  const children: ChildProcess[] = [];
  let pki: Pki;
  let tlsPort: number;
  let blockedTlsPort: number;
  let refusedPort: number;
  let squidPort: number;
  let dantePort: number;

  const freePort = async (): Promise<number> => {
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const { port } = srv.address() as AddressInfo;
    await new Promise((resolve) => srv.close(resolve));
    return port;
  };
  const start = async (command: ProxyCommand): Promise<void> => {
    const child = spawn(command.cmd, command.args, { stdio: 'ignore' });
    children.push(child);
    await waitReady(command);
  };

  beforeAll(async () => {
    pki = makePki('rsa');
    // The server sends its certificate and the CA: two certificates on the wire.
    tlsPort = (await tlsServer({ cert: { ...pki.server, certPem: pki.server.certPem + pki.serverCa.certPem } })).port;
    blockedTlsPort = (await tlsServer({ cert: pki.server })).port;
    refusedPort = await closedPort();
    squidPort = await freePort();
    dantePort = await freePort();
    await Promise.all([
      start(
        squidCommand({
          dir: join(dir, 'squid'),
          address: '127.0.0.1',
          port: squidPort,
          users: { alice: PASSWORD },
          allowPorts: [tlsPort, refusedPort],
        }),
      ),
      start(
        danteCommand({
          dir: join(dir, 'dante'),
          address: '127.0.0.1',
          port: dantePort,
          external: '127.0.0.1',
          blockPorts: [blockedTlsPort],
        }),
      ),
    ]);
  }, 30_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGTERM');
    await closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const through = async (
    proxy: ProxyConfig,
    host: string,
    port: number,
    timeoutMs = 3000,
  ): Promise<{ result: ProxyStageResult; socket: Socket }> => {
    const tcp = await connectTcp(proxy.host, proxy.port, timeoutMs);
    if (!tcp.ok) throw new Error(`proxy not reachable: ${tcp.message}`);
    const result = await proxyConnect(
      tcp.socket,
      proxy,
      { host, port, address: host === 'localhost' ? '127.0.0.1' : host },
      { timeoutMs, userAgent: 'iot-doctor/test' },
    );
    return { result, socket: tcp.socket };
  };
  const squid = (auth = `alice:${PASSWORD}@`): ProxyConfig => parseProxyUrl(`http://${auth}127.0.0.1:${squidPort}`);

  it('Squid without credentials: 407 with its Basic challenge', async () => {
    const { result } = await through(squid(''), '127.0.0.1', tlsPort);
    expect(result).toMatchObject({ ok: false, code: 'PROXY_AUTH_REQUIRED', status: 407, credentialsSent: false });
    expect(result.statusLine).toBe('HTTP/1.1 407 Proxy Authentication Required');
    expect(result.proxyAuthenticate).toEqual(['Basic realm="iot-doctor-test-proxy"']);
  });

  it('Squid with a wrong password: 407 again, credentials were sent; the message never holds them', async () => {
    const { result } = await through(squid('alice:wrong@'), '127.0.0.1', tlsPort);
    expect(result).toMatchObject({ ok: false, code: 'PROXY_AUTH_REQUIRED', status: 407, credentialsSent: true });
    expect(JSON.stringify(result)).not.toContain('wrong');
  });

  it('Squid refuses CONNECT to a port outside its allow-list: 403', async () => {
    const { result } = await through(squid(), '127.0.0.1', blockedTlsPort);
    expect(result).toMatchObject({
      ok: false,
      code: 'PROXY_DENIED',
      status: 403,
      statusLine: 'HTTP/1.1 403 Forbidden',
    });
  });

  it('Squid cannot reach the target: 503, PROXY_TARGET_UNREACHABLE', async () => {
    const { result } = await through(squid(), '127.0.0.1', refusedPort);
    expect(result).toMatchObject({ ok: false, code: 'PROXY_TARGET_UNREACHABLE', status: 503 });
  });

  it('Squid tunnel open: TLS 1.2 runs inside it and the meter sees the Certificate message the server sent', async () => {
    const { result, socket } = await through(squid(), '127.0.0.1', tlsPort);
    expect(result).toMatchObject({ ok: true, code: 'PROXY_CONNECT_OK', status: 200 });
    expect(result.durationMs).toBeLessThan(3000);
    const meter = new TlsRecordMeter();
    const tls = tlsConnect({
      socket: meteredStream(socket, meter),
      servername: ENDPOINT,
      ca: pki.serverCa.certPem,
      maxVersion: 'TLSv1.2',
    });
    await new Promise<void>((resolve, reject) => tls.once('secureConnect', resolve).once('error', reject));
    meter.finishHandshake();
    expect(tls.authorized).toBe(true);
    const ders = [pki.server.certPem, pki.serverCa.certPem].map((pem) => new X509Certificate(pem).raw.length);
    // RFC 5246 §7.4.2: 4-byte handshake header, 3-byte list length, 3 bytes before each certificate.
    expect(meter.sizes.certificateMessageBytes).toBe(ders.reduce((a, b) => a + b, 0) + 3 * ders.length + 3 + 4);
    expect(meter.sizes.largestRecordBytes).toBeGreaterThanOrEqual(meter.sizes.certificateMessageBytes!);
    expect(meter.sizes.serverFlightBytes).toBeGreaterThan(meter.sizes.largestRecordBytes);
    tls.destroy();
  });

  it('TLS 1.3 through Squid: the Certificate message is encrypted, the flight is measured from the records', async () => {
    const { socket } = await through(squid(), '127.0.0.1', tlsPort);
    const meter = new TlsRecordMeter();
    const tls = tlsConnect({ socket: meteredStream(socket, meter), servername: ENDPOINT, ca: pki.serverCa.certPem });
    await new Promise<void>((resolve, reject) => tls.once('secureConnect', resolve).once('error', reject));
    meter.finishHandshake();
    expect(tls.getProtocol()).toBe('TLSv1.3');
    expect(meter.sizes.certificateMessageBytes).toBeNull();
    const ders = [pki.server.certPem, pki.serverCa.certPem].map((pem) => new X509Certificate(pem).raw.length);
    expect(meter.sizes.encryptedHandshakeBytes).toBeGreaterThan(ders[0]! + ders[1]!);
    tls.destroy();
  });

  it('Dante: socks5h tunnel (the proxy resolves the name) carries TLS; REP 0', async () => {
    const proxy = parseProxyUrl(`socks5h://127.0.0.1:${dantePort}`);
    const { result, socket } = await through(proxy, 'localhost', tlsPort);
    expect(result).toMatchObject({ ok: true, code: 'PROXY_CONNECT_OK', rep: 0, requested: `localhost:${tlsPort}` });
    const tls = tlsConnect({ socket, servername: ENDPOINT, ca: pki.serverCa.certPem });
    await new Promise<void>((resolve, reject) => tls.once('secureConnect', resolve).once('error', reject));
    expect(tls.authorized).toBe(true);
    tls.destroy();
  });

  it('Dante blocks a port: REP 2 "connection not allowed by ruleset"; a refused target: REP 5', async () => {
    const proxy = parseProxyUrl(`socks5://127.0.0.1:${dantePort}`);
    const blocked = (await through(proxy, '127.0.0.1', blockedTlsPort)).result;
    expect(blocked).toMatchObject({
      ok: false,
      code: 'PROXY_DENIED',
      rep: 2,
      repName: 'connection not allowed by ruleset',
    });
    const refused = (await through(proxy, '127.0.0.1', refusedPort)).result;
    expect(refused).toMatchObject({
      ok: false,
      code: 'PROXY_TARGET_UNREACHABLE',
      rep: 5,
      repName: 'connection refused',
    });
  });

  it('a proxy that never answers: PROXY_TIMEOUT at the deadline; one that hangs up: PROXY_CLOSED', async () => {
    const silent = parseProxyUrl(`http://127.0.0.1:${await silentServer()}`);
    const timed = (await through(silent, '127.0.0.1', tlsPort, 400)).result;
    expect(timed.code).toBe('PROXY_TIMEOUT');
    expect(timed.durationMs).toBeGreaterThanOrEqual(390);
    expect(timed.durationMs).toBeLessThan(1000);
    const hangup = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => hangup.listen(0, '127.0.0.1', resolve));
    const closer = parseProxyUrl(`http://127.0.0.1:${(hangup.address() as AddressInfo).port}`);
    expect((await through(closer, '127.0.0.1', tlsPort)).result.code).toBe('PROXY_CLOSED');
    hangup.close();
  });

  it('finds the TLS 1.2 suites a server accepts by offering each alone', async () => {
    const { port } = await tlsServer({
      cert: pki.server,
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA',
    });
    const open = async (): Promise<Socket | null> => {
      const tcp = await connectTcp('127.0.0.1', port, 2000);
      return tcp.ok ? tcp.socket : null;
    };
    expect(await acceptedCiphers(open, ENDPOINT, 2000)).toEqual(['ECDHE-RSA-AES256-GCM-SHA384', 'AES128-SHA']);
  });
});
