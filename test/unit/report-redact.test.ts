import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/model/index.js';
import { renderReport } from '../../src/report/index.js';
import { REDACTED_ACCOUNT, redactReport, redactText } from '../../src/report/redact.js';

const raw = readFileSync(new URL('../fixtures/report-sample.json', import.meta.url), 'utf8');
const sample = (): Report => JSON.parse(raw) as Report;

describe('redactReport', () => {
  it('removes the endpoint prefix, account ids, IP addresses and ARN accounts everywhere', () => {
    const red = redactReport(sample());
    const text = JSON.stringify(red);
    expect(text).not.toContain('a1b2c3d4e5f6g7');
    expect(text).not.toContain('123456789012');
    expect(text).not.toMatch(/198\.51\.100\.\d+/);
    expect(text).not.toContain('192.168.20.41');
    expect(text).not.toContain('2001:db8:4006:812::200e');
    expect(red.target.endpoint).toBe('xxxxxxxx-ats.iot.eu-west-1.amazonaws.com');
    const dns = red.results.find((r) => r.id === 'route.mqtt-443.dns')!;
    expect(dns.evidence['addresses']).toEqual(['x.x.x.1', 'x.x.x.2', 'xxxx::1']);
    const tcp = red.results.find((r) => r.id === 'route.mqtt-8883.tcp')!;
    expect(tcp.reproduce).toBe('nc -vz -w 5 x.x.x.1 8883');
    expect(tcp.summary).toBe('x.x.x.1:8883: no answer from x.x.x.1:8883 within 5000 ms');
    const cert = red.results.find((r) => r.id === 'cloud.certificate')!;
    expect(cert.evidence['certificateArn']).toBe(
      `arn:aws:iot:eu-west-1:${REDACTED_ACCOUNT}:cert/${sample().target.certificateId}`,
    );
    const creds = red.results.find((r) => r.id === 'cloud.credentials')!;
    expect(creds.summary).toBe(`credentials of account ${REDACTED_ACCOUNT} (profile factory-readonly)`);
    expect(red.diagnosis[0]!.remediation.join('\n')).toContain('xxxxxxxx-ats.iot.eu-west-1.amazonaws.com');
  });

  it('keeps what is not sensitive: fingerprints, certificate ids, timings, dates, versions', () => {
    const before = sample();
    const red = redactReport(before);
    expect(red.target.certificateId).toBe(before.target.certificateId);
    const tls = red.results.find((r) => r.id === 'route.mqtt-443.tls')!;
    expect(tls.evidence['chain']).toEqual(before.results.find((r) => r.id === 'route.mqtt-443.tls')!.evidence['chain']);
    expect(red.startedAt).toBe(before.startedAt);
    expect(red.results.map((r) => r.durationMs)).toEqual(before.results.map((r) => r.durationMs));
    expect(red.tool).toEqual(before.tool);
  });

  it('does not change its input and is idempotent', () => {
    const before = sample();
    const once = redactReport(before);
    expect(JSON.stringify(before)).toBe(JSON.stringify(JSON.parse(raw)));
    expect(redactReport(once)).toEqual(once);
  });

  it('distinct endpoints stay distinct', () => {
    const r = sample();
    r.results.push({
      id: 'cloud.endpoint',
      route: null,
      stage: null,
      title: 't',
      status: 'fail',
      code: 'ENDPOINT_OTHER_ACCOUNT',
      durationMs: 1,
      summary:
        'configured a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com, account has zz9988776655aa-ats.iot.eu-west-1.amazonaws.com',
      evidence: { accountEndpoint: 'zz9988776655aa-ats.iot.eu-west-1.amazonaws.com', prefix: 'zz9988776655aa' },
    });
    const red = redactReport(r).results.at(-1)!;
    expect(red.summary).toBe(
      'configured xxxxxxxx-ats.iot.eu-west-1.amazonaws.com, account has xxxxxxx2-ats.iot.eu-west-1.amazonaws.com',
    );
    expect(red.evidence).toEqual({ accountEndpoint: 'xxxxxxx2-ats.iot.eu-west-1.amazonaws.com', prefix: 'xxxxxxx2' });
  });

  it('text forms', () => {
    expect(redactText('legacy a1b2c3d4e5f6g7.iot.us-east-1.amazonaws.com')).toBe(
      'legacy xxxxxxxx.iot.us-east-1.amazonaws.com',
    );
    expect(redactText('[2001:db8::1]:8883 and ::ffff:10.0.0.1')).toBe('[xxxx::1]:8883 and xxxx::2');
    expect(redactText('account 123456789012.')).toBe(`account ${REDACTED_ACCOUNT}.`);
    expect(redactText('arn:aws:iam::123456789012:role/x')).toBe(`arn:aws:iam::${REDACTED_ACCOUNT}:role/x`);
    expect(redactText('time 10:11:12, fp AB:CD:EF:01, TLSv1.3, v0.1.0, 1.2.840.113549.1.1.11')).toBe(
      'time 10:11:12, fp AB:CD:EF:01, TLSv1.3, v0.1.0, 1.2.840.113549.1.1.11',
    );
    expect(redactText('1234567890123 is a timestamp')).toBe('1234567890123 is a timestamp');
  });

  it('every output format of a redacted report is free of the secrets', () => {
    const red = redactReport(sample());
    for (const format of ['table', 'json', 'junit', 'markdown', 'html', 'list'] as const) {
      const out = renderReport(red, format, { color: false });
      expect(out, format).not.toContain('a1b2c3d4e5f6g7');
      expect(out, format).not.toContain('123456789012');
      expect(out, format).not.toMatch(/198\.51\.100\./);
    }
  });
});
