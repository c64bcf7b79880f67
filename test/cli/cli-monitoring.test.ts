/**
 * The monitoring outputs through the built binary: `--format prometheus` (checked by promtool), `--format nagios`
 * with the plugin exit codes, and `--repeat` against the lab (routes really re-probed, schema-valid report).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import { ROOT as root, labCheckArgs, reportValidator, runCli } from '../helpers/cli.js';
import { HAS_PROMTOOL, parseSamples, promtoolCheckMetrics } from '../helpers/promtool.js';

const sample = join(root, 'test/fixtures/report-sample.json');
const work = mkdtempSync(join(tmpdir(), 'iot-doctor-mon-'));

function run(args: string[]) {
  return runCli(args, { cwd: work, timeout: 90_000, stripFinalNewline: false });
}

const validate = reportValidator();

let lab: Lab;
let files: { ca: string; cert: string; key: string };
beforeAll(async () => {
  lab = await startLab({ pki: createLabPki('ec'), scenario: 'alpn-ignored' });
  files = await lab.writeFiles(join(work, 'lab-files'));
});
afterAll(async () => {
  await lab.close();
  rmSync(work, { recursive: true, force: true });
});

function checkArgs(extra: string[]): string[] {
  return labCheckArgs(lab, files, extra, ['--no-cloud']);
}

function expectPromtoolClean(text: string): void {
  if (!HAS_PROMTOOL) return;
  const r = promtoolCheckMetrics(text);
  expect(r.output).toBe('');
  expect(r.status).toBe(0);
}

describe('render a saved report', () => {
  it('--format prometheus: promtool clean, exit code stays the report verdict (1)', async () => {
    const r = await run(['render', sample, '--format', 'prometheus']);
    expect(r.exitCode).toBe(1);
    expectPromtoolClean(r.stdout);
    expect(parseSamples(r.stdout).get('probe_success')).toBe(0);
  });

  it('--format nagios: CRITICAL, exit 2 by the plugin convention', async () => {
    const r = await run(['render', sample, '--format', 'nagios']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toMatch(/^IOT-DOCTOR CRITICAL - /);
  });
});

describe('Nagios exit codes only under --format nagios', () => {
  it('a usage error is UNKNOWN (exit 3) with its status line on stdout', async () => {
    for (const args of [['--format', 'nagios'], ['-f', 'nagios'], ['--format=nagios,json']]) {
      const r = await run(['check', '--endpoint', '203.0.113.10', ...args]);
      expect(r.exitCode, args.join(' ')).toBe(3);
      expect(r.stdout).toMatch(/^IOT-DOCTOR UNKNOWN - --endpoint must be a host name/);
      expect(r.stdout.trim().split('\n')).toHaveLength(1);
    }
  });

  it('the same usage error in any other format is exit 2 with nothing on stdout', async () => {
    const r = await run(['check', '--endpoint', '203.0.113.10', '--format', 'json,nagios']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
  });

  it('ALPN stripped on 443 is CRITICAL, exit 2, naming the routes and stage', async () => {
    const r = await run(checkArgs(['--format', 'nagios']));
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stdout.split('\n')[0]).toMatch(
      /^IOT-DOCTOR CRITICAL - mqtt-443 failed at alpn \(ALPN_NOT_SELECTED\), https-443 failed at alpn \(ALPN_NOT_SELECTED\); 2 of 4 routes pass \| 'duration'=/,
    );
  });

  it('the same run with --format prometheus keeps iot-doctor exit code 1', async () => {
    const r = await run(checkArgs(['--format', 'prometheus']));
    expect(r.exitCode, r.stderr).toBe(1);
    expectPromtoolClean(r.stdout);
    const s = parseSamples(r.stdout);
    expect(s.get('iot_doctor_stage_success{route="mqtt-443",stage="alpn"}')).toBe(0);
    expect(s.get('iot_doctor_stage_success{route="mqtt-8883",stage="round-trip"}')).toBe(1);
  });
});

describe('--repeat', () => {
  it('re-probes every route N times: N times the TLS handshakes of one run, statistics in the JSON report', async () => {
    const before = { ...lab.stats.tlsHandshakes };
    const once = await run(checkArgs(['--format', 'json']));
    expect(once.exitCode, once.stderr).toBe(1);
    const single = { ...lab.stats.tlsHandshakes };
    const r = await run(checkArgs(['--format', 'json', '--repeat', '3', '--interval', '100']));
    expect(r.exitCode, r.stderr).toBe(1);
    const after = lab.stats.tlsHandshakes;
    for (const k of ['mqtt8883', 'tls443', 'https8443'] as const) {
      expect(single[k] - before[k], k).toBeGreaterThan(0);
      expect(after[k] - single[k], k).toBe(3 * (single[k] - before[k]));
    }
    const report = JSON.parse(r.stdout) as {
      repeat: { attempts: number; failedAttempts: number; routes: { route: string; failureRatio: number }[] };
    };
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.repeat.attempts).toBe(3);
    expect(report.repeat.failedAttempts).toBe(3);
    expect(report.repeat.routes.find((x) => x.route === 'mqtt-443')!.failureRatio).toBe(1);
    expect(report.repeat.routes.find((x) => x.route === 'https-443')!.failureRatio).toBe(1);
    expect(report.repeat.routes.find((x) => x.route === 'mqtt-8883')!.failureRatio).toBe(0);
  });

  it('shows the statistics in table, markdown, list, html and junit', async () => {
    const r = await run(
      checkArgs([
        '--repeat',
        '2',
        '--interval',
        '0',
        '--routes',
        'mqtt-443',
        'https-8443',
        '--format',
        'table,markdown,html,junit,list',
        '--output',
        join(work, 'rep'),
      ]),
    );
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stdout).toContain(
      'Repeated attempts\n2 attempts, 0 ms apart: 2 with a failed route; mqtt-443 failed in 100% (2 of 2)',
    );
    expect(r.stdout).toMatch(/mqtt-443 +alpn +2 +100% \(2\)/);
    const written = (ext: string) =>
      readFileSync(
        join(
          work,
          'rep',
          readdirSync(join(work, 'rep')).find((f) => f.endsWith(ext))!,
        ),
        'utf8',
      );
    expect(written('.md')).toContain('| mqtt-443 | alpn | 2 | 100% (2) |');
    expect(written('.html')).toContain('<section id="repeat">');
    expect(written('.xml')).toContain('name="mqtt-443: 2 of 2 attempts failed" classname="iot-doctor.repeat"');
    const list = await run([
      'render',
      join(
        work,
        'rep',
        readdirSync(join(work, 'rep')).find((f) => f.endsWith('.json'))!,
      ),
      '--format',
      'list',
    ]);
    expect(list.stdout).toContain('2 attempts, 0 ms apart');
  });

  it('usage errors', async () => {
    for (const [args, message] of [
      [['--repeat', '0'], /--repeat must be a whole number/],
      [['--interval', '50'], /--interval needs --repeat/],
      [['--repeat', '2', '--cloud-only', '--certificate-id', 'a'.repeat(64)], /--repeat re-probes the routes/],
    ] as [string[], RegExp][]) {
      const r = await run(checkArgs(args));
      expect(r.exitCode).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
    }
  });
});
