import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CheckResult, Report } from '../../src/model/index.js';
import { nagiosExitCode, renderNagios } from '../../src/report/nagios.js';
import { summarizeAttempts } from '../../src/repeat.js';
import { allRoutes, check, fail, fixtureReport, localPasses } from './diagnose-fixtures.js';

function report(results?: CheckResult[], extra: { profile?: string; strict?: boolean } = {}): Report {
  return fixtureReport(results, {
    ...(extra.strict ? { strict: true } : {}),
    ...(extra.profile ? { siteProfile: extra.profile } : {}),
  });
}

// Monitoring-Plugins guidelines: 'label'=value[UOM];[warn];[crit];[min];[max], UOM one of s ms us % B KB MB TB c or none.
const PERF_ITEM = /^'[^'=]+'=-?\d+(\.\d+)?(s|ms|us|%|B|KB|MB|TB|c)?(;[^;\s]*){0,4}$/;

function parse(text: string): { state: string; summary: string; perf: string[]; long: string[] } {
  const [first, ...long] = text.trimEnd().split('\n');
  const m = /^IOT-DOCTOR (OK|WARNING|CRITICAL|UNKNOWN) - (.+?) \| (.+)$/.exec(first!);
  if (!m) throw new Error(`not a Nagios status line: ${first}`);
  return { state: m[1]!, summary: m[2]!, perf: m[3]!.split(' '), long };
}

const warnValidity = check('cert.validity', 'CERT_EXPIRES_SOON', 'warn', { notAfter: '2026-08-01T00:00:00Z' });
const blocked8883 = { 'mqtt-8883': { tcp: fail('TCP_TIMEOUT', { port: 8883 }, { durationMs: 5000 }) } };

describe('--format nagios', () => {
  const cases: [string, Report, number, string][] = [
    ['all pass', report([...localPasses(), ...allRoutes()]), 0, 'OK'],
    [
      'warnings only',
      report([...localPasses().filter((r) => r.id !== 'cert.validity'), warnValidity, ...allRoutes()]),
      1,
      'WARNING',
    ],
    [
      'warnings under --strict',
      report([...localPasses().filter((r) => r.id !== 'cert.validity'), warnValidity, ...allRoutes()], {
        strict: true,
      }),
      2,
      'CRITICAL',
    ],
    ['a route fails', report([...localPasses(), ...allRoutes(blocked8883)]), 2, 'CRITICAL'],
    [
      'a check could not complete',
      report([...localPasses(), check('cloud.endpoint', 'CHECK_TIMEOUT', 'error'), ...allRoutes()]),
      3,
      'UNKNOWN',
    ],
    [
      'a failure and an error: the failure wins',
      report([...localPasses(), check('cloud.endpoint', 'CHECK_CRASHED', 'error'), ...allRoutes(blocked8883)]),
      2,
      'CRITICAL',
    ],
    [
      'blocked as the site profile expects',
      report(
        [
          ...localPasses(),
          ...allRoutes({ ...blocked8883, 'https-8443': { tcp: fail('TCP_TIMEOUT', { port: 8443 }) } }),
        ],
        { profile: '443-only' },
      ),
      0,
      'OK',
    ],
  ];
  for (const [name, r, code, state] of cases) {
    it(`${name}: exit ${code} ${state}, a status line with valid perfdata`, () => {
      expect(nagiosExitCode(r)).toBe(code);
      const out = parse(renderNagios(r));
      expect(out.state).toBe(state);
      for (const item of out.perf) expect(item).toMatch(PERF_ITEM);
      expect(out.perf[0]).toBe("'duration'=0.412s;;;0");
    });
  }

  it('names the failing route and stage, counts routes, and lists the diagnosis as long output', () => {
    const r = report([...localPasses(), ...allRoutes(blocked8883)]);
    const out = parse(renderNagios(r));
    expect(out.summary).toBe('mqtt-8883 failed at tcp (TCP_TIMEOUT); 3 of 4 routes pass');
    expect(out.perf).toContain("'routes_ok'=3;;;0;4");
    expect(out.perf).toContain("'mqtt-8883'=5.010s;;;0"); // dns 10 ms + tcp 5000 ms
    // mqtt-443: seven stages of 10 ms each.
    expect(out.perf).toContain("'mqtt-443'=0.070s;;;0");
    expect(out.long.some((l) => l.startsWith('PORT_BLOCKED (error): '))).toBe(true);
  });

  it('under --repeat: failure share per route in percent and p95 per stage', () => {
    const ok = allRoutes();
    const attempts = [ok, allRoutes(blocked8883), ok, ok, ok].map((results) => ({ results, durationMs: 50 }));
    const r: Report = {
      ...report([...localPasses(), ...allRoutes(blocked8883)]),
      repeat: summarizeAttempts(attempts, 1000),
    };
    const out = parse(renderNagios(r));
    expect(out.summary).toContain('over 5 attempts (1 failed)');
    expect(out.perf).toContain("'mqtt-8883_failed'=20%;;;0;100");
    expect(out.perf).toContain("'mqtt-443_failed'=0%;;;0;100");
    expect(out.perf).toContain("'mqtt-8883_tcp_p95'=5.000s;;;0");
    for (const item of out.perf) expect(item).toMatch(PERF_ITEM);
  });

  it('the sample report renders as CRITICAL naming both blocked routes', () => {
    const sample = JSON.parse(
      readFileSync(new URL('../fixtures/report-sample.json', import.meta.url), 'utf8'),
    ) as Report;
    const out = parse(renderNagios(sample));
    expect(out.state).toBe('CRITICAL');
    expect(out.summary).toBe(
      'mqtt-8883 failed at tcp (TCP_TIMEOUT), https-8443 failed at tcp (TCP_TIMEOUT); 2 of 4 routes pass',
    );
  });
});
