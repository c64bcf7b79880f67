/**
 * Flags validated against AWS IoT's limits before any network step (issue 17 points 4-6): each refusal is a
 * UsageError naming the limit and its source; the parsers of outside input never throw anything else
 * (fast-check, bounded runs).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { targetFromArgs } from '../../src/commands.js';
import { UsageError } from '../../src/errors.js';
import { defaultTopicFor, parseKeepalive, parseTopic, shorten } from '../../src/flag-limits.js';
import { parseConnectTo, parseResolve, parseTimeout, unmatchedConnectTo } from '../../src/target.js';

const ENDPOINT = 'abc123-ats.iot.eu-west-1.amazonaws.com';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message.split('\n')).toHaveLength(1);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('--topic', () => {
  const refused: [string, RegExp][] = [
    ['', /is empty/],
    ['a/#', /wildcard .*MQTT 3\.1\.1 §4\.7\.1/],
    ['a/+/b', /wildcard/],
    ['#', /wildcard/],
    ['a\u0000b', /U\+0000/],
    [
      'x'.repeat(65_536),
      /65536 bytes of UTF-8; AWS IoT accepts at most 256 \(AWS IoT message broker limits, facts §3\.1\)/,
    ],
    ['é'.repeat(129), /258 bytes of UTF-8/],
    ['a/b/c/d/e/f/g/h/i', /8 slashes; AWS IoT accepts at most 7/],
    ['$aws/rules/r/a/b/c/d/e/f/g/h/i', /8 slashes/],
  ];
  for (const [topic, message] of refused) {
    it(`refuses ${JSON.stringify(shorten(topic, 30))}`, () =>
      expect(refusal(() => parseTopic(topic))).toMatch(message));
  }
  it('accepts 256 bytes, 7 slashes, and 7 more after $aws/rules/<rule>/', () => {
    expect(parseTopic('t'.repeat(256))).toHaveLength(256);
    expect(parseTopic('a/b/c/d/e/f/g/h')).toBe('a/b/c/d/e/f/g/h');
    expect(parseTopic('$aws/rules/r/a/b/c/d/e/f/g/h')).toBe('$aws/rules/r/a/b/c/d/e/f/g/h');
  });
  it('shortens long values in messages', () => {
    const m = refusal(() => parseTopic('y'.repeat(70_000)));
    expect(m.length).toBeLessThan(250);
    expect(m).toContain('(70000 characters)');
  });
  it('property: any string is either a valid AWS topic or one UsageError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 200 })), (t) => {
        let ok: string | undefined;
        try {
          ok = parseTopic(t);
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError);
          return;
        }
        expect(ok).toBe(t);
        expect(Buffer.byteLength(t)).toBeLessThanOrEqual(256);
        expect(t).not.toMatch(/[#+\u0000]/);
        expect(t.replace(/^\$aws\/rules\/[^/]+\//, '').split('/').length - 1).toBeLessThanOrEqual(7);
      }),
      { numRuns: 500 },
    );
  });
});

describe('client id with # or +', () => {
  it('is accepted, but the default topic is never built from its wildcards', () => {
    const t = targetFromArgs({ endpoint: ENDPOINT, 'client-id': 'dev#1+x' });
    expect(t.clientId).toBe('dev#1+x');
    expect(t.topic).toBe('iot-doctor/dev_1_x/probe');
    expect(() => parseTopic(t.topic)).not.toThrow();
    expect(defaultTopicFor('plain-id')).toBe('iot-doctor/plain-id/probe');
  });
  it('a client id over 128 bytes names the limit and is shortened', () => {
    const m = refusal(() => targetFromArgs({ endpoint: ENDPOINT, 'client-id': 'd'.repeat(200) }));
    expect(m).toMatch(/at most 128 bytes .*facts §3\.1/);
    expect(m).toContain('(200 characters)');
  });
});

describe('--keepalive and --timeout', () => {
  it('keep-alive outside 30-1200 s is refused with its source', () => {
    for (const v of [0, 10, 29, 1201, 65535, 30.5])
      expect(refusal(() => parseKeepalive(v))).toMatch(/outside 30-1200 seconds.*facts §3\.1/);
    expect(parseKeepalive(30)).toBe(30);
    expect(parseKeepalive(1200)).toBe(1200);
    expect(parseKeepalive(undefined)).toBe(30);
  });
  it('a timeout below the 1000 ms floor is refused, and 1.5 reads as seconds meant', () => {
    expect(refusal(() => parseTimeout(1.5))).toMatch(/below the 1000 ms floor.*give 1500/);
    expect(refusal(() => parseTimeout(999))).toMatch(/below the 1000 ms floor/);
    expect(parseTimeout(1000)).toBe(1000);
  });
});

describe('--connect-to rules that match no route', () => {
  const target = (rules: string[], routes?: string[]) =>
    targetFromArgs({ endpoint: ENDPOINT, 'connect-to': rules, ...(routes ? { routes } : {}) });
  it('a rule for another host or port is named before probing; a matching one is not', () => {
    const t = target(
      [
        `other.example.com:8883:127.0.0.1:1`,
        `${ENDPOINT}:1883:127.0.0.1:2`,
        `${ENDPOINT}:8883:127.0.0.1:3`,
        '::[::1]:',
      ],
      ['mqtt-8883'],
    );
    const lines = unmatchedConnectTo(t);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      `--connect-to other.example.com:8883:127.0.0.1:1 matches no route of this run (they go to ${ENDPOINT}:8883): it is not used`,
    );
    expect(lines[1]).toMatch(/^--connect-to abc123-ats\S+:1883:127\.0\.0\.1:2 matches no route/);
  });
  it('the endpoint with a trailing dot is the same host (RFC 1034 §3.1)', () => {
    expect(unmatchedConnectTo(target([`${ENDPOINT}.:8883:127.0.0.1:3`]))).toEqual([]);
    expect(parseConnectTo(`${ENDPOINT.toUpperCase()}.:443:10.0.0.1:443`).host).toBe(ENDPOINT);
  });
  it('property: --connect-to and --resolve parsers throw only UsageError, for any input', () => {
    const part = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', '[::1]', '8883', '*', '127.0.0.1', ':'));
    fc.assert(
      fc.property(fc.array(part, { maxLength: 6 }), fc.string({ maxLength: 40 }), (parts, free) => {
        for (const spec of [parts.join(':'), free]) {
          for (const parse of [parseConnectTo, parseResolve]) {
            try {
              parse(spec);
            } catch (err) {
              expect(err).toBeInstanceOf(UsageError);
            }
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
