/**
 * The by-hand lines of a `… via proxy` route go through the same proxy: `openssl s_client -proxy` (HTTP CONNECT,
 * `-proxy_user` and `-proxy_pass env:PROXY_PASSWORD`), `mosquitto_pub --proxy socks5h://…` (SOCKS5), curl
 * `--proxy`; the password is never on the line. Each line is run as printed against the lab's own proxies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import { startLabProxy, type LabProxy } from '../../src/lab/field-proxy.js';
import { httpsPublishCommand, mosquittoCommand, sClientCommand } from '../../checks/route-reproduce.js';
import { routeInstance } from '../../checks/route-plan.js';
import { ROUTES } from '../../src/model/index.js';
import type { Target } from '../../src/target.js';
import { targetFor } from '../helpers/servers.js';

const planned = (kind: 'mqtt-8883' | 'mqtt-443' | 'https-8443') => routeInstance(`${kind} via proxy`, targetFor({}));

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-proxy-reproduce-'));
const USER = 'tech';
const PASSWORD = 'Zq7Wm:pw@x';
/** mosquitto's --proxy URL parser takes the password as it is (no percent-decoding): one without ':' or '@'. */
const PLAIN_USER = 'field';
const PLAIN_PASSWORD = 'Plain7pw';
let lab: Lab;
let files: { ca: string; cert: string; key: string };
const proxies: LabProxy[] = [];

beforeAll(async () => {
  lab = await startLab({ pki: createLabPki('ec'), mqtt5: 'off' });
  files = await lab.writeFiles(join(work, 'lab'));
  const ports: Record<number, number> = { 8883: lab.ports.mqtt8883, 443: lab.ports.tls443, 8443: lab.ports.https8443 };
  const upstream = (host: string, port: number) =>
    host.toLowerCase() === lab.endpoint && ports[port] ? { host: '127.0.0.1', port: ports[port]! } : null;
  for (const kind of ['http', 'socks5'] as const) {
    proxies.push(
      await startLabProxy({
        kind,
        bind: '127.0.0.1',
        users: { [USER]: PASSWORD, [PLAIN_USER]: PLAIN_PASSWORD },
        upstream,
      }),
    );
  }
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await lab?.close();
  rmSync(work, { recursive: true, force: true });
});

function target(kind: 'http' | 'socks5h', user = USER, password = PASSWORD): Target {
  const proxy = { kind, host: '127.0.0.1', port: proxies[kind === 'http' ? 0 : 1]!.port, user, password };
  return {
    ...targetFor({}, { endpoint: lab.endpoint, connectTo: [], timeoutMs: 5000 }),
    proxy: { ...proxy, source: '--proxy' },
  } as Target;
}

/** Run a printed line as a user would (PROXY_PASSWORD set, in the folder holding the files it names). */
function runLine(command: string, password = PASSWORD) {
  for (const form of [password, encodeURIComponent(password)]) expect(command).not.toContain(form);
  return execa('bash', ['-c', command], {
    cwd: join(work, 'lab'),
    env: { PATH: process.env.PATH, PROXY_PASSWORD: password },
    extendEnv: false,
    reject: false,
    timeout: 20_000,
    stdin: 'ignore',
    all: true,
  });
}

/** The proxy's address as a peer: what a proxied route's tcp stage connected to. */
const peerOf = (t: Target) => ({ address: t.proxy!.host, port: t.proxy!.port });

describe('by-hand lines of `… via proxy` routes run through the proxy as printed', () => {
  it('openssl s_client through the HTTP proxy with -proxy_user/-proxy_pass env: (mqtt-8883 and 443 with ALPN)', async () => {
    const t = target('http');
    for (const kind of ['mqtt-8883', 'mqtt-443'] as const) {
      const { address, port } = peerOf(t);
      const command = sClientCommand(t, planned(kind), address, port);
      expect(command).toContain(`-connect ${lab.endpoint}:${ROUTES[kind].port} -proxy 127.0.0.1:${t.proxy!.port}`);
      const run = await runLine(command);
      expect(run.all, command).toContain('Verify return code: 0 (ok)');
    }
    expect(proxies[0]!.answers).toContain('200');
  }, 60_000);

  it('curl publishes over https-8443 through the HTTP proxy and through SOCKS5', async () => {
    for (const kind of ['http', 'socks5h'] as const) {
      const t = target(kind);
      const command = httpsPublishCommand(t, planned('https-8443'), peerOf(t), 'iot-doctor/by-hand');
      expect(command).toContain('--proxy-user tech');
      // curl asks for the password on its terminal (-U user); a script gives it as user:password instead.
      const run = await runLine(command.replace('--proxy-user tech', '--proxy-user "tech:$PROXY_PASSWORD"'));
      expect(run.all, command).toMatch(/HTTP\/1\.1 200/);
    }
  }, 60_000);

  it('mosquitto_pub through SOCKS5 with the password from $PROXY_PASSWORD; a comment where a tool has no proxy', async () => {
    const socks = target('socks5h', PLAIN_USER, PLAIN_PASSWORD);
    const pub = mosquittoCommand(
      'mosquitto_pub',
      socks,
      planned('mqtt-8883'),
      peerOf(socks),
      'by-hand-1',
      'iot-doctor/by-hand',
    );
    expect(pub).toContain(`--proxy "socks5h://field:$PROXY_PASSWORD@127.0.0.1:${socks.proxy!.port}"`);
    const run = await runLine(pub, PLAIN_PASSWORD);
    expect(run.all, pub).toMatch(/received PUBACK/);
    const noSocks = sClientCommand(socks, planned('mqtt-8883'), '127.0.0.1', socks.proxy!.port);
    expect(noSocks.split('\n')[0]).toMatch(/^# openssl s_client cannot go through a SOCKS proxy/);
    const http = target('http');
    const noHttp = mosquittoCommand('mosquitto_pub', http, planned('mqtt-8883'), peerOf(http), 'by-hand-2', 'a/b');
    expect(noHttp.split('\n')[0]).toMatch(/^# mosquitto cannot go through an HTTP proxy/);
  }, 60_000);
});
