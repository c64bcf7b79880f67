import { describe, expect, it } from 'vitest';
import { contradictions, diagnose } from '../../src/diagnose/index.js';
import { AMAZON_CHAIN, allRoutes, check, codes, fail, localPasses, only } from './diagnose-fixtures.js';

const without = (...ids: string[]) => localPasses().filter((r) => !ids.includes(r.id));

describe('CLOCK_SKEW', () => {
  it('a measured skew with everything working is a warning', () => {
    const results = [
      ...without('clock.skew'),
      check('clock.skew', 'CLOCK_SKEW', 'warn', { offsetSeconds: -600, serverDate: 'Mon, 01 Jun 2026 10:10:00 GMT' }),
      ...allRoutes(),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'CLOCK_SKEW');
    expect(f.severity).toBe('warning');
    expect(f.confidence).toBe('certain');
    expect(f.params).toEqual({ offsetSeconds: -600, serverDate: 'Mon, 01 Jun 2026 10:10:00 GMT', localTime: null });
    expect(f.title).toBe('The clock is off by 10 minutes');
    expect(f.evidence).toEqual(['clock.skew']);
    expect(codes(findings)).toEqual(['CLOCK_SKEW']);
  });

  it('explains a server certificate that looks not yet valid', () => {
    const results = [
      ...without('clock.skew'),
      check('clock.skew', 'CLOCK_SKEW', 'warn', { offsetSeconds: -86_400 * 400 }),
      ...allRoutes({ 'mqtt-8883': { tls: fail('TLS_SERVER_CERT_NOT_YET_VALID', { chain: AMAZON_CHAIN }) } }),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'CLOCK_SKEW');
    expect(f.severity).toBe('error');
    expect(f.evidence).toEqual(['clock.skew', 'route.mqtt-8883.tls']);
    expect(codes(findings)).not.toContain('TLS_INTERCEPTED');
    expect(codes(findings)).not.toContain('UNEXPLAINED_FAILURE');
  });

  it('a clock that looks unset (before 2020)', () => {
    const results = [
      ...without('cert.validity', 'clock.skew'),
      check('cert.validity', 'CLOCK_LOOKS_UNSET', 'warn', { now: '1970-01-01T00:00:42Z' }),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'CLOCK_LOOKS_UNSET');
    expect(f.confidence).toBe('certain');
    expect(f.severity).toBe('warning');
    expect(f.params).toEqual({ localTime: '1970-01-01T00:00:42Z', offsetSeconds: null, explains: [] });
    expect(f.evidence).toEqual(['cert.validity']);
    expect(codes(findings)).not.toContain('CLOCK_SKEW');
    expect(contradictions(findings, results)).toEqual([]);
  });

  it('the certificate is invalid by the local clock but valid by the server clock', () => {
    const results = [
      ...without('cert.validity', 'clock.skew'),
      check('cert.validity', 'CERT_NOT_YET_VALID', 'fail', {
        notBefore: '2026-01-01T00:00:00Z',
        now: '2025-01-01T00:00:00Z',
      }),
      check('clock.cert-validity', 'CERT_VALID_BY_SERVER_CLOCK'),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'CLOCK_SKEW');
    expect(f.confidence).toBe('certain');
    expect(f.severity).toBe('error');
    expect(f.params['localTime']).toBe('2025-01-01T00:00:00Z');
    expect(f.evidence).toEqual(['cert.validity', 'clock.cert-validity']);
    expect(codes(findings)).toEqual(['CLOCK_SKEW']);
  });
});
