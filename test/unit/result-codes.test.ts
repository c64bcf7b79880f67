import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHECK_CODES, PROFILE_RESULT_CODES, ROUTE_CODES } from '../../checks/codes.js';
import { CREDENTIAL_PROBLEM_CODES } from '../../checks/local-util.js';
import { AUTH_SYMPTOM_CODES, TCP_BLOCK_HOW, TRANSPORT_TLS_CODES } from '../../src/diagnose/facts.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (rel: string): string => readFileSync(join(root, rel), 'utf8');
const literals = (text: string): string[] => [...text.matchAll(/'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!);

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) return tsFiles(rel);
    return name.endsWith('.ts') ? [rel] : [];
  });
}

/** The result codes a diagnosis rule reads: arguments of isCode / facts.is / facts.find / routeCells, code tables. */
function codesReadByRules(): Map<string, string> {
  const read_ = new Map<string, string>();
  for (const file of tsFiles('src/diagnose')) {
    const text = read(file);
    const spans = [
      ...text.matchAll(/isCode\(([^()]*(?:\([^()]*\)[^()]*)*)\)/g),
      ...text.matchAll(/\.is\(('[^']*',[^)]*)\)/g),
      ...text.matchAll(/\.find\('[^']*', \[([^\]]*)\]\)/g),
      ...text.matchAll(/routeCells\(\[([^\]]*)\]/g),
      ...text.matchAll(/ResultCode\[\] = ([^;]*);/g),
      ...text.matchAll(/Record<ResultCode, [^>]*>>* = \{([^}]*)\}/g),
    ].map((m) => m[1]!);
    for (const span of spans) {
      for (const code of [...literals(span), ...[...span.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!)]) {
        read_.set(code, file);
      }
    }
  }
  return read_;
}

describe('result codes', () => {
  it('every result code a diagnosis rule reads is in some check list (or a route, profile or runner list)', () => {
    const codes = codesReadByRules();
    expect(codes.size).toBeGreaterThan(60);
    const fromChecks = new Set<string>([...Object.values(CHECK_CODES).flat(), ...ROUTE_CODES, ...PROFILE_RESULT_CODES]);
    for (const [code, file] of codes) expect(fromChecks.has(code), `${code} read in ${file}`).toBe(true);
    for (const code of [...TRANSPORT_TLS_CODES, ...AUTH_SYMPTOM_CODES, ...Object.keys(TCP_BLOCK_HOW)]) {
      expect(fromChecks.has(code), code).toBe(true);
    }
  });

  it("each check file's code literals are in that check's exported list", () => {
    for (const [id, codes] of Object.entries(CHECK_CODES)) {
      const text = read(`checks/${id.replace(/\./g, '-')}.ts`);
      const emitted = [...text.matchAll(/code: '([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!);
      for (const code of emitted) expect(codes as readonly string[], `${id} emits ${code}`).toContain(code);
    }
  });

  it('the credential problem codes are exactly the ones the credential loader can add', () => {
    const added = new Set<string>();
    for (const file of tsFiles('src/probes')) {
      for (const m of read(file).matchAll(/\badd\(\s*'([A-Z][A-Z0-9_]+)'/g)) added.add(m[1]!);
      for (const m of read(file).matchAll(/code: '((?:CERT|KEY|CA|P12)_[A-Z0-9_]+)'/g)) added.add(m[1]!);
    }
    expect(added.size).toBeGreaterThan(20);
    expect([...added].sort()).toEqual([...CREDENTIAL_PROBLEM_CODES].sort());
  });
});
