/**
 * `lab --dir` that cannot hold the lab's files is one line and exit 2 before the lab starts: a file, a path through a
 * file, and a folder under /proc (where a recursive mkdir loops forever on Node 20) all end at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-lab-dir-'));
const file = join(work, 'a-file');
writeFileSync(file, 'x');
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('lab --dir that cannot be written', () => {
  it.each([
    [file, /a file of that name exists/],
    [join(file, 'sub'), /a-file is a file, not a folder/],
    ['/proc/iot-doctor-no-such/x', /ENOENT/],
  ])('%s: one line, exit 2, no lab started', async (dir, why) => {
    const started = performance.now();
    const r = await runCli(['lab', '--dir', dir], { cwd: work, timeout: 20_000 });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(
      new RegExp(`^iot-doctor: cannot write the lab files into ${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `),
    );
    expect(r.stderr).toMatch(why);
    expect(r.stderr).not.toMatch(/lab started/);
  });
});
