/**
 * Issue 17: a `lab` killed with SIGKILL (no handler runs) leaves no mosquitto behind and no temp folder: the broker's
 * watchdog (src/lab/broker.ts) sees its pipe from the lab close, kills the broker and removes the folder.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN, PLAIN_ENV } from '../helpers/cli.js';

/** Processes whose command line contains TEXT (read from /proc). */
function processesWith(text: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('lab killed with SIGKILL', () => {
  it('its mosquitto is gone within 3 s, and the broker folder with it', async () => {
    const child = execa('node', [BIN, 'lab'], { reject: false, env: PLAIN_ENV, timeout: 60_000 });
    try {
      let printed = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`lab not ready: ${printed}`)), 40_000);
        child.stdout!.on('data', (d: Buffer) => {
          printed += d.toString();
          if (printed.includes('lab ready')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const ps = await execa('ps', ['-o', 'pid=,comm=', '--ppid', String(child.pid)]);
      const pid = ps.stdout
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .find(([, comm]) => comm === 'mosquitto')?.[0];
      expect(pid, ps.stdout).toBeDefined();
      const conf = /-c\0([^\0]+)/.exec(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))?.[1] ?? '';
      expect(conf).toMatch(/iot-doctor-lab-mosquitto-.*mosquitto\.conf$/);
      expect(processesWith(conf)).toContain(Number(pid));
      child.kill('SIGKILL');
      await child;
      const deadline = Date.now() + 3_000;
      while ((processesWith(conf).length || existsSync(dirname(conf))) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(processesWith(conf)).toEqual([]);
      expect(existsSync(dirname(conf))).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  }, 90_000);
});
