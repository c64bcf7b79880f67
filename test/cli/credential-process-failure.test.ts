/**
 * A credential_process that fails (exits non-zero, is not found, prints something that is not the JSON of the
 * process credential provider) is named, with its profile, program and what was wrong, in cloud.credentials' summary
 * and in presign's error line, instead of the generic "no AWS credentials found"; its output (which could hold
 * secrets) and its arguments never appear. Real scripts in a temporary AWS_CONFIG_FILE, the real SDK chain.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/model/index.js';
import { isolatedAwsEnv, runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-cred-process-'));
const ENDPOINT = 'abcdefabcdefab-ats.iot.eu-west-1.amazonaws.com';
/** What the scripts print and take as arguments: none of it may show. */
const SECRETS = ['SECRET-STDOUT-7f3a', 'SECRET-STDERR-9c1e', 'SECRET-ARG-42b8', 'AKIDSECRETPROCESS'];

function script(name: string, body: string): string {
  const path = join(work, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o700);
  return path;
}

const exit3 = script(
  'exit-3.sh',
  `echo '{"Version": 1, "AccessKeyId": "AKIDSECRETPROCESS", "SecretAccessKey": "SECRET-STDOUT-7f3a"}'\n` +
    'echo SECRET-STDERR-9c1e >&2\nexit 3',
);
const notJson = script('not-json.sh', 'echo SECRET-STDOUT-7f3a\necho SECRET-STDERR-9c1e >&2');
const noVersion = script('no-version.sh', `echo '{"AccessKeyId": "AKIDSECRETPROCESS", "SecretAccessKey": "x"}'`);
/** Counts its runs: a credential helper may prompt or open a browser each time, so iot-doctor never runs it again. */
const runsFile = join(work, 'runs');
const counted = script('counted.sh', `echo run >> '${runsFile}'\nexit 4`);
const config = join(work, 'config');
writeFileSync(
  config,
  [
    '[default]',
    `credential_process = ${exit3} SECRET-ARG-42b8`,
    '[profile not-json]',
    `credential_process = ${notJson}`,
    '[profile no-version]',
    `credential_process = ${noVersion}`,
    '[profile false]',
    'credential_process = /bin/false',
    '[profile missing]',
    `credential_process = ${join(work, 'no-such-program')} --token SECRET-ARG-42b8`,
    '[profile counted]',
    `credential_process = ${counted}`,
    '',
  ].join('\n'),
);

/** No AWS credentials but the config file's; the API address (never called) is a closed local port. */
const ENV = isolatedAwsEnv(work, join(work, 'no-credentials'), {
  AWS_CONFIG_FILE: config,
  AWS_ENDPOINT_URL_IOT: 'http://127.0.0.1:9',
  HTTPS_PROXY: undefined,
  https_proxy: undefined,
  ALL_PROXY: undefined,
  all_proxy: undefined,
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

function expectNoSecret(text: string): void {
  for (const s of SECRETS) expect(text).not.toContain(s);
}

describe('a failing credential_process is named', () => {
  it('presign: one line with the profile, the program and the exit status or what it printed wrong', async () => {
    const cases: [string | undefined, RegExp][] = [
      [undefined, /^credential_process of profile "default" \(\S+\/exit-3\.sh\) exited with an error or was ended /],
      ['not-json', /^credential_process of profile "not-json" \(\S+\/not-json\.sh\) did not print valid JSON/],
      ['no-version', /^credential_process of profile "no-version" \(\S+\/no-version\.sh\) printed JSON without "Ver/],
      ['false', /^credential_process of profile "false" \(\/bin\/false\) exited with an error or was ended /],
      ['missing', /^credential_process of profile "missing" \(\S+\/no-such-program\) exited with an error or was/],
    ];
    const runs = await Promise.all(
      cases.map(([profile]) =>
        runCli(['presign', '--endpoint', ENDPOINT, ...(profile ? ['--profile', profile] : [])], {
          cwd: work,
          env: ENV,
        }),
      ),
    );
    runs.forEach((r, i) => {
      const [profile, expected] = cases[i]!;
      expect(r.exitCode, `${profile}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      const prefix = 'iot-doctor: no AWS credentials to sign with: ';
      expect(lines[0]!.startsWith(prefix), lines[0]).toBe(true);
      expect(lines[0]!.slice(prefix.length)).toMatch(expected);
      expect(lines[0]).toMatch(/\(its output is not shown\)$/);
      expectNoSecret(r.stderr);
    });
  }, 60_000);

  it('a failing credential_process runs only as often as the AWS SDK runs it: iot-doctor never runs it again', async () => {
    const r = await runCli(['presign', '--endpoint', ENDPOINT, '--profile', 'counted'], { cwd: work, env: ENV });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/credential_process of profile "counted" \(\S+\/counted\.sh\) exited with an error/);
    // The SDK's process provider makes at most two attempts here (one per provider that reads the profile).
    const runs = readFileSync(runsFile, 'utf8').trim().split('\n').length;
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThanOrEqual(2);
  });

  it('check: cloud.credentials says which process failed and how; the other cloud checks point at it', async () => {
    const args = ['check', '--endpoint', ENDPOINT, '--cloud-only', '--certificate-id', 'a'.repeat(64)];
    const [exited, printed] = await Promise.all([
      runCli([...args, '--format', 'json', '--output', ''], { cwd: work, env: ENV }),
      runCli([...args, '--format', 'json', '--output', '', '--profile', 'not-json'], { cwd: work, env: ENV }),
    ]);
    for (const [r, expected] of [
      [exited, /^skipped: credential_process of profile "default" \(\S+\/exit-3\.sh\) exited with an error or /],
      [printed, /^skipped: credential_process of profile "not-json" \(\S+\/not-json\.sh\) did not print valid JSON/],
    ] as const) {
      const report = JSON.parse(r.stdout) as Report;
      const creds = report.results.find((x) => x.id === 'cloud.credentials');
      expect(creds, r.stdout).toMatchObject({ status: 'skip', code: 'CLOUD_NO_CREDENTIALS' });
      expect(creds!.summary).toMatch(expected);
      const others = report.results.filter((x) => x.id.startsWith('cloud.') && x.id !== 'cloud.credentials');
      expect(others.some((x) => /credential_process .*\(see cloud\.credentials\)$/.test(x.summary))).toBe(true);
      expectNoSecret(`${r.stdout}\n${r.stderr}`);
    }
  }, 60_000);
});
