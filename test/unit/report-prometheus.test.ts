import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CheckResult, Report } from '../../src/model/index.js';
import { writeExposition } from '../../src/report/exposition.js';
import { renderPrometheus } from '../../src/report/prometheus.js';
import { summarizeAttempts } from '../../src/repeat.js';
import { HAS_PROMTOOL, parseSamples, promtoolCheckMetrics } from '../helpers/promtool.js';
import { allRoutes, check, fail, fixtureReport, localPasses } from './diagnose-fixtures.js';

const sample = (): Report =>
  JSON.parse(readFileSync(new URL('../fixtures/report-sample.json', import.meta.url), 'utf8')) as Report;

function report(results?: CheckResult[], extra: { profile?: string; strict?: boolean } = {}): Report {
  return fixtureReport(results, {
    ...(extra.strict ? { strict: true } : {}),
    ...(extra.profile ? { siteProfile: extra.profile } : {}),
    durationMs: 1234.4,
  });
}

/** promtool must accept the text with no lint finding at all. */
function expectPromtoolClean(text: string): void {
  if (!HAS_PROMTOOL) return;
  const r = promtoolCheckMetrics(text);
  expect(r.output, 'promtool check metrics output').toBe('');
  expect(r.status).toBe(0);
}

if (!HAS_PROMTOOL)
  console.log('promtool not installed (Debian package prometheus): exposition checks by promtool skipped');

describe('--format prometheus', () => {
  it('a healthy run: probe_success 1, 28 passing stages, 4 routes up, promtool clean', () => {
    const text = renderPrometheus(report());
    expectPromtoolClean(text);
    const s = parseSamples(text);
    expect(s.get('probe_success')).toBe(1);
    expect(s.get('iot_doctor_probe_success')).toBe(1);
    expect(s.get('probe_duration_seconds')).toBe(1.234);
    expect(s.get('iot_doctor_probe_duration_seconds')).toBe(1.234);
    const stages = [...s].filter(([k]) => k.startsWith('iot_doctor_stage_success{'));
    expect(stages).toHaveLength(28);
    expect(stages.every(([, v]) => v === 1)).toBe(true);
    expect(s.get('iot_doctor_route_up{route="mqtt-443"}')).toBe(1);
    expect(s.get('iot_doctor_stage_duration_seconds{route="https-443",stage="tls"}')).toBe(0.01);
    expect(s.get('iot_doctor_certificate_expiry_timestamp_seconds{certificate="device"}')).toBe(
      Date.UTC(2027, 0, 1) / 1000,
    );
    expect(text.endsWith('\n')).toBe(true);
    // Every family announces itself before its samples.
    for (const name of new Set([...s.keys()].map((k) => k.replace(/[{ ].*$/, '')))) {
      expect(text, name).toMatch(new RegExp(`# HELP ${name} .+\\n# TYPE ${name} (gauge|summary)\\n${name}`));
    }
  });

  it('the sample report (8883 and 8443 blocked): failed stages 0, skipped ones 0 without a duration, findings, expiries', () => {
    const text = renderPrometheus(sample());
    expectPromtoolClean(text);
    const s = parseSamples(text);
    expect(s.get('probe_success')).toBe(0);
    expect(s.get('iot_doctor_exit_code')).toBe(1);
    expect(s.get('iot_doctor_stage_success{route="mqtt-8883",stage="tcp"}')).toBe(0);
    expect(s.get('iot_doctor_stage_success{route="mqtt-8883",stage="tls"}')).toBe(0);
    expect(s.has('iot_doctor_stage_duration_seconds{route="mqtt-8883",stage="tls"}')).toBe(false);
    expect(s.get('iot_doctor_stage_duration_seconds{route="mqtt-8883",stage="tcp"}')).toBeGreaterThan(4);
    expect(s.get('iot_doctor_route_up{route="mqtt-8883"}')).toBe(0);
    expect(s.get('iot_doctor_route_up{route="mqtt-443"}')).toBe(1);
    expect(s.get('iot_doctor_diagnosis{code="PORT_BLOCKED",severity="error"}')).toBe(1);
    expect(s.get('iot_doctor_check_success{check="cert.validity"}')).toBe(1); // a warning is not a failure
    expect(s.get('iot_doctor_results{status="fail"}')).toBe(2);
    expect(s.get('iot_doctor_certificate_expiry_timestamp_seconds{certificate="device"}')).toBe(
      Date.UTC(2026, 7, 4, 12) / 1000,
    );
    expect(s.get('iot_doctor_certificate_expiry_timestamp_seconds{certificate="server"}')).toBe(
      Date.UTC(2027, 2, 11, 23, 59, 59) / 1000,
    );
    expect(s.get('probe_ssl_earliest_cert_expiry')).toBe(Date.UTC(2027, 2, 11, 23, 59, 59) / 1000);
    // No free text, addresses or client ids in label values.
    expect(text).not.toContain('198.51.100');
    expect(text).not.toContain('iot-doctor-');
    expect(text).not.toContain(sample().target.endpoint);
  });

  it('a route blocked as the site profile expects: probe_success 1 and an expected_blocked series', () => {
    const r = report(
      [
        ...localPasses(),
        ...allRoutes({
          'mqtt-8883': { tcp: fail('TCP_TIMEOUT', { port: 8883 }) },
          'https-8443': { tcp: fail('TCP_TIMEOUT', { port: 8443 }) },
        }),
      ],
      { profile: '443-only' },
    );
    const text = renderPrometheus(r);
    expectPromtoolClean(text);
    const s = parseSamples(text);
    expect(r.exitCode).toBe(0);
    expect(s.get('probe_success')).toBe(1);
    expect(s.get('iot_doctor_route_up{route="mqtt-8883"}')).toBe(0);
    expect(s.get('iot_doctor_route_expected_blocked{route="mqtt-8883"}')).toBe(1);
    expect(s.has('iot_doctor_route_expected_blocked{route="mqtt-443"}')).toBe(false);
    expect(s.get('iot_doctor_stage_duration_seconds{route="mqtt-8883",stage="tcp"}')).toBe(0.01);
  });

  it('a check that could not complete: probe_success 0, exit code 2, check_success 0', () => {
    const r = report([...localPasses(), check('cloud.certificate', 'CHECK_TIMEOUT', 'error'), ...allRoutes()]);
    const s = parseSamples(renderPrometheus(r));
    expect(s.get('probe_success')).toBe(0);
    expect(s.get('iot_doctor_exit_code')).toBe(2);
    expect(s.get('iot_doctor_check_success{check="cloud.certificate"}')).toBe(0);
    expectPromtoolClean(renderPrometheus(r));
  });

  it('--repeat statistics: a summary with quantiles 0.5/0.95/1 and failure ratios', () => {
    const ok = [...localPasses(), ...allRoutes()];
    const slow = allRoutes({ 'mqtt-8883': { tcp: { durationMs: 300 } } });
    const refused = allRoutes({ 'mqtt-8883': { tcp: fail('TCP_REFUSED', {}, { durationMs: 2 }) } });
    const attempts = [ok, slow, refused, ok].map((results) => ({ results, durationMs: 100 }));
    const r: Report = { ...report(), repeat: summarizeAttempts(attempts, 250) };
    const text = renderPrometheus(r);
    expectPromtoolClean(text);
    const s = parseSamples(text);
    expect(s.get('iot_doctor_probe_attempts')).toBe(4);
    expect(s.get('iot_doctor_probe_failed_attempts')).toBe(1);
    // tcp durations of mqtt-8883: 10, 300, 2, 10 ms -> sorted 2, 10, 10, 300: p50 = 10, p95 = max = 300.
    expect(s.get('iot_doctor_stage_attempt_duration_seconds{route="mqtt-8883",stage="tcp",quantile="0.5"}')).toBe(0.01);
    expect(s.get('iot_doctor_stage_attempt_duration_seconds{route="mqtt-8883",stage="tcp",quantile="0.95"}')).toBe(0.3);
    expect(s.get('iot_doctor_stage_attempt_duration_seconds{route="mqtt-8883",stage="tcp",quantile="1"}')).toBe(0.3);
    expect(s.get('iot_doctor_stage_attempt_failure_ratio{route="mqtt-8883",stage="tcp"}')).toBe(0.25);
    // tls was reached 3 times of 4, never failed.
    expect(s.get('iot_doctor_stage_attempt_failure_ratio{route="mqtt-8883",stage="tls"}')).toBe(0);
    expect(s.get('iot_doctor_route_attempt_failure_ratio{route="mqtt-8883"}')).toBe(0.25);
    expect(s.get('iot_doctor_route_attempt_failure_ratio{route="https-443"}')).toBe(0);
  });

  it('escapes label values and HELP text the way the format demands', () => {
    const text = writeExposition([
      {
        name: 'x_info',
        help: 'back\\slash and\nnewline',
        type: 'gauge',
        samples: [
          { labels: { v: 'a"b\\c\nd' }, value: 1 },
          { labels: { v: 'a"b\\c\nd' }, value: 2 },
        ],
      },
      { name: 'x_empty', help: 'no samples', type: 'gauge', samples: [] },
      {
        name: 'x_special',
        help: 'special values',
        type: 'gauge',
        samples: [
          { labels: { k: 'nan' }, value: NaN },
          { labels: { k: 'inf' }, value: Infinity },
        ],
      },
    ]);
    expect(text).toBe(
      '# HELP x_info back\\\\slash and\\nnewline\n# TYPE x_info gauge\nx_info{v="a\\"b\\\\c\\nd"} 1\n' +
        '# HELP x_special special values\n# TYPE x_special gauge\nx_special{k="nan"} NaN\nx_special{k="inf"} +Inf\n',
    );
    expectPromtoolClean(text);
    expect(() => writeExposition([{ name: 'bad-name', help: 'h', type: 'gauge', samples: [{ value: 1 }] }])).toThrow(
      /metric name/,
    );
    expect(() =>
      writeExposition([{ name: 'ok', help: 'h', type: 'gauge', samples: [{ labels: { __x: 'y' }, value: 1 }] }]),
    ).toThrow(/label name/);
  });
});
