/**
 * ANSWER_NOT_AWS_IOT (issue 17 point 3): an answer that is not MQTT / not HTTP is named as a middlebox or another
 * service, with certainty, and gets no certificate, policy or "auth rejected" advice.
 */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import { allRoutes, codes, fail, localPasses, only } from './diagnose-fixtures.js';

describe('ANSWER_NOT_AWS_IOT', () => {
  for (const [route, code] of [
    ['mqtt-8883', 'MQTT_NOT_MQTT'],
    ['mqtt-443', 'MQTT_PACKET_TOO_LARGE'],
    ['https-8443', 'HTTP_NOT_HTTP'],
    ['https-443', 'HTTP_RESPONSE_TOO_LARGE'],
  ] as const) {
    it(`${route} ${code}: the foreign answer is the finding, with no auth or policy finding`, () => {
      const summary = 'the server answered with bytes that are not MQTT (12 bytes: 48 54 54 50 …)';
      const findings = diagnose([
        ...localPasses(),
        ...allRoutes({ [route]: { protocol: fail(code, {}, { summary }) } }),
      ]);
      const f = only(findings, 'ANSWER_NOT_AWS_IOT');
      expect(f.confidence).toBe('certain');
      expect(f.evidence).toEqual([`route.${route}.protocol`]);
      expect(f.explanation).toContain(summary);
      expect(codes(findings)).not.toContain('AUTH_REJECTED_UNEXPLAINED');
      expect(codes(findings)).not.toContain('UNEXPLAINED_FAILURE');
      expect(f.remediation.join(' ')).not.toMatch(/polic|certificate status/i);
    });
  }

  it('says nothing when every answer was AWS IoT', () => {
    expect(codes(diagnose([...localPasses(), ...allRoutes()]))).not.toContain('ANSWER_NOT_AWS_IOT');
  });
});

describe('TLS_HANDSHAKE_TOO_LARGE', () => {
  it('a handshake flight cut at the cap is the finding: certain, no certificate or policy advice, nothing else', () => {
    const summary = 'the server sent more than 65536 bytes without completing the handshake (9 records)';
    const findings = diagnose([
      ...localPasses(),
      ...allRoutes({ 'mqtt-8883': { tls: fail('TLS_HANDSHAKE_TOO_LARGE', { bytesFromServer: 70000 }, { summary }) } }),
    ]);
    const f = only(findings, 'TLS_HANDSHAKE_TOO_LARGE');
    expect(f.confidence).toBe('certain');
    expect(f.evidence).toEqual(['route.mqtt-8883.tls']);
    expect(f.explanation).toContain(summary);
    expect(codes(findings)).not.toContain('UNEXPLAINED_FAILURE');
    expect(codes(findings)).not.toContain('TLS_INTERCEPTED');
    expect(f.remediation.join(' ')).not.toMatch(/polic|certificate status|CA file/i);
  });
});
