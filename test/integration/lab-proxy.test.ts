/**
 * The lab's site proxy (src/lab/field-proxy.ts) against the product's own proxy stage and the `socks` package:
 * HTTP CONNECT with Basic auth and a port allow-list, SOCKS5 with RFC 1929 credentials and a refused port.
 */
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabProxy, type LabProxy } from '../../src/lab/field-proxy.js';
import { parseProxyUrl } from '../../src/probes/proxy-config.js';
import { proxyConnect, type ProxyStageResult } from '../../src/probes/proxy-connect.js';
import { connectTcp } from '../../src/probes/tcp.js';
import { ENDPOINT, closeAll, makePki, tlsServer, type Pki } from '../helpers/servers.js';

describe('lab proxy', () => {
  let pki: Pki;
  let tlsPort: number;
  const proxies: LabProxy[] = [];
  const upstream = (host: string, port: number): { host: string; port: number } | null =>
    host === ENDPOINT && (port === 443 || port === 8883) ? { host: '127.0.0.1', port: tlsPort } : null;

  beforeAll(async () => {
    pki = makePki('ec');
    tlsPort = (await tlsServer({ cert: pki.server })).port;
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await closeAll();
  });

  const start = async (opts: Omit<Parameters<typeof startLabProxy>[0], 'upstream' | 'bind'>): Promise<LabProxy> => {
    const p = await startLabProxy({ ...opts, bind: '127.0.0.1', upstream });
    proxies.push(p);
    return p;
  };
  const ask = async (
    url: string,
    port: number,
  ): Promise<{ result: ProxyStageResult; socket: import('node:net').Socket }> => {
    const proxy = parseProxyUrl(url);
    const tcp = await connectTcp(proxy.host, proxy.port, 2000);
    if (!tcp.ok) throw new Error(tcp.message);
    const result = await proxyConnect(
      tcp.socket,
      proxy,
      { host: ENDPOINT, port },
      { timeoutMs: 2000, userAgent: 'test' },
    );
    return { result, socket: tcp.socket };
  };

  it('HTTP CONNECT: 407 with a Basic challenge, 403 outside the allow-list, 502 for an unknown name, 200 and TLS inside', async () => {
    const p = await start({ kind: 'http', users: { bob: 'pw' }, allowPorts: [443, 8883] });
    const base = `127.0.0.1:${p.port}`;
    expect((await ask(`http://${base}`, 443)).result).toMatchObject({
      code: 'PROXY_AUTH_REQUIRED',
      status: 407,
      proxyAuthenticate: ['Basic realm="iot-doctor lab proxy"'],
    });
    expect((await ask(`http://bob:bad@${base}`, 443)).result).toMatchObject({
      code: 'PROXY_AUTH_REQUIRED',
      credentialsSent: true,
    });
    expect((await ask(`http://bob:pw@${base}`, 8443)).result).toMatchObject({ code: 'PROXY_DENIED', status: 403 });
    const ok = await ask(`http://bob:pw@${base}`, 443);
    expect(ok.result).toMatchObject({ ok: true, status: 200 });
    const tls = tlsConnect({ socket: ok.socket, servername: ENDPOINT, ca: pki.serverCa.certPem });
    await new Promise<void>((resolve, reject) => tls.once('secureConnect', resolve).once('error', reject));
    expect(tls.authorized).toBe(true);
    tls.destroy();
    expect(p.answers).toEqual(['407', '407', '403', '200']);
  });

  it('SOCKS5: method 0xFF without credentials, RFC 1929 login, REP 2 for a refused port, REP 0 and TLS inside', async () => {
    const p = await start({ kind: 'socks5', users: { bob: 'pw' }, allowPorts: [443] });
    const base = `127.0.0.1:${p.port}`;
    expect((await ask(`socks5h://${base}`, 443)).result.code).toBe('PROXY_AUTH_REQUIRED');
    expect((await ask(`socks5h://bob:bad@${base}`, 443)).result.code).toBe('PROXY_AUTH_REQUIRED');
    expect((await ask(`socks5h://bob:pw@${base}`, 8883)).result).toMatchObject({ code: 'PROXY_DENIED', rep: 2 });
    const ok = await ask(`socks5h://bob:pw@${base}`, 443);
    expect(ok.result).toMatchObject({ ok: true, rep: 0 });
    const tls = tlsConnect({ socket: ok.socket, servername: ENDPOINT, ca: pki.serverCa.certPem });
    await new Promise<void>((resolve, reject) => tls.once('secureConnect', resolve).once('error', reject));
    tls.destroy();
  });
});
