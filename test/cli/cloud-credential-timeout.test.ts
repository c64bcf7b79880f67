/**
 * A credential lookup that times out (`credential_process` that sleeps): cloud.credentials skips, and every other
 * cloud check skips pointing at it, as without credentials — none warns about AWS IoT API calls that never started.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import type { Report } from '../../src/model/index.js';
import { isolatedAwsEnv, labCheckArgs, runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-cred-timeout-'));
const pidFile = join(work, 'pids');
let lab: Lab;
let files: { ca: string; cert: string; key: string };

beforeAll(async () => {
  lab = await startLab({ pki: createLabPki('ec'), mqtt5: 'off' });
  files = await lab.writeFiles(join(work, 'lab'));
  // A credential_process that never answers in time; it records its PID so afterAll can end it.
  const script = join(work, 'slow-credentials.sh');
  writeFileSync(script, `#!/bin/sh\necho $$ >> '${pidFile}'\nexec sleep 30\n`);
  chmodSync(script, 0o700);
  writeFileSync(join(work, 'config'), `[default]\nregion = eu-west-1\ncredential_process = ${script}\n`);
});

afterAll(async () => {
  let pids: string[] = [];
  try {
    pids = readFileSync(pidFile, 'utf8').split('\n').filter(Boolean);
  } catch {
    // the process never started
  }
  for (const pid of pids) {
    try {
      process.kill(Number(pid));
    } catch {
      // already gone
    }
  }
  await lab?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('a credential lookup that times out', () => {
  it('cloud.credentials skips and the other cloud checks skip pointing at it, no API warning', async () => {
    const started = performance.now();
    const r = await runCli(labCheckArgs(lab, files, ['--format', 'json', '--timeout', '3000']), {
      cwd: work,
      env: isolatedAwsEnv(work, join(work, 'no-credentials'), {
        AWS_CONFIG_FILE: join(work, 'config'),
        HTTPS_PROXY: undefined,
        https_proxy: undefined,
        ALL_PROXY: undefined,
        all_proxy: undefined,
      }),
    });
    const wallMs = performance.now() - started;
    const report = JSON.parse(r.stdout) as Report;
    const cloud = report.results.filter((x) => x.id.startsWith('cloud.'));
    const creds = cloud.find((x) => x.id === 'cloud.credentials');
    expect(creds, r.stdout).toMatchObject({ status: 'skip' });
    expect(creds!.summary).toMatch(/credential lookup did not finish within 3000 ms/);
    const others = cloud.filter((x) => x.id !== 'cloud.credentials');
    expect(others.length).toBeGreaterThan(5);
    for (const x of others) {
      expect(x.status, `${x.id}: ${x.summary}`).toBe('skip');
      expect(x.code, x.id).not.toBe('CLOUD_API_UNREACHABLE');
    }
    // Those that needed the API say the credentials are why (cloud.wss-identity may skip for its own reason first).
    const pointing = others.filter((x) => /credential/i.test(`${x.summary} ${JSON.stringify(x.evidence)}`));
    expect(pointing.length, others.map((x) => `${x.id}: ${x.summary}`).join('\n')).toBeGreaterThanOrEqual(
      others.length - 1,
    );
    // The routes against the lab pass: nothing failed, and the run ended within its deadline (not 30 s of sleep).
    expect(r.exitCode, r.stderr).toBe(0);
    expect(wallMs).toBeLessThan(20_000);
  }, 90_000);
});
