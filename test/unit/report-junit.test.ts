import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { countStatuses, type CheckResult, type Report } from '../../src/model/index.js';
import { renderJunit, xmlAttr, xmlText } from '../../src/report/junit.js';

const sample = (): Report =>
  JSON.parse(readFileSync(new URL('../fixtures/report-sample.json', import.meta.url), 'utf8')) as Report;
const XSD = fileURLToPath(new URL('../fixtures/junit.xsd', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'iot-doctor-junit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, xml: string): string {
  const p = join(dir, name);
  writeFileSync(p, xml);
  return p;
}

/** A report whose texts hold everything XML must escape, control characters and ANSI colour included. */
function nasty(): Report {
  const r = sample();
  const bad = 'a<b>&"c"\'d\' \u0007bell \u001b[31mred\u001b[39m ]]> end';
  const cell = r.results.find((x) => x.id === 'route.mqtt-8883.tcp')!;
  cell.summary = bad;
  cell.hint = `hint ${bad}`;
  cell.reproduce = `printf 'x<y>' | openssl s_client -connect "h:1" && echo ]]>`;
  r.results.push({
    id: 'cloud.crashing',
    route: null,
    stage: null,
    title: `Thing ${bad}`,
    status: 'error',
    code: 'CHECK_CRASHED',
    summary: bad,
    evidence: {},
    durationMs: 3,
  });
  r.diagnosis[0]!.title = `title ${bad}`;
  r.summary = countStatuses(r.results);
  return r;
}

const xmllint = (() => {
  try {
    execFileSync('xmllint', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!xmllint) console.warn('report-junit: XSD validation skipped, xmllint not found (Debian package libxml2-utils)');

/** The part of test-results-parser's result this test reads. */
interface ParsedCase {
  name: string;
  status: string;
  failure: string;
  stack_trace: string;
}
interface ParsedSuite {
  name: string;
  metadata: object;
  cases: ParsedCase[];
}
interface Parsed {
  passed: number;
  failed: number;
  errors: number;
  skipped: number;
  suites: ParsedSuite[];
}
type ParseJunit = (opts: { type: string; files: string[] }) => Parsed;
const CONSUMER = 'test-results-parser';
const consumer: ParseJunit | undefined = await import(CONSUMER).then(
  (m: { parse: ParseJunit }) => m.parse,
  () => undefined,
);
if (!consumer)
  console.warn('report-junit: CI consumer check skipped, devDependency test-results-parser is not installed');

describe('JUnit XML', () => {
  it('one testsuite per route, then local, cloud and diagnosis', () => {
    const xml = renderJunit(sample());
    const names = [...xml.matchAll(/<testsuite name="([^"]+)"/g)].map((m) => m[1]);
    expect(names).toEqual([
      'route mqtt-8883',
      'route mqtt-443',
      'route https-8443',
      'route https-443',
      'local',
      'cloud',
      'diagnosis',
    ]);
  });

  it('failures carry the code, summary, hint and reproduce command; skips are <skipped/>', () => {
    const xml = renderJunit(sample());
    expect(xml).toContain(
      '<failure type="TCP_TIMEOUT" message="TCP_TIMEOUT: 198.51.100.23:8883: no answer from 198.51.100.23:8883 within 5000 ms">',
    );
    expect(xml).toMatch(/hint: Packets to port 8883 are silently dropped/);
    expect(xml).toContain('reproduce: nc -vz -w 5 198.51.100.23 8883');
    expect(xml).toContain('<skipped message="SKIPPED: blocked by tcp: TCP_TIMEOUT"/>');
    expect(xml).toContain('<failure type="PORT_BLOCKED"');
  });

  it('status error becomes <error>, and everything is escaped', () => {
    const xml = renderJunit(nasty());
    expect(xml).toContain('<error type="CHECK_CRASHED"');
    expect(xml).not.toContain('\u001b');
    expect(xml).not.toContain('\u0007');
    expect(xml).not.toMatch(/<b>/);
    expect(xml).toContain('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
    expect(xml).toContain(']]&gt; end');
  });

  it('a warning passes, unless the run failed on warnings (--strict)', () => {
    const r = sample();
    expect(renderJunit(r)).toMatch(
      /<testcase name="cert.validity: [^"]*" classname="iot-doctor.cert" time="[\d.]+">\n\s+<system-out>WARNING CERT_EXPIRES_SOON/,
    );
    const strict: Report = {
      ...r,
      results: r.results.map((x): CheckResult => (x.status === 'fail' ? { ...x, status: 'pass', code: 'TCP_OK' } : x)),
      exitCode: 1,
    };
    expect(renderJunit(strict)).toContain(
      '<failure type="CERT_EXPIRES_SOON" message="warning (strict) CERT_EXPIRES_SOON:',
    );
  });

  it('counts agree with the report', () => {
    const r = sample();
    const xml = renderJunit(r);
    const top = /<testsuites [^>]*tests="(\d+)" failures="(\d+)" errors="(\d+)" skipped="(\d+)"/.exec(xml)!;
    const findingFailures = r.diagnosis.filter((f) => f.severity === 'critical' || f.severity === 'error').length;
    expect(Number(top[1])).toBe(r.results.length + r.diagnosis.length);
    expect(Number(top[2])).toBe(r.summary.fail + findingFailures);
    expect(Number(top[3])).toBe(r.summary.error);
    expect(Number(top[4])).toBe(r.summary.skip);
  });

  it('escape helpers', () => {
    expect(xmlText('<&>')).toBe('&lt;&amp;&gt;');
    expect(xmlAttr('a"b\'c\nd\te')).toBe('a&quot;b&apos;c&#10;d&#9;e');
    expect(xmlText('x\u0000y\uD800z')).toBe('x\uFFFDy\uFFFDz');
    expect(xmlText('😀')).toBe('😀');
  });

  describe.skipIf(!xmllint)('validates against the JUnit schema (xmllint --schema)', () => {
    for (const [name, report] of [
      ['sample', sample()],
      ['nasty', nasty()],
    ] as const) {
      it(`${name} report`, () => {
        const file = write(`${name}.xml`, renderJunit(report));
        const out = execFileSync('xmllint', ['--noout', '--schema', XSD, file], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        expect(out).toBe('');
      });
    }

    it('the schema rejects a broken document (it does check)', () => {
      const file = write('broken.xml', renderJunit(sample()).replace('tests="7"', 'tests="seven"'));
      expect(() => execFileSync('xmllint', ['--noout', '--schema', XSD, file], { stdio: 'pipe' })).toThrow();
    });
  });

  it.skipIf(!consumer)(
    'a CI consumer (test-results-parser, as used by TestBeats) reads the same totals and messages',
    () => {
      const r = nasty();
      const parsed = consumer!({ type: 'junit', files: [write('consumer.xml', renderJunit(r))] });
      const findingFailures = r.diagnosis.filter((f) => f.severity === 'critical' || f.severity === 'error').length;
      expect(parsed.failed).toBe(r.summary.fail + findingFailures);
      expect(parsed.errors).toBe(r.summary.error);
      expect(parsed.skipped).toBe(r.summary.skip);
      expect(parsed.passed).toBe(r.summary.pass + r.summary.warn + r.diagnosis.length - findingFailures);
      expect(parsed.suites.map((s) => s.name)).toEqual([
        'route mqtt-8883',
        'route mqtt-443',
        'route https-8443',
        'route https-443',
        'local',
        'cloud',
        'diagnosis',
      ]);
      const route8883 = parsed.suites[0]!;
      const tcp = route8883.cases.find((c) => c.name.startsWith('tcp:'))!;
      expect(tcp.status).toBe('FAIL');
      expect(tcp.failure).toBe('TCP_TIMEOUT: a<b>&"c"\'d\' \uFFFDbell red ]]> end');
      expect(tcp.stack_trace).toContain('reproduce: printf \'x<y>\' | openssl s_client -connect "h:1" && echo ]]>');
      expect(route8883.cases.filter((c) => c.status === 'SKIP')).toHaveLength(5);
      expect(String((route8883.metadata as Record<string, unknown>)['port'])).toBe('8883');
      const crashed = parsed.suites
        .find((s) => s.name === 'cloud')!
        .cases.find((c) => c.name.startsWith('cloud.crashing'))!;
      expect(crashed.status).toBe('FAIL');
    },
  );
});
