/**
 * No output of iot-doctor shows a proxy password: a real run through the lab's HTTP CONNECT and SOCKS5 proxies (Basic
 * / RFC 1929 credentials whose password needs percent-encoding) writing every format (`--output` files, the first on
 * stdout), `render` of the saved report to every format (stdout and files), `--repeat`, a refused password, stderr, the error lines of bad proxy URLs
 * (also with IOT_DOCTOR_DEBUG), and what `lab` prints and writes into lab.json. Scanned for: the password, the
 * `user:password` pair, their percent-encoded forms and the Basic `Proxy-Authorization` token.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import { startLabProxy, type LabProxy } from '../../src/lab/field-proxy.js';
import { FORMATS } from '../../src/report/formats.js';
import { BIN, PLAIN_ENV, labCheckArgs, reportValidator, runCli } from '../helpers/cli.js';
import type { Report } from '../../src/model/index.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-proxy-secrets-'));
const USER = 'tech';
const PASSWORD = 'Zq7Wm:pw@x/y%Kv';
const ENCODED = encodeURIComponent(PASSWORD);
/** Every form the password could take in an output. */
const FORMS = [
  PASSWORD,
  ENCODED,
  `${USER}:${PASSWORD}`,
  `${USER}:${ENCODED}`,
  Buffer.from(`${USER}:${PASSWORD}`).toString('base64'),
  'Zq7Wm', // the part before the first reserved character: a half-redacted URL would show it
];
const ENV = {
  ...PLAIN_ENV,
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_PROFILE: undefined,
  HTTPS_PROXY: undefined,
  https_proxy: undefined,
  ALL_PROXY: undefined,
  all_proxy: undefined,
  NO_PROXY: undefined,
  no_proxy: undefined,
};

let lab: Lab;
let files: { ca: string; cert: string; key: string };
const proxies: LabProxy[] = [];
let httpUrl = '';
let socksUrl = '';

function expectNoSecret(text: string, where: string): void {
  for (const form of FORMS) expect(text.includes(form), `${where} shows "${form}"`).toBe(false);
}

function check(extra: string[], env: Record<string, string | undefined> = {}) {
  return runCli(labCheckArgs(lab, files, extra), { cwd: work, env: { ...ENV, ...env } });
}

beforeAll(async () => {
  lab = await startLab({ pki: createLabPki('ec'), mqtt5: 'off' });
  files = await lab.writeFiles(join(work, 'lab'));
  const ports: Record<number, number> = { 8883: lab.ports.mqtt8883, 443: lab.ports.tls443, 8443: lab.ports.https8443 };
  const upstream = (host: string, port: number) =>
    host.toLowerCase() === lab.endpoint && ports[port] ? { host: '127.0.0.1', port: ports[port]! } : null;
  for (const kind of ['http', 'socks5'] as const) {
    proxies.push(await startLabProxy({ kind, bind: '127.0.0.1', users: { [USER]: PASSWORD }, upstream }));
  }
  httpUrl = `http://${USER}:${ENCODED}@127.0.0.1:${proxies[0]!.port}`;
  socksUrl = `socks5h://${USER}:${ENCODED}@127.0.0.1:${proxies[1]!.port}`;
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await lab?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('proxy credentials never appear in an output', () => {
  it('every format of a live run (stdout, --output files), render of the saved report, stderr', async () => {
    // One live run writes every format: its stdout is the first one, its --output files all of them, each from the
    // renderer `check --format X` prints with (src/commands.ts printReport), colour off as here. The render of its
    // saved report below puts every format on stdout; a live run per format would only repeat the probing.
    const all = join(work, 'all');
    const several = await check(['--proxy', httpUrl, '--format', FORMATS.join(','), '--output', all]);
    // A usage or tool error is exit 2 (the first format is the table: not Nagios's codes).
    expect(several.exitCode, several.stderr).not.toBe(2);
    expect(several.stdout.length).toBeGreaterThan(0);
    expectNoSecret(`${several.stdout}\n${several.stderr}`, 'several formats');
    const written = readdirSync(all);
    expect(written.length).toBe(FORMATS.length);
    for (const f of written) expectNoSecret(readFileSync(join(all, f), 'utf8'), `--output file ${f}`);
    // The run really went through the proxy with the credentials: its routes passed there.
    const saved = written.find((f) => f.endsWith('.json'))!;
    const json = JSON.parse(readFileSync(join(all, saved), 'utf8')) as { results: { id: string; status: string }[] };
    expect(json.results.find((x) => x.id === 'route.mqtt-8883 via proxy.proxy')?.status).toBe('pass');
    expect(proxies[0]!.answers).toContain('200');
    const renders = await Promise.all(
      FORMATS.map((format) =>
        runCli(['render', join(all, saved), '--format', format, '--output', join(work, `render-${format}`)], {
          cwd: work,
          env: ENV,
        }),
      ),
    );
    renders.forEach((r, i) => {
      // A usage or tool error is exit 2, under Nagios's own codes 3 (UNKNOWN); Nagios's 2 is CRITICAL, a verdict.
      expect(r.exitCode, r.stderr).not.toBe(FORMATS[i] === 'nagios' ? 3 : 2);
      expect(r.stdout.length, `render --format ${FORMATS[i]}`).toBeGreaterThan(0);
      expectNoSecret(`${r.stdout}\n${r.stderr}`, `render --format ${FORMATS[i]}`);
      for (const f of readdirSync(join(work, `render-${FORMATS[i]}`))) {
        expectNoSecret(readFileSync(join(work, `render-${FORMATS[i]}`, f), 'utf8'), `render file ${f}`);
      }
    });
  }, 120_000);

  it('--repeat, the environment variable, SOCKS5, and a password the proxy refuses', async () => {
    const repeatDir = join(work, 'repeat');
    const runs = await Promise.all([
      // JSON on stdout, the table into a file: both renderings of the repeated run's report.
      check(['--proxy', httpUrl, '--repeat', '2', '--interval', '0', '--format', 'json,table', '--output', repeatDir]),
      check(['--format', 'table'], { HTTPS_PROXY: httpUrl }),
      check(['--format', 'json', '--proxy-only'], { ALL_PROXY: socksUrl }),
      check(['--proxy', httpUrl.replace(ENCODED, `${ENCODED}x`), '--format', 'table']),
      check(['--proxy', socksUrl.replace(ENCODED, `${ENCODED}x`), '--format', 'json']),
    ]);
    runs.forEach((r, i) => {
      expect(r.exitCode, `run ${i}: ${r.stderr}`).not.toBe(2);
      expectNoSecret(`${r.stdout}\n${r.stderr}`, `run ${i}`);
    });
    expect(runs[0]!.stdout).toContain('"repeat"');
    const repeatFiles = readdirSync(repeatDir);
    expect(repeatFiles.some((f) => f.endsWith('.table.txt'))).toBe(true);
    for (const f of repeatFiles) expectNoSecret(readFileSync(join(repeatDir, f), 'utf8'), `--repeat file ${f}`);
    const socks = JSON.parse(runs[2]!.stdout) as { results: { id: string; status: string }[] };
    expect(socks.results.find((x) => x.id === 'route.mqtt-8883 via proxy.proxy')?.status).toBe('pass');
    expect(runs[3]!.stdout).toContain('PROXY_AUTH_REQUIRED');
    expect(runs[4]!.stdout).toContain('PROXY_AUTH_REQUIRED');
  }, 120_000);

  it('a bad proxy URL is one line on stderr and exit 2, without the password (also with IOT_DOCTOR_DEBUG)', async () => {
    const bad = [
      `ftp://${USER}:${ENCODED}@127.0.0.1:3128`,
      `https://${USER}:${ENCODED}@127.0.0.1:3128`,
      `http://${USER}:${ENCODED}@127.0.0.1:3128/path`,
      `http://${USER}:${ENCODED}@127.0.0.1:99999`,
      `http://${USER}:${ENCODED}@`,
      `http://${USER}:${ENCODED}%zz@127.0.0.1:3128`,
      `http://${USER}:${PASSWORD}@127.0.0.1:3128`,
    ];
    const runs = await Promise.all(
      bad.flatMap((url) => [
        check(['--proxy', url]),
        check([], { HTTPS_PROXY: url, IOT_DOCTOR_DEBUG: '1' }),
        check(['--proxy', url, '--format', 'json'], { IOT_DOCTOR_DEBUG: '1' }),
      ]),
    );
    runs.forEach((r, i) => {
      const where = `${bad[Math.floor(i / 3)]} (run ${i % 3})`;
      expect(r.exitCode, `${where}: ${r.stdout}`).toBe(2);
      expect(r.stderr.trim().split('\n').length, `${where}: ${r.stderr}`).toBeLessThanOrEqual(i % 3 === 0 ? 1 : 40);
      expect(r.stderr).toMatch(/proxy/i);
      expectNoSecret(`${r.stdout}\n${r.stderr}`, where);
    });
  }, 120_000);

  it("lab's printed lines and lab.json", async () => {
    const dir = join(work, 'lab-proxy');
    let printed = '';
    const child = execa('node', [BIN, 'lab', '--dir', dir, '--scenario', 'proxy-required'], {
      reject: false,
      env: ENV,
      cwd: work,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('lab did not start')), 30_000);
        child.stdout!.on('data', (d: Buffer) => {
          printed += d.toString();
          if (printed.includes('lab ready')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const info = readFileSync(join(dir, 'lab.json'), 'utf8');
      // The lab's own password: whatever the scenario generated, in the URL form it would take.
      for (const text of [printed, info]) expect(text).not.toMatch(/lab:lab-[a-z0-9]{4,}@/);
      // The printed line runs as printed: the proxy URL with its password comes from a 0600 file, as HTTPS_PROXY.
      const line = /Check it with:\n {2}(.+)\n/.exec(printed)?.[1] ?? '';
      const proxyFile = join(dir, 'proxy-url');
      expect(line.startsWith(`HTTPS_PROXY="$(cat ${proxyFile})" `), line).toBe(true);
      expect(statSync(proxyFile).mode & 0o777).toBe(0o600);
      const secret = /^http:\/\/lab:(lab-[a-z0-9]+)@127\.0\.0\.1:\d+\n$/.exec(readFileSync(proxyFile, 'utf8'))?.[1];
      expect(secret).toBeDefined();
      const r = await execa('sh', ['-c', `${line} --output '' --format json`], { reject: false, env: ENV, cwd: work });
      expect(r.exitCode, r.stderr).toBe(1);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.diagnosis[0]?.code).toBe('PROXY_REQUIRED');
      expect(report.target.proxy).toMatchObject({ source: 'HTTPS_PROXY', credentials: true });
      expect(report.results.find((x) => x.id === 'route.mqtt-8883 via proxy.round-trip')?.status).toBe('pass');
      expect(`${r.stdout}${r.stderr}`).not.toContain(secret!);
    } finally {
      child.kill('SIGTERM');
      await child;
    }
  }, 60_000);
});

describe('which proxy the run used, and why, in the report (curl: NO_PROXY applies to --proxy, --noproxy wins)', () => {
  it('JSON target.proxy and the table header say where the proxy came from or what exempted the endpoint', async () => {
    const validate = reportValidator();
    const cases: { args: string[]; env: Record<string, string>; via: boolean; reason: RegExp }[] = [
      { args: ['--proxy', httpUrl], env: {}, via: true, reason: /^--proxy$/ },
      { args: [], env: { HTTPS_PROXY: httpUrl }, via: true, reason: /^HTTPS_PROXY from the environment$/ },
      { args: [], env: { HTTPS_PROXY: httpUrl, NO_PROXY: '.amazonaws.com' }, via: false, reason: /from HTTPS_PROXY/ },
      { args: ['--proxy', httpUrl], env: { NO_PROXY: '.amazonaws.com' }, via: false, reason: /from --proxy/ },
      { args: ['--proxy', httpUrl, '--noproxy', ''], env: { NO_PROXY: '*' }, via: true, reason: /^--proxy$/ },
      {
        args: ['--noproxy', 'iot.eu-west-1.amazonaws.com'],
        env: { HTTPS_PROXY: httpUrl },
        via: false,
        reason: /--noproxy entry "iot\.eu-west-1\.amazonaws\.com"/,
      },
      { args: ['--no-proxy'], env: { HTTPS_PROXY: httpUrl }, via: false, reason: /^--no-proxy/ },
      { args: [], env: {}, via: false, reason: /^no proxy configured/ },
    ];
    // One run per case: JSON on stdout, the table into its --output folder (the renderer `--format table` prints).
    const runs = await Promise.all(
      cases.map((c, i) =>
        check(
          [...c.args, '--format', 'json,table', '--output', join(work, `choice-${i}`), '--routes', 'mqtt-8883'],
          c.env,
        ),
      ),
    );
    cases.forEach((c, i) => {
      const where = `${c.args.join(' ')} ${JSON.stringify(c.env)}`;
      const json = runs[i]!;
      const tableFile = readdirSync(join(work, `choice-${i}`)).find((f) => f.endsWith('.table.txt'));
      const table = tableFile ? readFileSync(join(work, `choice-${i}`, tableFile), 'utf8') : '';
      expect(json.exitCode, `${where}: ${json.stderr}`).not.toBe(2);
      const report = JSON.parse(json.stdout) as Report;
      expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
      const proxy = report.target.proxy!;
      expect(proxy.reason, where).toMatch(c.reason);
      expect(report.target.routes.includes('mqtt-8883 via proxy'), where).toBe(c.via);
      if (c.via) {
        expect(proxy).toMatchObject({ url: `http://127.0.0.1:${proxies[0]!.port}`, credentials: true });
        expect(table).toContain(`proxy: http://127.0.0.1:${proxies[0]!.port} (${proxy.reason}, with credentials)`);
      } else {
        expect(proxy.url).toBeUndefined();
        expect(table).toContain(`proxy: ${proxy.reason}`);
      }
      expectNoSecret(`${json.stdout}${json.stderr}${table}`, where);
    });
    expect(runs[2]!.stdout).toContain(
      `"no proxy: NO_PROXY entry \\".amazonaws.com\\" exempts ${lab.endpoint} from HTTPS_PROXY`,
    );
  }, 120_000);
});

describe('monitoring formats name every route instance of a run through a proxy', () => {
  it('Prometheus route labels and Nagios perfdata labels: the direct and the via-proxy instances, distinct', async () => {
    const routes = ['--routes', 'mqtt-8883,https-443'];
    // One run: Prometheus on stdout, the Nagios line into its --output folder (the renderer `--format nagios` prints).
    const dir = join(work, 'monitoring');
    const prom = await check(['--proxy', socksUrl, ...routes, '--format', 'prometheus,nagios', '--output', dir]);
    expect(prom.exitCode, prom.stderr).toBe(0);
    const nagios = readFileSync(
      join(
        dir,
        readdirSync(dir).find((f) => f.endsWith('.nagios.txt'))!,
      ),
      'utf8',
    );
    const up = [...prom.stdout.matchAll(/^iot_doctor_route_up\{route="([^"]+)"\} ([01])$/gm)].map((m) => [m[1], m[2]]);
    expect(up).toEqual([
      ['mqtt-8883', '1'],
      ['mqtt-8883 via proxy', '1'],
      ['https-443', '1'],
      ['https-443 via proxy', '1'],
    ]);
    expect(prom.stdout).toContain('iot_doctor_stage_success{route="mqtt-8883 via proxy",stage="proxy"} 1');
    const perf = nagios.split('\n')[0]!.split(' | ')[1]!;
    const labels = [...perf.matchAll(/'([^']+)'=/g)].map((m) => m[1]);
    expect(labels).toEqual([
      'duration',
      'routes_ok',
      'mqtt-8883',
      'mqtt-8883 via proxy',
      'https-443',
      'https-443 via proxy',
    ]);
    expect(perf).toContain("'routes_ok'=4;;;0;4");
    expectNoSecret(`${prom.stdout}${prom.stderr}${nagios}`, 'monitoring formats');
  }, 60_000);
});
