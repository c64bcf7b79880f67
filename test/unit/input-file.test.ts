/**
 * Bounded reading of the files a user names (issue 17, point 1): only regular files, never a wait on a FIFO or an
 * endless read of a device, a size cap checked before and during the read, one clear line per refusal.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { formatBytes, readInputFile } from '../../src/input-file.js';

const dir = mkdtempSync(join(tmpdir(), 'iot-doctor-input-'));
const spec = { label: 'the certificate file', flag: '--cert', maxBytes: 4096 };
let unixServer: Server;

beforeAll(async () => {
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  symlinkSync(join(dir, 'fifo'), join(dir, 'link-to-fifo'));
  writeFileSync(join(dir, 'small.pem'), 'x'.repeat(4096));
  writeFileSync(join(dir, 'one-over.pem'), 'x'.repeat(4097));
  writeFileSync(join(dir, 'huge.pem'), '');
  truncateSync(join(dir, 'huge.pem'), 200 * 1024 * 1024); // sparse: no disk used
  unixServer = createServer();
  await new Promise<void>((r) => unixServer.listen(join(dir, 'sock'), r));
});
afterAll(async () => {
  await new Promise<void>((r) => unixServer.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

function refusal(path: string): string {
  try {
    readInputFile(path, spec);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    return message;
  }
  throw new Error(`${path} was read`);
}

describe('readInputFile', () => {
  it('reads a regular file of exactly the cap', () => {
    expect(readInputFile(join(dir, 'small.pem'), spec)).toHaveLength(4096);
  });

  const cases: [string, () => string, RegExp][] = [
    ['a FIFO without writer (no wait)', () => join(dir, 'fifo'), /given with --cert .*fifo\): a named pipe \(FIFO\)/],
    ['a symbolic link to a FIFO', () => join(dir, 'link-to-fifo'), /a named pipe \(FIFO\)/],
    ['/dev/zero (endless)', () => '/dev/zero', /\(\/dev\/zero\): a character device, not a regular file/],
    ['/dev/stdin-like character device /dev/null', () => '/dev/null', /a character device/],
    ['a directory', () => dir, /: a directory$/],
    ['a Unix socket', () => join(dir, 'sock'), /a socket|without a reader/],
    ['a missing file', () => join(dir, 'nope.pem'), /nope\.pem\): no such file$/],
    [
      'one byte over the cap',
      () => join(dir, 'one-over.pem'),
      /one-over\.pem\): 4097 bytes, larger than the 4 KB accepted$/,
    ],
    ['a 200 MB file, refused before reading', () => join(dir, 'huge.pem'), /200 MB, larger than the 4 KB accepted/],
  ];
  for (const [name, path, message] of cases) {
    it(`refuses ${name} with one line`, () => {
      const started = performance.now();
      expect(refusal(path())).toMatch(message);
      expect(performance.now() - started).toBeLessThan(1000);
    });
  }

  it('formats sizes in the units of the messages', () => {
    expect(formatBytes(17)).toBe('17 bytes');
    expect(formatBytes(512 * 1024)).toBe('512 KB');
    expect(formatBytes(4 * 1024 * 1024)).toBe('4 MB');
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), (n) => {
        expect(formatBytes(n)).toMatch(/^\d+(\.\d)? (bytes|KB|MB)$/);
      }),
      { numRuns: 200 },
    );
  });
});
