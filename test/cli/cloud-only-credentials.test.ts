/**
 * A run made only of cloud checks (`check --cloud-only`, `check --from report.json`) with no AWS credential source at
 * all is a usage error: one line on stderr naming what is missing, exit 2, nothing on stdout. Every check would have
 * skipped, and a report of skips with exit 0 read as an account in order. With credentials, a usage error ends at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isolatedAwsEnv, runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-cloud-only-'));
const EMPTY = join(work, 'empty');
writeFileSync(EMPTY, '');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CERT_ID = 'c'.repeat(64);
const ENDPOINT = 'abc123-ats.iot.eu-west-1.amazonaws.com';
const CLOUD_ONLY = ['check', '--cloud-only', '--endpoint', ENDPOINT, '--certificate-id', CERT_ID, '--output', ''];

describe('cloud checks alone need AWS credentials', () => {
  it('--cloud-only and --from without any credential source: one line, exit 2, no report', async () => {
    // A real report to merge into: one route refused on a closed local port, no cloud checks.
    const made = await runCli(
      ['check', '--endpoint', ENDPOINT, '--connect-to', `${ENDPOINT}:8883:127.0.0.1:9`, '--routes', 'mqtt-8883'].concat(
        ['--no-cloud', '--format', 'json', '--output', '', '--timeout', '1000'],
      ),
      { cwd: work, env: isolatedAwsEnv(work, EMPTY) },
    );
    const report = join(work, 'report.json');
    writeFileSync(report, made.stdout);
    for (const args of [CLOUD_ONLY, ['check', '--from', report, '--output', '']]) {
      const r = await runCli(args, { cwd: work, env: isolatedAwsEnv(work, EMPTY) });
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^iot-doctor: --(cloud-only|from) asks the AWS IoT API .* needs AWS credentials/);
      expect(r.stderr).toMatch(/set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give --profile NAME/);
    }
  });

  it('--no-cloud with --cloud-only or --from is a usage error, not a run that calls AWS anyway', async () => {
    const env = isolatedAwsEnv(work, EMPTY, { AWS_ACCESS_KEY_ID: 'AKIDNOCLOUD', AWS_SECRET_ACCESS_KEY: 'x' });
    for (const [args, flag] of [
      [[...CLOUD_ONLY, '--no-cloud'], '--cloud-only'],
      [['check', '--from', join(work, 'report.json'), '--no-cloud', '--output', ''], '--from'],
    ] as const) {
      const r = await runCli([...args], { cwd: work, env });
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim()).toBe(`iot-doctor: --no-cloud leaves AWS alone; ${flag} runs only cloud checks`);
    }
  });

  it('half a key pair is named, its value never shown', async () => {
    const env = isolatedAwsEnv(work, EMPTY, { AWS_ACCESS_KEY_ID: 'AKIDHALFCLOUDONLY' });
    const r = await runCli(CLOUD_ONLY, { cwd: work, env });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not/);
    expect(r.stderr).not.toContain('AKIDHALFCLOUDONLY');
  });

  it('with AWS credentials, a usage error still ends at once: the API worker started ahead does not hold it', async () => {
    const env = isolatedAwsEnv(work, EMPTY, { AWS_ACCESS_KEY_ID: 'AKIDUSAGE', AWS_SECRET_ACCESS_KEY: 'usage-secret' });
    const started = performance.now();
    const r = await runCli(['check', '--cloud-only', '--region', 'eu-west-1', '--output', ''], {
      cwd: work,
      env,
      timeout: 20_000,
    });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^iot-doctor: --endpoint is required/);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
