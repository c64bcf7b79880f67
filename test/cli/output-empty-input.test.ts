/**
 * Issue 17 (bounded and clear) through the built binary: an --output folder that cannot be made (on /proc, where a
 * recursive mkdir used to loop forever; under a file) and explicitly empty option values each give one line on stderr
 * naming the cause, and exit 2, before any network step.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-outdir-'));
const endpoint = 'abc123-ats.iot.eu-west-1.amazonaws.com';
// 198.51.100.1 (documentation range) would hang a probe: every refusal here must come before any connection.
const check = ['check', '--endpoint', endpoint, '--resolve', `${endpoint}:*:198.51.100.1`];
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('--output that cannot become a folder: one line, exit 2, no hang', () => {
  const cases: [string, string[], RegExp][] = [
    ['check --output /proc/nope', [...check, '--output', '/proc/nope'], /--output \/proc\/nope: ENOENT/],
    [
      'cert --output /proc/self/nope',
      ['cert', '--cert', '/etc/hostname', '--output', '/proc/self/nope'],
      /--output \/proc\/self\/nope: ENOENT/,
    ],
    ['check --output /dev/null/x', [...check, '--output', '/dev/null/x'], /: \/dev\/null is a file, not a folder$/],
    ['check --output /dev/null', [...check, '--output', '/dev/null'], /: a file of that name exists$/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const r = await runCli(args, { cwd: work, timeout: 15_000 });
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(/^iot-doctor: cannot write reports into /);
      expect(r.stderr.trim()).toMatch(message);
    });
  }

  it('still makes every missing level of a new folder', async () => {
    const r = await runCli(['cert', '--cert', '/etc/hostname', '--format', 'json', '--output', 'a/b/c'], {
      cwd: work,
      timeout: 15_000,
    });
    expect(r.stderr).not.toMatch(/cannot write/);
    expect(readdirSync(join(work, 'a/b/c')).filter((f) => f.endsWith('.json'))).toHaveLength(1);
  });
});

describe('an explicitly empty value is a usage error naming the option', () => {
  const routeNames =
    /\(mqtt-8883, mqtt-443, https-8443, https-443, credentials-443, mqtt-custom-auth-443, mqtt-wss-443\)$/;
  const cases: [string, string[], RegExp][] = [
    ['--routes ""', [...check, '--routes', ''], /^iot-doctor: --routes needs at least one route /],
    ['--routes ,', [...check, '--routes', ','], /^iot-doctor: --routes needs at least one route /],
    ['--client-id ""', [...check, '--client-id', ''], /^iot-doctor: --client-id needs a non-empty value \(got ""\)$/],
    ['--format ""', [...check, '--format', ''], /^iot-doctor: --format needs a non-empty value \(got ""\)$/],
    ['--format=" "', [...check, '--format= '], /^iot-doctor: --format needs a non-empty value \(got " "\)$/],
    ['cert --cert "" --key ""', ['cert', '--cert', '', '--key', ''], /^iot-doctor: --cert needs a non-empty value/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const r = await runCli(args, { cwd: work, timeout: 15_000 });
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(message);
      if (name.startsWith('--routes')) expect(r.stderr.trim()).toMatch(routeNames);
    });
  }

  it("keeps --output '' (no files) and --noproxy '' meaningful", async () => {
    const local = ['check', '--endpoint', endpoint, '--resolve', `${endpoint}:*:127.0.0.1`, '--routes', 'mqtt-8883'];
    const r = await runCli([...local, '--timeout', '1000', '--no-cloud', '--output', '', '--noproxy', ''], {
      cwd: work,
      timeout: 20_000,
    });
    expect(r.stderr).not.toMatch(/non-empty|cannot write/);
    expect([0, 1], r.stderr).toContain(r.exitCode);
  });
});

describe('several formats and no folder: refused, not silently cut to the first', () => {
  const cases: [string, string[]][] = [
    ["check --format junit,html --output ''", [...check, '--format', 'junit,html', '--output', '']],
    ['render --format json,html (render writes no folder by default)', ['render', 'x.json', '--format', 'json,html']],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      const r = await runCli(args, { cwd: work, timeout: 15_000 });
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(/^iot-doctor: --format .* names 2 formats but no --output folder is written/);
    });
  }
});
