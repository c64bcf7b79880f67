/**
 * A credential_process that never ends does not outlive the run: `check` and `presign` give up on it at --timeout
 * (one line / a skipped cloud.credentials) and, when they end, the helper the AWS SDK started through /bin/sh is
 * ended too instead of being left running, re-parented to init. The helper writes its own pid; the test asks the
 * kernel whether that process still exists.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isolatedAwsEnv, runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-process-hang-'));
const EMPTY = join(work, 'empty');
writeFileSync(EMPTY, '');
const ENDPOINT = 'abc123-ats.iot.eu-west-1.amazonaws.com';
const started: number[] = [];

/** A helper that records its pid in `pidFile` and then waits five minutes (as one waiting for a login would). */
function hangingProfile(name: string): { config: string; pidFile: string } {
  const pidFile = join(work, `${name}.pid`);
  const script = join(work, `${name}.sh`);
  writeFileSync(script, `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 300\n`);
  chmodSync(script, 0o700);
  const config = join(work, `${name}.config`);
  writeFileSync(config, `[profile hang]\ncredential_process = ${script}\n`);
  return { config, pidFile };
}

/** Whether `pid` still runs: it exists and is not a zombie (ended, waiting for init to collect it; proc(5) state Z). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

afterAll(() => {
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

describe('a credential_process that never ends', () => {
  it.each([
    ['check', ['check', '--cloud-only', '--endpoint', ENDPOINT, '--certificate-id', 'a'.repeat(64), '--output', '']],
    ['presign', ['presign', '--endpoint', ENDPOINT]],
  ])('%s gives up at --timeout and ends the helper with it', async (name, args) => {
    const { config, pidFile } = hangingProfile(name);
    const env = isolatedAwsEnv(work, EMPTY, { AWS_CONFIG_FILE: config, AWS_ENDPOINT_URL_IOT: 'http://127.0.0.1:9' });
    const t0 = performance.now();
    const r = await runCli([...args, '--profile', 'hang', '--timeout', '1500'], { cwd: work, env, timeout: 30_000 });
    expect(performance.now() - t0, r.stderr).toBeLessThan(10_000);
    expect(existsSync(pidFile), `the helper never ran: ${r.stderr}`).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    started.push(pid);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(alive(pid), `helper ${pid} still running after ${name} ended (exit ${r.exitCode}): ${r.stderr}`).toBe(false);
  });
});
