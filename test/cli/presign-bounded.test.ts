/**
 * `presign` is bounded by `--timeout` (house rule: never a hang): a `credential_process` that does not finish gets
 * one line on stderr and exit 2 right after the timeout, not when the child process ends (the SDK's child kept the
 * process alive for its whole life before).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, PLAIN_ENV } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-presign-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('presign with a credential source that hangs', () => {
  it('prints one line and exits 2 soon after --timeout', async () => {
    const config = join(work, 'config');
    // Sleeps 15 s: long enough that waiting for it would be seen, short enough to end by itself.
    writeFileSync(config, '[default]\ncredential_process = sleep 15\n');
    const started = Date.now();
    const r = await execa(
      'node',
      [BIN, 'presign', '--endpoint', 'abc123-ats.iot.eu-west-1.amazonaws.com', '--timeout', '1500'],
      {
        reject: false,
        timeout: 30_000,
        env: { ...PLAIN_ENV, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: join(work, 'none') },
      },
    );
    const wall = Date.now() - started;
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/did not finish within 1500 ms/);
    expect(wall).toBeLessThan(8000);
  });
});
