/**
 * `iot-doctor serve` against the lab: /probe answers a real check as exposition that promtool accepts, bad requests
 * get one-line 400s, the deadline follows X-Prometheus-Scrape-Timeout-Seconds, concurrency is bounded, SIGHUP
 * reloads, the listener binds only the address given, and no key material or credential leaves in any answer.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import { HAS_PROMTOOL, parseSamples, promtoolCheckMetrics } from '../helpers/promtool.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-serve-'));
const PASSPHRASE = `pass-${process.pid}-Zq8`;
const AWS_SECRET = `secret${process.pid}AbCdEfGhIjKlMnOpQrStUvWxYz`;
const bin = join(process.cwd(), 'dist/src/bin.js');

let healthy: Lab;
let stalled: Lab;
let serve: ServeProcess;
let keyBody: string;

function moduleYaml(lab: Lab, dir: string, extra: string[] = []): string {
  return [
    `    cert: ${dir}/device.pem.crt`,
    `    key: ${dir}/encrypted.key`,
    `    key-passphrase: ${PASSPHRASE}`,
    `    ca: ${dir}/ca.pem`,
    '    cloud: false',
    '    connect-to:',
    ...lab.connectTo.map((c) => `      - ${c}`),
    ...extra,
  ].join('\n');
}

function config(extraModules = ''): string {
  return `modules:\n  lab:\n${moduleYaml(healthy, 'healthy')}\n  stall:\n${moduleYaml(stalled, 'stalled', ['    timeout: 10000', '    routes: [https-8443]'])}\n${extraModules}`;
}

async function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; body: string }> {
  const r = await fetch(`${serve.url}${path}`, { headers });
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}

function expectPromtoolClean(text: string): void {
  if (!HAS_PROMTOOL) return;
  const r = promtoolCheckMetrics(text);
  expect(r.output).toBe('');
  expect(r.status).toBe(0);
}

/** Every answer: no key material, passphrase or AWS credential. */
function expectNoSecrets(body: string): void {
  expect(body).not.toContain(PASSPHRASE);
  expect(body).not.toContain(AWS_SECRET);
  expect(body).not.toContain('PRIVATE' + ' KEY');
  expect(body).not.toContain(keyBody);
}

beforeAll(async () => {
  healthy = await startLab({ pki: createLabPki('ec') });
  stalled = await startLab({ pki: createLabPki('ec'), scenario: 'tls-stall-8443' });
  for (const [lab, dir] of [
    [healthy, 'healthy'],
    [stalled, 'stalled'],
  ] as const) {
    const files = await lab.writeFiles(join(work, dir));
    execFileSync('openssl', [
      'pkey',
      '-in',
      files.key,
      '-aes256',
      '-passout',
      `pass:${PASSPHRASE}`,
      '-out',
      join(work, dir, 'encrypted.key'),
    ]);
  }
  keyBody = readFileSync(join(work, 'healthy', 'private.pem.key'), 'utf8').split('\n')[1]!;
  writeFileSync(join(work, 'serve.yml'), config());
  serve = await startServe('serve.yml', work, ['--max-concurrent', '1'], {
    ...process.env,
    AWS_SECRET_ACCESS_KEY: AWS_SECRET,
    AWS_ACCESS_KEY_ID: 'AKIDSERVETEST',
  });
}, 90_000);

afterAll(async () => {
  await serve?.stop();
  await healthy?.close();
  await stalled?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('serve /probe', () => {
  it('answers a healthy check as exposition: probe_success 1, 28 stages, promtool clean, no secrets', async () => {
    const r = await get(`/probe?target=${healthy.endpoint}&module=lab`, {
      'X-Prometheus-Scrape-Timeout-Seconds': '20',
    });
    expect(r.status, r.body).toBe(200);
    expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expectPromtoolClean(r.body);
    const s = parseSamples(r.body);
    expect(s.get('probe_success')).toBe(1);
    expect(s.get('iot_doctor_probe_success')).toBe(1);
    expect([...s.keys()].filter((k) => k.startsWith('iot_doctor_stage_success{'))).toHaveLength(28);
    expect(s.get('iot_doctor_stage_success{route="mqtt-443",stage="round-trip"}')).toBe(1);
    expectNoSecrets(r.body);
    const debug = await get(`/probe?target=${healthy.endpoint}&module=lab&debug=true`);
    expect(debug.status).toBe(200);
    expect(debug.body).toMatch(/│ round-trip +│ ✔ pass/);
    expectNoSecrets(debug.body);
  });

  it('bad requests: one line and 400, counted in /metrics', async () => {
    const cases: [string, RegExp][] = [
      [`/probe?target=${healthy.endpoint}&module=nope`, /^unknown module "nope"; configured: lab, stall\n$/],
      [`/probe?target=${healthy.endpoint}`, /^module parameter is missing; configured: lab, stall\n$/],
      [
        '/probe?target=198.51.100.7&module=lab',
        /^target must be a host name .* not an IP address \(198\.51\.100\.7\)[^\n]*\n$/,
      ],
      [
        '/probe?target=https://x-ats.iot.eu-west-1.amazonaws.com/&module=lab',
        /^target takes a host name, not a URL[^\n]*\n$/,
      ],
      ['/probe?module=lab', /^target parameter is missing[^\n]*\n$/],
    ];
    for (const [path, line] of cases) {
      const r = await get(path);
      expect(r.status, path).toBe(400);
      expect(r.body, path).toMatch(line);
    }
    const badHeader = await get(`/probe?target=${healthy.endpoint}&module=lab`, {
      'X-Prometheus-Scrape-Timeout-Seconds': 'soon',
    });
    expect(badHeader.status).toBe(400);
    expect((await get('/nothing')).status).toBe(404);
    const m = await get('/metrics');
    expect(m.status).toBe(200);
    expectPromtoolClean(m.body);
    const s = parseSamples(m.body);
    expect(s.get('iot_doctor_exporter_requests_rejected_total{reason="unknown_module"}')).toBe(2);
    expect(s.get('iot_doctor_exporter_requests_rejected_total{reason="bad_target"}')).toBe(4);
    expect(s.get('iot_doctor_exporter_probes_total{module="lab",result="success"}')).toBe(2);
    expect(s.get('iot_doctor_exporter_config_last_reload_successful')).toBe(1);
    expectNoSecrets(m.body);
    expectNoSecrets((await get('/')).body);
  });

  it('keeps the deadline of the scrape timeout: a stalled TLS handshake still answers in time, with the stage failed', async () => {
    const started = performance.now();
    const r = await get(`/probe?target=${stalled.endpoint}&module=stall`, {
      'X-Prometheus-Scrape-Timeout-Seconds': '3',
    });
    const elapsed = performance.now() - started;
    expect(r.status, r.body).toBe(200);
    expect(elapsed).toBeLessThan(3000);
    expectPromtoolClean(r.body);
    const s = parseSamples(r.body);
    expect(s.get('probe_success')).toBe(0);
    expect(s.get('iot_doctor_stage_success{route="https-8443",stage="tls"}')).toBe(0);
    // The per-step timeout became 80% of 2.5 s (3 s minus the 0.5 s offset), not the module's 10 s.
    expect(s.get('iot_doctor_stage_duration_seconds{route="https-8443",stage="tls"}')).toBeGreaterThan(1.9);
    expect(s.get('iot_doctor_stage_duration_seconds{route="https-8443",stage="tls"}')).toBeLessThan(2.5);
  });

  it('bounds concurrent probes (--max-concurrent 1): the others wait, then get 503', async () => {
    const headers = { 'X-Prometheus-Scrape-Timeout-Seconds': '3' };
    const answers = await Promise.all(
      [0, 1, 2].map(() => get(`/probe?target=${stalled.endpoint}&module=stall`, headers)),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 503, 503]);
    for (const a of answers.filter((x) => x.status === 200)) expectPromtoolClean(a.body);
    for (const a of answers.filter((x) => x.status === 503))
      expect(a.body).toMatch(/^busy: 1 probes running, none finished in time\n$/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const s = parseSamples((await get('/metrics')).body);
    expect(s.get('iot_doctor_exporter_requests_rejected_total{reason="busy"}')).toBe(2);
    expect(s.get('iot_doctor_exporter_probes_in_flight')).toBe(0);
  });

  it('SIGHUP reloads; a broken file is refused line by line and the old modules keep working', async () => {
    writeFileSync(
      join(work, 'serve.yml'),
      config(`  lab-mqtt:\n${moduleYaml(healthy, 'healthy', ['    routes: [mqtt-8883]'])}\n`),
    );
    serve.child.kill('SIGHUP');
    await serve.waitForLog('configuration reloaded: 3 modules');
    const r = await get(`/probe?target=${healthy.endpoint}&module=lab-mqtt`);
    expect(r.status, r.body).toBe(200);
    expectPromtoolClean(r.body);
    expect([...parseSamples(r.body).keys()].filter((k) => k.startsWith('iot_doctor_stage_success{'))).toHaveLength(7);
    writeFileSync(
      join(work, 'serve.yml'),
      'modules:\n  lab:\n    tiemout: 5\n    routes: mqtt-1883\n    key-passphrase: 7\n',
    );
    serve.child.kill('SIGHUP');
    await serve.waitForLog(/reload failed.*unknown route "mqtt-1883".*\n/);
    const lines = serve
      .stderr()
      .split('\n')
      .filter((l) => l.includes('reload failed'));
    const prefix = 'iot-doctor serve: reload failed, keeping the previous configuration: serve.yml: modules.lab';
    expect(lines).toEqual([
      `${prefix}.tiemout: unknown option (did you mean timeout?)`,
      `${prefix}.key-passphrase: must be a string`,
      `${prefix}: unknown route "mqtt-1883"; choose from mqtt-8883, mqtt-443, https-8443, https-443, credentials-443, mqtt-custom-auth-443, mqtt-wss-443`,
    ]);
    expect((await get(`/probe?target=${healthy.endpoint}&module=lab-mqtt`)).status).toBe(200);
    expect(parseSamples((await get('/metrics')).body).get('iot_doctor_exporter_config_last_reload_successful')).toBe(0);
    writeFileSync(join(work, 'serve.yml'), config());
  });

  it('binds only the address it was given', async () => {
    const refused = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.2', port: serve.port });
      s.on('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});

describe('serve usage errors: exit 2, one line per problem', () => {
  const run = (args: string[]) => execa('node', [bin, 'serve', ...args], { reject: false, cwd: work, timeout: 30_000 });

  it('--listen without a host, or not HOST:PORT', async () => {
    for (const listen of [':9115', '9115', '127.0.0.1:99999']) {
      const r = await run(['--listen', listen, '--config', 'serve.yml']);
      expect(r.exitCode).toBe(2);
      expect(r.stderr.trim()).toMatch(/^iot-doctor: --listen must be HOST:PORT/);
    }
  });

  it('an address already in use: one usage line, not an internal error', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as AddressInfo;
    try {
      const r = await run(['--listen', `127.0.0.1:${port}`, '--config', 'serve.yml']);
      expect(r.exitCode).toBe(2);
      expect(r.stderr.trim()).toMatch(
        new RegExp(`^iot-doctor: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`),
      );
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      busy.close();
    }
  });

  it('a configuration with several bad keys: one line for each', async () => {
    writeFileSync(
      join(work, 'bad.yml'),
      'modules:\n  a:\n    tiemout: 5\n    cert: nope.pem\n    endpoint: x\n  b:\n    timeout: "5s"\n    routes: [mqtt-1883]\nscrape: 1\n',
    );
    const r = await run(['--listen', '127.0.0.1:0', '--config', 'bad.yml']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'iot-doctor: bad.yml: scrape: unknown top-level key (only modules:)',
      'bad.yml: modules.a.tiemout: unknown option (did you mean timeout?)',
      "bad.yml: modules.a.endpoint: not a module option; the endpoint is the probe's target= parameter",
      `bad.yml: modules.a.cert: cannot read ${join(work, 'nope.pem')}: ENOENT`,
      'bad.yml: modules.b.timeout: must be a number (got "5s")',
      'bad.yml: modules.b: unknown route "mqtt-1883"; choose from mqtt-8883, mqtt-443, https-8443, https-443, credentials-443, mqtt-custom-auth-443, mqtt-wss-443',
    ]);
  });

  it('YAML syntax errors and JSON configurations', async () => {
    writeFileSync(join(work, 'broken.yml'), 'modules:\n  a: [\n');
    const r = await run(['--listen', '127.0.0.1:0', '--config', 'broken.yml']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/^iot-doctor: broken\.yml: not valid YAML: /);
    writeFileSync(join(work, 'ok.json'), JSON.stringify({ modules: { j: { routes: ['mqtt-8883'], timeout: 'x' } } }));
    const j = await run(['--listen', '127.0.0.1:0', '--config', 'ok.json']);
    expect(j.stderr.trim()).toBe('iot-doctor: ok.json: modules.j.timeout: must be a number (got "x")');
  });
});
