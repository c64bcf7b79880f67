/**
 * Issue 17 points 9 and 10: a report read back is validated against its JSON Schema (one line naming the first
 * invalid field, never a renderer's crash), and --redact drops certificates as PEM. The report loader is
 * property-tested with mutated reports (fast-check, bounded runs).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { FORMATS, parseReport, redactReport, renderReport } from '../../src/report/index.js';
import { fieldPath } from '../../src/report/validate.js';

const sampleText = readFileSync(fileURLToPath(new URL('../fixtures/report-sample.json', import.meta.url)), 'utf8');
const sample = (): Record<string, unknown> => JSON.parse(sampleText) as Record<string, unknown>;

function refusal(text: string): string {
  try {
    parseReport(text, 'r.json');
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message.split('\n')).toHaveLength(1);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('reports read back', () => {
  it('the sample report is valid', () => expect(parseReport(sampleText).results.length).toBeGreaterThan(0));

  it('diagnosis [{}] is named, not a crash in a renderer', () => {
    const r = { ...sample(), diagnosis: [{}] };
    expect(refusal(JSON.stringify(r))).toBe(
      "r.json does not match the iot-doctor report schema: diagnosis[0]: must have required property 'code'",
    );
  });

  it('a wrong type deep in a result names its path', () => {
    const r = sample();
    (r['results'] as Record<string, unknown>[])[2]!['durationMs'] = 'slow';
    expect(refusal(JSON.stringify(r))).toMatch(/: results\[2\]\.durationMs: must be /);
  });

  it('JSON pointers become field paths', () => {
    expect(fieldPath('')).toBe('(report)');
    expect(fieldPath('/results/3/evidence/a~1b')).toBe('results[3].evidence.a/b');
  });

  it('property: any mutation of a report is either rendered in every format or refused with one UsageError', () => {
    const base = sample();
    const paths = fc.constantFrom(
      'diagnosis',
      'results',
      'summary',
      'target',
      'tool',
      'exitCode',
      'startedAt',
      'durationMs',
    );
    const junk = fc.oneof(
      fc.constant(null),
      fc.constant([{}]),
      fc.integer(),
      fc.string({ maxLength: 20 }),
      fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    );
    fc.assert(
      fc.property(paths, junk, fc.nat({ max: 20 }), (key, value, index) => {
        const r = structuredClone(base);
        const list = r[key];
        if (Array.isArray(list) && list.length > 0 && index % 2 === 0) list[index % list.length] = value;
        else r[key] = value;
        let report;
        try {
          report = parseReport(JSON.stringify(r), 'r.json');
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError);
          return;
        }
        for (const f of FORMATS) expect(typeof renderReport(report, f, { color: false })).toBe('string');
      }),
      { numRuns: 150 },
    );
  });
});

describe('--redact', () => {
  it('drops every certificate PEM (their SANs carry the names it removes) and keeps subject, issuer, fingerprints', () => {
    const r = parseReport(sampleText);
    const tls = r.results.find((x) => x.stage === 'tls')!;
    const endpoint = r.target.endpoint;
    const pem = `-----BEGIN CERTIFICATE-----\nMIIB${Buffer.from(endpoint).toString('base64')}\n-----END CERTIFICATE-----\n`;
    tls.evidence['chain'] = [
      { subject: `CN=${endpoint}`, issuer: 'CN=Amazon RSA 2048 M01', fingerprint256: 'AA:BB', pem },
    ];
    tls.evidence['serverPem'] = pem;
    const text = JSON.stringify(redactReport(r));
    expect(text).not.toContain('BEGIN CERTIFICATE');
    expect(text).not.toContain(Buffer.from(endpoint).toString('base64'));
    expect(text).toContain('"fingerprint256":"AA:BB"');
    expect(text).toContain('CN=xxxxxxxx');
    expect(text).toContain('[PEM removed by --redact]');
  });
});
