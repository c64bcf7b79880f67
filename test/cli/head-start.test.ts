/**
 * Issue 16: `check` sends its routes' SYNs before it loads the runner, the catalogue and the reporters, and the tcp
 * stage takes that connection over (one connection per route, not two). Observed from outside the code
 * under test: an ES module loader hook (registered with `--import`) and a wrapper of `net.Socket#connect` append, in
 * order, every module file loaded and every connect() to one log file; a real listener counts the connections.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, PLAIN_ENV } from '../helpers/cli.js';

const endpoint = 'abc123-ats.iot.eu-west-1.amazonaws.com';
const accepted: Socket[] = [];
let server: Server;
let port = 0;
let work = '';

/** Runs in the loader's hooks thread: logs each module file as it is loaded. */
const HOOKS = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(process.env.HEAD_START_LOG, 'load ' + url + '\\n');
  return next(url, context);
}
`;

/** Preloaded in the main thread: registers the hooks and logs every connect() before it is made. */
const PRELOAD = `import { register } from 'node:module';
import { appendFileSync } from 'node:fs';
import net from 'node:net';
register(${JSON.stringify('./hooks.mjs')}, import.meta.url);
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const a = Array.isArray(args[0]) ? args[0] : args;
  const o = typeof a[0] === 'object' ? a[0] : { port: a[0], host: a[1] };
  appendFileSync(process.env.HEAD_START_LOG, 'connect ' + (o.host ?? '') + ':' + o.port + '\\n');
  return connect.apply(this, args);
};
`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'iot-doctor-head-start-'));
  writeFileSync(join(work, 'hooks.mjs'), HOOKS);
  writeFileSync(join(work, 'preload.mjs'), PRELOAD);
  // Closes on the ClientHello: the route fails after its tcp stage, which is all this test looks at.
  server = createServer((s) => {
    accepted.push(s);
    s.once('data', () => s.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});
afterAll(() => {
  for (const s of accepted) s.destroy();
  server.close();
  rmSync(work, { recursive: true, force: true });
});

/** `node` arguments of a one-route `check` (mqtt-8883 redirected to the listener, no cloud, no report file) + `extra`. */
function checkArgs(...extra: string[]): string[] {
  const to = `${endpoint}:8883:127.0.0.1:${port}`;
  return [
    BIN,
    'check',
    '--endpoint',
    endpoint,
    '--connect-to',
    to,
    '--routes',
    'mqtt-8883',
    '--no-cloud',
    '--output',
    '',
    ...extra,
  ];
}

describe('the routes start before the rest of check loads', () => {
  it('the first connect() comes before commands, the runner and the catalogue load; the stage takes it over', async () => {
    const log = join(work, 'order.log');
    writeFileSync(log, '');
    const before = accepted.length;
    const r = await execa(
      'node',
      [
        '--import',
        pathToFileURL(join(work, 'preload.mjs')).href,
        ...checkArgs('--format', 'json', '--timeout', '3000'),
      ],
      {
        reject: false,
        env: { ...PLAIN_ENV, HEAD_START_LOG: log },
        timeout: 30_000,
      },
    );
    const report = JSON.parse(r.stdout) as { results: { id: string; code: string; durationMs: number }[] };
    const tcp = report.results.find((x) => x.id === 'route.mqtt-8883.tcp');
    expect(tcp?.code, r.stderr).toBe('TCP_OK');
    // One route, one connection: the tcp stage took over the one started early instead of opening its own.
    expect(accepted.length - before).toBe(1);

    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const firstConnect = lines.findIndex((l) => l === `connect 127.0.0.1:${port}`);
    expect(firstConnect, lines.join('\n')).toBeGreaterThan(0);
    const loadedAfter = (re: RegExp): number => lines.findIndex((l) => l.startsWith('load ') && re.test(l));
    // The bundle's chunks are named after their entry module: commands (runner, reporters, diagnosis) and checks
    // (the catalogue) load only once the route's connect() was made.
    for (const chunk of [/\/chunks\/commands-[^/]+\.js$/, /\/chunks\/checks-[^/]+\.js$/]) {
      const at = loadedAfter(chunk);
      expect(at, `${chunk}: ${lines.join('\n')}`).toBeGreaterThan(firstConnect);
    }
  });
});

describe('usage errors come before the head start', () => {
  it('a device file that cannot be read is one line and exit 2, and no connection was opened', async () => {
    const cases: [string, string, RegExp][] = [
      ['--cert', join(work, 'missing.pem'), /cannot read the certificate file given with --cert .*: no such file/],
      ['--key', work, /cannot read the private key file given with --key .*: a directory/],
      ['--ca', '/dev/zero', /cannot read the CA file given with --ca \(\/dev\/zero\): a character device/],
    ];
    for (const [flag, path, message] of cases) {
      const before = accepted.length;
      const r = await execa('node', checkArgs(flag, path), { reject: false, env: PLAIN_ENV, timeout: 30_000 });
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      // The listener would have seen the head start's SYN within the process's lifetime.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(accepted.length - before, `${flag} ${path}`).toBe(0);
    }
  });
});
