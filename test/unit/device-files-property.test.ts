/**
 * Property tests of the device-file loaders (issue 17, "arbitrary and mutated input never throws an unclassified
 * error"): certificate, key and CA files made of random bytes, or of a real PEM/DER with bytes flipped, cut or
 * duplicated, always load into `problems` (or a one-line UsageError), never an exception, within bounded time.
 * fast-check, bounded runs; files written to a temporary folder and read through the real loader.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { createCA, issueDeviceCertificate } from '../../src/lab/pki.js';
import { loadDeviceFiles } from '../../src/probes/pem/load.js';
import { sniffFile } from '../../src/probes/pem/sniff.js';

const dir = mkdtempSync(join(tmpdir(), `iot-doctor-loader-prop-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ca = createCA('Property CA', { keyType: 'ec' });
const device = issueDeviceCertificate(ca, 'prop-device');
const seeds = [
  Buffer.from(device.certPem),
  Buffer.from(device.keyPem),
  Buffer.from(ca.certPem + device.certPem),
  Buffer.from(device.certPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'), // DER
];

/** A seed file mutated: bytes flipped, a cut, a duplicated slice, CRLF line ends, a BOM. */
const mutated = fc
  .tuple(
    fc.constantFrom(...seeds),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    fc.option(fc.nat()),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([seed, flips, cut, crlf, bom]) => {
    let b = Buffer.from(seed);
    for (const [at, v] of flips) b[at % b.length] = v;
    if (cut !== null) b = b.subarray(0, cut % (b.length + 1));
    if (crlf) b = Buffer.from(b.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
    return bom ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b]) : b;
  });
const anyFile = fc.oneof(
  mutated,
  fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)),
);

let n = 0;
function file(content: Buffer): string {
  const path = join(dir, `f${(n += 1)}`);
  writeFileSync(path, content);
  return path;
}

describe('device-file loaders on arbitrary and mutated input', () => {
  it('sniffFile never throws', () => {
    fc.assert(
      fc.property(anyFile, (b) => {
        expect(sniffFile(b)).toBeTruthy();
      }),
      { numRuns: 300 },
    );
  });

  it('loadDeviceFiles classifies every combination into problems, never an exception', async () => {
    await fc.assert(
      fc.asyncProperty(anyFile, anyFile, anyFile, async (cert, key, caFile) => {
        const started = performance.now();
        try {
          const loaded = await loadDeviceFiles({ certPath: file(cert), keyPath: file(key), caPath: file(caFile) });
          expect(Array.isArray(loaded.problems)).toBe(true);
          for (const p of loaded.problems) expect(p.message).not.toMatch(/PRIVATE KEY-----/);
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError);
        }
        expect(performance.now() - started).toBeLessThan(2000);
      }),
      { numRuns: 120 },
    );
  });
});
