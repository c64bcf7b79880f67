/**
 * End to end with a real Prometheus (Debian package `prometheus`, installed by test/setup-system.sh): the lab, the
 * exporter (`iot-doctor serve`) and Prometheus scraping /probe with the README's scrape job and relabelling (only
 * the exporter address, the endpoint and the intervals (1 s) are substituted), then Prometheus's HTTP API queried for
 * iot_doctor_probe_success and the per-stage series. The README's serve.yml, prometheus.yml and alert rules are
 * also checked as pasted (loader, promtool check config / check rules) and the alerts are exercised by promtool test rules.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import { parseServeConfig } from '../../src/serve/config.js';
import { HAS_PROMETHEUS, HAS_PROMTOOL, promtool, promtoolCheckMetrics } from '../helpers/promtool.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const README_ENDPOINT = 'a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com';
const README_EXPORTER = '127.0.0.1:9115';

/** The fenced block right after `<!-- readme-test: NAME -->` in the README (blank lines between allowed). */
function readmeBlock(name: string): string {
  const m = new RegExp(`<!-- readme-test: ${name.replace('.', '\\.')} -->\\n+\`\`\`[a-z]*\\n([\\s\\S]*?)\`\`\``).exec(
    readme,
  );
  if (!m) throw new Error(`README has no block marked readme-test: ${name}`);
  return m[1]!;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

if (!HAS_PROMETHEUS || !HAS_PROMTOOL)
  console.log('prometheus/promtool not installed (Debian package prometheus): Prometheus end-to-end test skipped');

describe.skipIf(!HAS_PROMETHEUS || !HAS_PROMTOOL)('Prometheus end to end: lab, serve, real Prometheus', () => {
  const work = mkdtempSync(join(tmpdir(), `iot-doctor-prom-${process.pid}-`));
  let lab: Lab;
  let serve: ServeProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let promLog = '';
  let api = '';
  const started = performance.now();

  async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const r = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await r.json()) as {
      status: string;
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    expect(body.status).toBe('success');
    return body.data.result;
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 45_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; prometheus log:\n${promLog.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  beforeAll(async () => {
    lab = await startLab({ pki: createLabPki('ec') });
    // The README's modules, with the lab's files and its loopback ports (connect-to) added.
    const files = await lab.writeFiles(join(work, 'certs'));
    const connect = lab.connectTo.map((c) => `      - ${c}`).join('\n');
    const module = (extra: string) =>
      `    cert: ${files.cert}\n    key: ${files.key}\n    ca: ${files.ca}\n    cloud: false\n    connect-to:\n${connect}\n${extra}`;
    writeFileSync(
      join(work, 'serve.yml'),
      `modules:\n  site-a:\n${module('    site-profile: 443-only\n')}  site-b:\n${module('    routes: [mqtt-8883, https-8443]\n')}`,
    );
    serve = await startServe('serve.yml', work, ['--timeout-offset', '0.1']);
    const exporter = `127.0.0.1:${serve.port}`;
    const promPort = await freePort();
    api = `http://127.0.0.1:${promPort}`;
    const config = `global:\n  scrape_interval: 1s\n${readmeBlock('prometheus.yml')}`
      .replaceAll(README_EXPORTER, exporter)
      .replaceAll(README_ENDPOINT, lab.endpoint)
      .replace('scrape_interval: 60s', 'scrape_interval: 1s')
      .replace('scrape_timeout: 20s', 'scrape_timeout: 1s');
    expect(config).toContain(`replacement: ${exporter}`);
    writeFileSync(join(work, 'prometheus.yml'), config);
    writeFileSync(join(work, 'iot-doctor-rules.yml'), readmeBlock('iot-doctor-rules.yml'));
    const check = promtool(['check', 'config', join(work, 'prometheus.yml')]);
    expect(check.status, check.output).toBe(0);
    mkdirSync(join(work, 'tsdb'));
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(work, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(work, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.setEncoding('utf8').on('data', (d: string) => (promLog += d));
    prometheus.stderr!.setEncoding('utf8').on('data', (d: string) => (promLog += d));
    await until('Prometheus ready', async () => {
      if (prometheus!.exitCode !== null) throw new Error(`prometheus exited: ${promLog}`);
      const ok = await fetch(`${api}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      return ok ? true : undefined;
    });
  }, 120_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      const timer = setTimeout(() => prometheus!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await serve?.stop();
    await lab?.close();
    rmSync(work, { recursive: true, force: true });
    console.log(`Prometheus end-to-end: ${Math.round(performance.now() - started)} ms`);
  });

  it('Prometheus scrapes /probe through the README relabelling and stores success and per-stage series', async () => {
    const success = await until('iot_doctor_probe_success == 1 for both sites', async () => {
      const r = await query('iot_doctor_probe_success == 1');
      return r.length === 2 ? r : undefined;
    });
    for (const s of success) {
      expect(s.metric['instance']).toBe(lab.endpoint);
      expect(s.metric['job']).toBe('iot-doctor');
    }
    expect(success.map((s) => s.metric['module']).sort()).toEqual(['site-a', 'site-b']);
    expect((await query('probe_success{module="site-b"}'))[0]!.value[1]).toBe('1');
    const stages = await query(`count by (module) (iot_doctor_stage_success{instance="${lab.endpoint}"})`);
    expect(Object.fromEntries(stages.map((s) => [s.metric['module'], s.value[1]]))).toEqual({
      'site-a': '28',
      'site-b': '14',
    });
    const rt = await query('iot_doctor_stage_success{module="site-b",route="mqtt-8883",stage="round-trip"}');
    expect(rt[0]!.value[1]).toBe('1');
    const tls = await query('iot_doctor_stage_duration_seconds{module="site-b",route="https-8443",stage="tls"}');
    expect(Number(tls[0]!.value[1])).toBeGreaterThan(0);
    // site-a expects 8883 and 8443 blocked, but the lab opens them: a warning, not a failure.
    expect((await query('iot_doctor_results{module="site-a",status="warn"}'))[0]!.value[1]).toBe('2');
    const expiry = await query('iot_doctor_certificate_expiry_timestamp_seconds{module="site-b",certificate="device"}');
    expect(Number(expiry[0]!.value[1])).toBeGreaterThan(Date.now() / 1000);
    const up = await until('the exporter job scraped', async () => {
      const r = await query('up{job="iot-doctor-exporter"}');
      return r.length ? r : undefined;
    });
    expect(up[0]!.value[1]).toBe('1');
    const rules = (await (await fetch(`${api}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string }[] }[] };
    };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name).sort()).toEqual([
      'IotDoctorDeviceCertificateExpiring',
      'IotDoctorProbeFailing',
      'IotDoctorRouteDown',
    ]);
    // Nothing in the stored data came from a failed scrape.
    expect(await query('up{job="iot-doctor"} == 0')).toEqual([]);
  });

  it('the exporter answers promtool-clean exposition for both modules and for /metrics', async () => {
    for (const path of [
      `/probe?target=${lab.endpoint}&module=site-a`,
      `/probe?target=${lab.endpoint}&module=site-b`,
      '/metrics',
    ]) {
      const r = await fetch(`${serve!.url}${path}`);
      const text = await r.text();
      const check = promtoolCheckMetrics(text);
      expect(check.output, path).toBe('');
      expect(check.status, path).toBe(0);
    }
  });
});

describe.skipIf(!HAS_PROMTOOL)('the README monitoring examples as pasted', () => {
  const work = mkdtempSync(join(tmpdir(), `iot-doctor-readme-${process.pid}-`));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('serve.yml loads (with files at the paths it names)', () => {
    for (const p of [
      'certs/site-a/device.pem.crt',
      'certs/site-a/private.pem.key',
      'certs/site-b/device.pem.crt',
      'certs/site-b/private.pem.key',
      'certs/AmazonRootCA1.pem',
    ]) {
      mkdirSync(join(work, p, '..'), { recursive: true });
      writeFileSync(join(work, p), 'placeholder\n');
    }
    const { config, errors } = parseServeConfig(readmeBlock('serve.yml'), join(work, 'serve.yml'));
    expect(errors).toEqual([]);
    expect([...config!.modules.keys()]).toEqual(['site-a', 'site-b']);
    expect(config!.modules.get('site-a')!.siteProfile?.name).toBe('443-only');
    expect(config!.modules.get('site-b')!.args.routes).toEqual(['mqtt-8883', 'https-8443']);
  });

  it('prometheus.yml and the alert rules pass promtool check config / check rules', () => {
    writeFileSync(join(work, 'prometheus.yml'), readmeBlock('prometheus.yml'));
    writeFileSync(join(work, 'iot-doctor-rules.yml'), readmeBlock('iot-doctor-rules.yml'));
    const config = promtool(['check', 'config', join(work, 'prometheus.yml')]);
    expect(config.status, config.output).toBe(0);
    const rules = promtool(['check', 'rules', join(work, 'iot-doctor-rules.yml')]);
    expect(rules.status, rules.output).toBe(0);
    expect(rules.output).toContain('SUCCESS: 3 rules found');
  });

  it('the alerts fire on a route down (not on one blocked as expected) and on an expiring certificate', () => {
    writeFileSync(join(work, 'iot-doctor-rules.yml'), readmeBlock('iot-doctor-rules.yml'));
    const day = 86400;
    const tests = `rule_files: [iot-doctor-rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'iot_doctor_route_up{job="iot-doctor",instance="e",module="site-a",route="mqtt-443"}'
        values: '0x10'
      - series: 'iot_doctor_route_up{job="iot-doctor",instance="e",module="site-a",route="mqtt-8883"}'
        values: '0x10'
      - series: 'iot_doctor_route_expected_blocked{job="iot-doctor",instance="e",module="site-a",route="mqtt-8883"}'
        values: '1x10'
      - series: 'iot_doctor_route_up{job="iot-doctor",instance="e",module="site-b",route="https-8443"}'
        values: '1x10'
      - series: 'iot_doctor_certificate_expiry_timestamp_seconds{job="iot-doctor",instance="e",module="site-a",certificate="device"}'
        values: '${10 * day}x30'
      - series: 'iot_doctor_certificate_expiry_timestamp_seconds{job="iot-doctor",instance="e",module="site-b",certificate="device"}'
        values: '${90 * day}x30'
    alert_rule_test:
      - eval_time: 10m
        alertname: IotDoctorRouteDown
        exp_alerts:
          - exp_labels: { severity: critical, job: iot-doctor, instance: e, module: site-a, route: mqtt-443 }
            exp_annotations:
              summary: 'mqtt-443 to e fails at site site-a'
              description: 'Run the probe with &debug=true for the failing stage and the diagnosis.'
      - eval_time: 20m
        alertname: IotDoctorDeviceCertificateExpiring
        exp_alerts:
          - exp_labels: { severity: warning, job: iot-doctor, instance: e, module: site-a, certificate: device }
            exp_annotations:
              summary: 'The device certificate of site site-a expires in 9d 23h 40m 0s'
`;
    writeFileSync(join(work, 'tests.yml'), tests);
    const r = promtool(['test', 'rules', 'tests.yml'], work);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('SUCCESS');
  });
});
