/**
 * A run that asks only for routes that sign with SigV4 (`--routes mqtt-wss-443`) when there are no AWS credentials at
 * all could test nothing: it is a usage error (exit 2, one line naming what is missing and how to give it, no report,
 * not one connection to the endpoint), not a report of skips with exit 0; credentials that exist but fail to resolve
 * (known only at run time) make the upgrade cell an error saying why, exit 2. With another route in the run, the
 * WebSocket route keeps its warning cell and the other route runs. The built CLI against a lab.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import type { Report } from '../../src/model/index.js';
import { isolatedAwsEnv, labCheckArgs, runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-wss-no-signing-'));
const EMPTY = join(work, 'empty');
let lab: Lab;
let files: { ca: string; cert: string; key: string };

/** No AWS setting of this machine leaks in: shared files empty, no metadata service, every AWS_* variable unset. */
function awsEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return isolatedAwsEnv(work, EMPTY, {
    AWS_ENDPOINT_URL_IOT: lab.apiEndpoint,
    AWS_ENDPOINT_URL_STS: lab.apiEndpoint,
    AWS_ENDPOINT_URL_IAM: lab.apiEndpoint,
    HTTPS_PROXY: undefined,
    https_proxy: undefined,
    ALL_PROXY: undefined,
    all_proxy: undefined,
    ...extra,
  });
}

beforeAll(async () => {
  writeFileSync(EMPTY, '');
  lab = await startLab({ pki: createLabPki('ec'), mqtt5: 'off' });
  files = await lab.writeFiles(join(work, 'lab'));
}, 60_000);

afterAll(async () => {
  await lab?.close();
  rmSync(work, { recursive: true, force: true });
});

function check(routes: string, env: Record<string, string | undefined>): ReturnType<typeof runCli> {
  const args = labCheckArgs(lab, files, ['--routes', routes, '--format', 'json', '--timeout', '3000']);
  return runCli(args, { cwd: work, env });
}

describe('--routes mqtt-wss-443 with no AWS credentials', () => {
  it('alone: exit 2, one line naming the missing credentials and how to give them, no connection made', async () => {
    const before = lab.stats.connections + lab.stats.tlsHandshakes.tls443;
    const none = await check('mqtt-wss-443', awsEnv());
    const half = await check('mqtt-wss-443', awsEnv({ AWS_ACCESS_KEY_ID: 'AKIDHALFONLY' }));
    for (const r of [none, half]) {
      expect(r.exitCode, r.stdout).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^iot-doctor: mqtt-wss-443 signs its WebSocket URL with AWS credentials \(SigV4\) and there are none/,
      );
      expect(lines[0]).toMatch(/set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give --profile NAME/);
      expect(lines[0]).toMatch(/--routes mqtt-8883,mqtt-wss-443\)$/);
    }
    expect(half.stderr).toContain('(AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not)');
    expect(half.stderr).not.toContain('AKIDHALFONLY');
    expect(lab.stats.connections + lab.stats.tlsHandshakes.tls443).toBe(before);
  }, 60_000);

  it('alone, with credentials that fail at run time: the upgrade cell is an error saying why, exit 2', async () => {
    const failing = join(work, 'failing-config');
    writeFileSync(failing, '[default]\ncredential_process = /bin/false\n');
    const [profile, proc] = await Promise.all([
      check('mqtt-wss-443', awsEnv({ AWS_PROFILE: 'nosuch' })),
      check('mqtt-wss-443', awsEnv({ AWS_CONFIG_FILE: failing })),
    ]);
    for (const [r, why] of [
      [profile, /profile "nosuch"/],
      [proc, /credential_process of profile "default" \(\/bin\/false\) exited with an error or was ended by a signal/],
    ] as const) {
      expect(r.exitCode, r.stderr).toBe(2);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.exitCode).toBe(2);
      const upgrade = report.results.find((x) => x.id === 'route.mqtt-wss-443.upgrade');
      expect(upgrade).toMatchObject({ status: 'error', code: 'UPGRADE_NO_SIGNING_INPUT' });
      expect(upgrade!.summary).toMatch(/^no AWS credentials to sign the WebSocket URL with: /);
      expect(upgrade!.summary).toMatch(why);
      expect(report.diagnosis.map((f) => f.code)).not.toContain('HEALTHY');
      // What to do comes first: the cell's hint (give credentials that resolve), repeated in the diagnosis.
      expect(upgrade!.hint).toMatch(/set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or fix the profile/);
      expect(report.diagnosis[0]?.remediation[0]).toBe(upgrade!.hint);
    }
  }, 60_000);

  it('with credentials it runs; with another route the other route runs and the WebSocket cell warns', async () => {
    const keys = { AWS_ACCESS_KEY_ID: 'AKIDWSSKEYS', AWS_SECRET_ACCESS_KEY: 'lab' };
    const [signed, mixed] = await Promise.all([
      check('mqtt-wss-443', awsEnv(keys)),
      check('mqtt-8883,mqtt-wss-443', awsEnv()),
    ]);
    expect(signed.exitCode, signed.stderr).toBe(0);
    const signedReport = JSON.parse(signed.stdout) as Report;
    expect(signedReport.results.find((r) => r.id === 'route.mqtt-wss-443.round-trip')?.status).toBe('pass');
    expect(mixed.exitCode, mixed.stderr).toBe(0);
    const report = JSON.parse(mixed.stdout) as Report;
    expect(report.results.find((r) => r.id === 'route.mqtt-wss-443.upgrade')).toMatchObject({
      status: 'warn',
      code: 'UPGRADE_NO_SIGNING_INPUT',
    });
    expect(report.results.find((r) => r.id === 'route.mqtt-8883.round-trip')?.status).toBe('pass');
  }, 60_000);
});
