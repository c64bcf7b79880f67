/**
 * `ipFamily` answers as `net.isIP` does for every string (IP literals of both families, with zones, host names,
 * arbitrary text), while leaving Node's IPv6 pattern alone for strings without a colon.
 */
import fc from 'fast-check';
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ipFamily } from '../../src/probes/ip-literal.js';

describe('ipFamily', () => {
  it('agrees with net.isIP on addresses, host names and arbitrary strings', () => {
    const samples = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.ipV4Extended(),
      fc.domain(),
      fc.ipV6().map((a) => `${a}%eth0`),
      fc.string(),
      fc.stringMatching(/^[0-9.:a-f%]{0,20}$/),
    );
    fc.assert(
      fc.property(samples, (s) => ipFamily(s) === isIP(s)),
      { numRuns: 2000 },
    );
  });

  it('names the families of typical inputs', () => {
    expect(ipFamily('198.51.100.7')).toBe(4);
    expect(ipFamily('2001:db8::1')).toBe(6);
    expect(ipFamily('::ffff:198.51.100.7')).toBe(6);
    expect(ipFamily('fe80::1%eth0')).toBe(6);
    expect(ipFamily('abc123-ats.iot.eu-west-1.amazonaws.com')).toBe(0);
    expect(ipFamily('1.2.3')).toBe(0);
    expect(ipFamily('')).toBe(0);
  });
});
