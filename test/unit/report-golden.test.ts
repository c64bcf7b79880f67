/**
 * Golden files: the sample report rendered in every human and CI format must match byte for byte.
 * Refresh them (and the sample's diagnosis) after an intended change with UPDATE_GOLDEN=1.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import type { Report } from '../../src/model/index.js';
import { renderReport, type ReportFormat } from '../../src/report/index.js';

const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
const fixture = fileURLToPath(new URL('../fixtures/report-sample.json', import.meta.url));
const golden = (name: string): string => fileURLToPath(new URL(`../fixtures/golden/${name}`, import.meta.url));

function loadSample(): Report {
  return JSON.parse(readFileSync(fixture, 'utf8')) as Report;
}

describe('the sample report', () => {
  it('carries the diagnosis the rules give for its results', () => {
    const report = loadSample();
    const fresh = diagnose(report.results);
    if (UPDATE && JSON.stringify(fresh) !== JSON.stringify(report.diagnosis)) {
      writeFileSync(fixture, `${JSON.stringify({ ...report, diagnosis: fresh }, null, 2)}\n`);
      return;
    }
    expect(report.diagnosis).toEqual(fresh);
  });

  it('is realistic: two routes fail and the diagnosis names the cause', () => {
    const report = loadSample();
    const failingRoutes = new Set(report.results.filter((r) => r.route && r.status === 'fail').map((r) => r.route));
    expect([...failingRoutes]).toEqual(['mqtt-8883', 'https-8443']);
    expect(report.diagnosis[0]?.code).toBe('PORT_BLOCKED');
  });
});

const CASES: [ReportFormat, string][] = [
  ['junit', 'report.junit.xml'],
  ['markdown', 'report.md'],
  ['html', 'report.html'],
  ['table', 'report.txt'],
];

describe('golden renderings', () => {
  for (const [format, file] of CASES) {
    it(`${format} matches test/fixtures/golden/${file}`, () => {
      const out = renderReport(loadSample(), format, { color: false });
      if (UPDATE) {
        writeFileSync(golden(file), out);
        return;
      }
      let expected: string;
      try {
        expected = readFileSync(golden(file), 'utf8');
      } catch {
        throw new Error(`golden file test/fixtures/golden/${file} is missing: run the tests once with UPDATE_GOLDEN=1`);
      }
      expect(out).toBe(expected);
    });
  }
});
