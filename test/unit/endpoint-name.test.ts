import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseEndpoint } from '../../src/target.js';

describe('--endpoint: refuse only what cannot be a name at all (issue 18, item 2)', () => {
  it('a thing name pasted as the prefix is a name: it reaches DNS instead of ending the run', () => {
    expect(parseEndpoint('MyDevices_-ats.iot.eu-west-1.amazonaws.com')).toBe(
      'mydevices_-ats.iot.eu-west-1.amazonaws.com',
    );
    expect(parseEndpoint('_x.example.com.')).toBe('_x.example.com');
  });

  it('what cannot be a DNS name is refused with one line', () => {
    for (const bad of [
      'a b.example.com',
      'x..example.com',
      '-x.example.com',
      `${'a'.repeat(64)}.example.com`,
      'é.example',
    ]) {
      expect(() => parseEndpoint(bad)).toThrow(UsageError);
    }
  });
});
