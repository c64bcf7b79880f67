import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allPages, catalogueMarkdown, pageFor } from '../../src/catalogue/index.js';
import { DIAGNOSIS_CODES } from '../../src/diagnose/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'src', 'bin.js');

describe('diagnosis catalogue', () => {
  it('docs/codes.md is the generated catalogue (regenerate: node dist/src/bin.js explain --markdown > docs/codes.md)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'codes.md'), 'utf8')).toBe(catalogueMarkdown());
  });

  it('every finding code has a page, and every page is a finding code', () => {
    const pages = allPages().map((p) => p.code);
    expect(pages).toEqual([...DIAGNOSIS_CODES]);
    for (const p of allPages()) {
      for (const l of p.lookAlikes) expect(DIAGNOSIS_CODES as readonly string[]).toContain(l.code);
      expect(p.remedy.length).toBeGreaterThan(0);
      expect(p.confirm.length).toBeGreaterThan(0);
    }
  });

  it('every code has a written page (a new code brings its page, in the pages file of its rule module)', () => {
    expect(
      allPages()
        .filter((p) => p.written === false)
        .map((p) => p.code),
    ).toEqual([]);
    for (const p of allPages()) {
      expect(p.meaning.length, p.code).toBeGreaterThan(40);
      expect(p.decides.length, p.code).toBeGreaterThan(40);
      expect(p.lookAlikes.length + (p.code === 'HEALTHY' ? 1 : 0), p.code).toBeGreaterThan(0);
    }
  });

  it('the written pages cover the clock, endpoint-name, TLS and policy codes', () => {
    for (const code of [
      'CLOCK_SKEW',
      'CERT_NOT_YET_VALID',
      'TLS_INTERCEPTED',
      'DNS_FAILURE',
      'POLICY_DENIES_CONNECT',
    ]) {
      expect(pageFor(code)?.written).not.toBe(false);
    }
    expect(pageFor('clock_skew')?.code).toBe('CLOCK_SKEW');
    expect(pageFor('NOT_A_CODE')).toBeUndefined();
  });

  it('iot-doctor explain CODE prints the page; explain lists all codes by family; an unknown code exits 2', () => {
    const page = execFileSync(process.execPath, [BIN, 'explain', 'CLOCK_SKEW'], { encoding: 'utf8' });
    expect(page).toMatch(/^CLOCK_SKEW {2}\(Clock\)/);
    expect(page).toContain('Confirm by hand:');
    expect(page).toContain('$ date -u');
    const list = execFileSync(process.execPath, [BIN, 'explain'], { encoding: 'utf8' });
    for (const code of DIAGNOSIS_CODES) expect(list).toContain(code);
    expect(list).toMatch(/^Files and credentials:/);
    const bad = spawnSync(process.execPath, [BIN, 'explain', 'NOPE'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stdout).toBe('');
  });
});
