/**
 * Issue 17 point 8: a stopped demo leaves nothing behind. The binary runs `demo` with its own TMPDIR; on SIGTERM,
 * SIGINT or SIGHUP (at any time once mosquitto is up) it exits 128 + the signal number, its mosquitto child is gone
 * and the temporary folders (broker configuration, lab key) are removed; the lab key was written mode 0600.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'dist/src/bin.js');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Child pids of `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const path = `/proc/${pid}/task/${pid}/children`;
  return existsSync(path) ? readFileSync(path, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return what();
}

describe.concurrent('demo stopped by a signal', () => {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    it(`${signal}: exit ${128 + constants.signals[signal]}, no mosquitto left, no temporary folder left`, async () => {
      const tmp = mkdtempSync(join(tmpdir(), `iot-doctor-signals-${process.pid}-`));
      dirs.push(tmp);
      const child = execa('node', [bin, 'demo', '--scenario', 'tls-stall-8443', '--timeout', '30000', '--output', ''], {
        reject: false,
        env: { TMPDIR: tmp, NO_COLOR: '1' },
        timeout: 60_000,
      });
      const pid = child.pid!;
      let keyMode: number | undefined;
      const labDirWithKey = (): boolean => {
        const lab = readdirSync(tmp).find((d) => /^iot-doctor-lab-(?!mosquitto)/.test(d));
        const key = lab ? join(tmp, lab, 'private.pem.key') : undefined;
        if (key && existsSync(key)) keyMode = statSync(key).mode & 0o777;
        return keyMode !== undefined;
      };
      expect(await until(labDirWithKey, 40_000), 'the demo wrote its lab files').toBe(true);
      const mosquitto = childrenOf(pid);
      expect(mosquitto.length, 'mosquitto runs as a child').toBeGreaterThan(0);
      child.kill(signal);
      const r = await child;
      expect(r.exitCode, r.stderr).toBe(128 + constants.signals[signal]);
      expect(await until(() => mosquitto.every((p) => !alive(p)), 3000), 'mosquitto stopped').toBe(true);
      expect(readdirSync(tmp)).toEqual([]);
      expect(keyMode).toBe(0o600);
    });
  }
});
