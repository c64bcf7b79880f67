/**
 * The `check` line that `lab` prints exercises the lab's scenario, as `demo` does: run as printed (bash -c), it reaches
 * the scenario's diagnosis. A credential-provider scenario needs the role alias and the credential provider's
 * --connect-to; a custom-auth scenario needs the authorizer, token key name and signature, and the token, which comes
 * from a 0600 file into IOT_DOCTOR_TOKEN and never appears in what `lab` prints, in lab.json or in the report.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, PLAIN_ENV } from '../helpers/cli.js';
import type { Report } from '../../src/model/index.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-lab-line-'));
const children: ResultPromise[] = [];
/** No AWS configuration, profile or proxy of the machine: the printed line alone decides the run. */
const ENV = {
  ...PLAIN_ENV,
  AWS_PROFILE: undefined,
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_SESSION_TOKEN: undefined,
  AWS_CONFIG_FILE: join(work, 'none'),
  AWS_SHARED_CREDENTIALS_FILE: join(work, 'none'),
  AWS_EC2_METADATA_DISABLED: 'true',
  IOT_DOCTOR_TOKEN: undefined,
  IOT_DOCTOR_TOKEN_SIGNATURE: undefined,
  HTTPS_PROXY: undefined,
  https_proxy: undefined,
  ALL_PROXY: undefined,
  all_proxy: undefined,
};

afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await Promise.allSettled(children);
  rmSync(work, { recursive: true, force: true });
});

/** Starts `lab --scenario <scenario>` in its own folder; resolves to what it printed once ready, and the folder. */
async function startLabCommand(scenario: string): Promise<{ printed: string; dir: string }> {
  const dir = join(work, scenario);
  const child = execa('node', [BIN, 'lab', '--dir', dir, '--scenario', scenario], {
    reject: false,
    env: ENV,
    cwd: work,
  });
  children.push(child);
  let printed = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lab ${scenario} did not start: ${printed}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      printed += d.toString();
      if (printed.includes('lab ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { printed, dir };
}

/** Runs the printed `check` line as printed (plus JSON to stdout and no report file). */
async function runPrinted(printed: string): Promise<{ line: string; exitCode?: number; report: Report; out: string }> {
  const line = /Check it with:\n {2}(.+)\n/.exec(printed)?.[1] ?? '';
  const r = await execa('bash', ['-c', `${line} --output '' --format json`], { reject: false, env: ENV, cwd: work });
  expect(r.stderr, line).toBe('');
  return { line, exitCode: r.exitCode, report: JSON.parse(r.stdout) as Report, out: `${r.stdout}${r.stderr}` };
}

describe('lab: the printed check line exercises the scenario', () => {
  it('credential provider (assume-role-denied): role alias and the provider mapping, ASSUME_ROLE_DENIED', async () => {
    const { printed, dir } = await startLabCommand('assume-role-denied');
    const info = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as { connectTo: string[] };
    const { line, exitCode, report } = await runPrinted(printed);
    expect(line).toContain('--role-alias lab-device-role-alias');
    expect(line).toMatch(/--connect-to \S+\.credentials\.iot\.eu-west-1\.amazonaws\.com:443:/);
    expect(info.connectTo.every((c) => line.includes(`--connect-to ${c}`))).toBe(true);
    expect(exitCode).toBe(1);
    expect(report.diagnosis[0]?.code).toBe('ASSUME_ROLE_DENIED');
  }, 60_000);

  it('custom authentication (custom-auth-denied): token from a 0600 file, CUSTOM_AUTH_DENIED', async () => {
    const { printed, dir } = await startLabCommand('custom-auth-denied');
    const tokenFile = join(dir, 'token');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(token).toMatch(/^lab-[0-9a-f]{24}$/);
    const info = readFileSync(join(dir, 'lab.json'), 'utf8');
    expect(JSON.parse(info)).toMatchObject({ files: { token: tokenFile } });
    const { line, exitCode, report, out } = await runPrinted(printed);
    expect(line.startsWith(`IOT_DOCTOR_TOKEN="$(cat ${tokenFile})" `), line).toBe(true);
    expect(line).toContain('--authorizer lab-authorizer');
    expect(line).toContain('--token-key-name x-lab-token');
    expect(line).toMatch(/--token-signature \S+/);
    expect(exitCode).toBe(1);
    expect(report.diagnosis[0]?.code).toBe('CUSTOM_AUTH_DENIED');
    for (const text of [printed, info, out]) expect(text).not.toContain(token);
  }, 60_000);
});
