import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import type { Report } from '../../src/model/index.js';
import {
  FORMATS,
  FORMAT_EXTENSIONS,
  isReportFormat,
  parseReport,
  renderReport,
  scrubKeyMaterial,
} from '../../src/report/index.js';

const raw = readFileSync(new URL('../fixtures/report-sample.json', import.meta.url), 'utf8');
const sample = (): Report => JSON.parse(raw) as Report;

// Fake, truncated blocks, built from parts so that scans for committed keys do not take them for one.
const PK = 'PRIVATE' + ' KEY';
const KEY = [`-----BEGIN ${PK}-----`, 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', `-----END ${PK}-----`].join('\n');
const EC_KEY = [`-----BEGIN EC ${PK}-----`, 'MHcCAQEEIB', `-----END EC ${PK}-----`].join('\n');

describe('renderReport', () => {
  it('knows every format', () => {
    expect([...FORMATS]).toEqual(['table', 'json', 'junit', 'markdown', 'html', 'list', 'prometheus', 'nagios']);
    for (const f of FORMATS) {
      expect(FORMAT_EXTENSIONS[f]).toMatch(/^[a-z]+$/);
      const out = renderReport(sample(), f, { color: false });
      expect(out.length, f).toBeGreaterThan(100);
      expect(out.endsWith('\n'), f).toBe(true);
    }
    expect(isReportFormat('junit')).toBe(true);
    expect(isReportFormat('prometheus')).toBe(true);
    expect(isReportFormat('yaml')).toBe(false);
  });

  it('copes with a run without routes, results or findings', () => {
    const empty: Report = {
      ...sample(),
      results: [],
      diagnosis: [],
      summary: { pass: 0, warn: 0, fail: 0, skip: 0, error: 0 },
      exitCode: 0,
    };
    const localOnly: Report = { ...sample(), results: sample().results.filter((r) => !r.route) };
    for (const r of [empty, localOnly]) {
      for (const f of FORMATS) expect(() => renderReport(r, f, { color: false }), f).not.toThrow();
    }
    expect(renderReport(empty, 'markdown', { color: false })).toContain('No finding.');
    expect(renderReport(localOnly, 'html', { color: false })).not.toContain('id="matrix"');
  });

  it('json is the canonical report itself', () => {
    expect(JSON.parse(renderReport(sample(), 'json', { color: false }))).toEqual(sample());
  });

  it('colour only where asked, and only in terminal formats', () => {
    expect(renderReport(sample(), 'table', { color: true })).toContain('\u001b[');
    expect(renderReport(sample(), 'table', { color: false })).not.toContain('\u001b[');
    for (const f of ['json', 'junit', 'markdown', 'html'] as const)
      expect(renderReport(sample(), f, { color: true })).not.toContain('\u001b[');
  });

  it('never lets a private key through, in any format', () => {
    const r = sample();
    r.results[0]!.summary = `oops ${KEY}`;
    r.results[0]!.evidence = { leaked: EC_KEY };
    r.results[0]!.status = 'fail';
    for (const f of FORMATS) {
      const out = renderReport(r, f, { color: false });
      expect(out, f).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
      expect(out, f).not.toContain('MHcCAQEEIB');
    }
    expect(scrubKeyMaterial(`a ${KEY} b`)).toBe('a [private key removed] b');
    expect(scrubKeyMaterial(`-----BEGIN ENCRYPTED ${PK}-----\nabc`)).toBe('[private key removed]');
    expect(scrubKeyMaterial('-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----')).toContain(
      'BEGIN CERTIFICATE',
    );
  });
});

describe('parseReport', () => {
  it('reads a report', () => {
    expect(parseReport(raw)).toEqual(sample());
  });

  it('refuses what is not a report, with one clear line', () => {
    expect(() => parseReport('{', 'r.json')).toThrow(UsageError);
    expect(() => parseReport('{', 'r.json')).toThrow(/^r\.json is not valid JSON/);
    expect(() => parseReport('[]', 'r.json')).toThrow(/expected a JSON object/);
    expect(() => parseReport(JSON.stringify({ ...sample(), schemaVersion: 2 }), 'r.json')).toThrow(
      /schemaVersion 2; this iot-doctor reads schemaVersion 1/,
    );
    const broken = sample() as unknown as Record<string, unknown>;
    delete broken['results'];
    expect(() => parseReport(JSON.stringify(broken), 'r.json')).toThrow(/missing or malformed results/);
    const badResult = sample();
    (badResult.results[3] as unknown as Record<string, unknown>)['status'] = 'maybe';
    expect(() => parseReport(JSON.stringify(badResult), 'r.json')).toThrow(/results\[3\]/);
  });
});
