/**
 * The wrong verdicts of issue 18, each rebuilt from the results the field runs produced: the first finding names
 * the cause the evidence shows, no two findings contradict each other or a cell, and the first remedy fits the run.
 * The same kinds run against the lab in test/integration/diagnosis-verdicts.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { contradictions, diagnose } from '../../src/diagnose/index.js';
import type { CheckResult, Finding } from '../../src/model/index.js';
import { AMAZON_CHAIN, ENDPOINT, allRoutes, check, codes, fail, localPasses, only } from './diagnose-fixtures.js';

const without = (...ids: string[]): CheckResult[] => localPasses().filter((r) => !ids.includes(r.id));
const FOUR = ['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443'] as const;
const everyRoute = (stage: string, o: ReturnType<typeof fail>) =>
  allRoutes(Object.fromEntries(FOUR.map((r) => [r, { [stage]: o }])));

function verdict(results: CheckResult[]): Finding[] {
  const findings = diagnose(results);
  expect(contradictions(findings, results)).toEqual([]);
  return findings;
}

const CLOCK_UNKNOWN = check('clock.skew', 'CLOCK_UNKNOWN', 'skip', { localTime: '1970-01-01T00:00:02Z' });

describe('an unset clock is used, and comes first', () => {
  it('1970: not-yet-valid device and server certificates are the clock, not a re-issue or an interception', () => {
    const results = [
      ...without('cert.validity', 'clock.skew', 'ca.verifies-endpoint'),
      CLOCK_UNKNOWN,
      check('cert.validity', 'CERT_NOT_YET_VALID', 'fail', {
        notBefore: '2026-11-29T19:30:05Z',
        now: '1970-01-01T00:00:02Z',
        clockLooksUnset: true,
      }),
      check('ca.verifies-endpoint', 'CA_CHAIN_NOT_TIME_VALID', 'warn'),
      ...everyRoute('tls', fail('TLS_SERVER_CERT_NOT_YET_VALID', { chain: AMAZON_CHAIN })),
    ];
    const findings = verdict(results);
    const f = findings[0]!;
    expect(f.code).toBe('CLOCK_LOOKS_UNSET');
    expect(f.confidence).toBe('certain');
    expect(f.severity).toBe('critical');
    expect(f.title).toContain('1970-01-01T00:00:02Z');
    expect(f.remediation[0]).toMatch(/NTP/);
    expect(f.evidence).toEqual(
      expect.arrayContaining(['cert.validity', 'ca.verifies-endpoint', ...FOUR.map((r) => `route.${r}.tls`)]),
    );
    expect(codes(findings)).not.toContain('CERT_NOT_YET_VALID');
    expect(codes(findings)).not.toContain('TLS_INTERCEPTED');
    expect(codes(findings)).not.toContain('SERVER_CERT_OUT_OF_DATE');
    expect(codes(findings)).not.toContain('UNEXPLAINED_FAILURE');
  });

  it('a clock far ahead, not measured: the device and every server certificate look expired at once', () => {
    const results = [
      ...without('cert.validity', 'clock.skew'),
      check('clock.skew', 'CLOCK_UNKNOWN', 'skip'),
      check('cert.validity', 'CERT_EXPIRED', 'fail', { notAfter: '2027-01-01T00:00:00Z', now: '2041-03-01T00:00:00Z' }),
      ...everyRoute('tls', fail('TLS_SERVER_CERT_EXPIRED', { chain: AMAZON_CHAIN })),
    ];
    const findings = verdict(results);
    expect(findings[0]!.code).toBe('CLOCK_SKEW');
    expect(findings[0]!.confidence).toBe('likely');
    expect(findings[0]!.explanation).toMatch(/far ahead/);
    expect(codes(findings)).not.toContain('CERT_EXPIRED');
    expect(codes(findings)).not.toContain('SERVER_CERT_OUT_OF_DATE');
  });

  it('a device certificate really out of date by the server clock stays CERT_EXPIRED beside a skewed clock', () => {
    const results = [
      ...without('cert.validity', 'clock.skew'),
      check('clock.skew', 'CLOCK_SKEW', 'warn', { offsetSeconds: 900, serverDate: 'Mon, 01 Jun 2026 10:15:00 GMT' }),
      check('cert.validity', 'CERT_EXPIRED', 'fail', { notAfter: '2026-06-01T10:05:00Z', now: '2026-06-01T10:00:00Z' }),
      check('clock.cert-validity', 'CERT_EXPIRED_BY_SERVER_CLOCK', 'fail', { notAfter: '2026-06-01T10:05:00Z' }),
      ...everyRoute('client-auth', fail('CLIENT_CERT_REJECTED')),
    ];
    const findings = verdict(results);
    const expired = only(findings, 'CERT_EXPIRED');
    expect(expired.confidence).toBe('certain');
    expect(expired.evidence).toEqual(expect.arrayContaining(FOUR.map((r) => `route.${r}.client-auth`)));
    expect(codes(findings)).toContain('CLOCK_SKEW');
  });
});

describe('a plausible but wrong endpoint name', () => {
  const thingName = 'MyDevices_-ats.iot.eu-west-1.amazonaws.com';

  it('NXDOMAIN, and DescribeEndpoint names the account endpoint: WRONG_ENDPOINT_NAME suggests it', () => {
    const results = [
      ...localPasses(),
      check('cloud.endpoint', 'ENDPOINT_OTHER_ACCOUNT', 'fail', {
        expected: ENDPOINT,
        actual: thingName.toLowerCase(),
      }),
      ...everyRoute('dns', fail('DNS_NXDOMAIN', { name: thingName, error: 'ENOTFOUND' })),
    ];
    const findings = verdict(results);
    const f = findings[0]!;
    expect(f.code).toBe('WRONG_ENDPOINT_NAME');
    expect(f.confidence).toBe('certain');
    expect(f.remediation[0]).toBe(`Configure the device with ${ENDPOINT}, the account's iot:Data-ATS endpoint.`);
    expect(f.evidence).toEqual(expect.arrayContaining(['cloud.endpoint', 'route.mqtt-8883.dns']));
    expect(codes(findings)).not.toContain('ENDPOINT_OTHER_ACCOUNT');
    expect(codes(findings)).not.toContain('DNS_FAILURE');
    for (const x of findings) expect(`${x.title} ${x.explanation}`).not.toMatch(/another AWS account/);
  });

  it('a name whose prefix cannot be an account prefix, refused at TLS: likely WRONG_ENDPOINT_NAME', () => {
    const results = [
      ...localPasses(),
      ...allRoutes(
        Object.fromEntries(
          FOUR.map((r) => [
            r,
            {
              dns: { evidence: { name: thingName } },
              tls: fail('TLS_ALERT', { alert: 'handshake_failure', sni: thingName, bytesFromServer: 7 }),
            },
          ]),
        ),
      ),
    ];
    const findings = verdict(results);
    expect(findings[0]!.code).toBe('WRONG_ENDPOINT_NAME');
    expect(findings[0]!.confidence).toBe('likely');
    expect(findings[0]!.remediation[0]).toMatch(/describe-endpoint --endpoint-type iot:Data-ATS/);
    expect(codes(findings)).not.toContain('ENDPOINT_NAME_MISMATCH');
  });
});

describe('the first remedy applies to this run', () => {
  it('every route refused at TCP: no remedy begins "Or"', () => {
    const results = [...localPasses(), ...everyRoute('tcp', fail('TCP_REFUSED'))];
    const findings = verdict(results);
    expect(findings[0]!.code).toBe('ALL_ROUTES_BLOCKED');
    const port = only(findings, 'PORT_BLOCKED');
    expect(port.remediation[0]).toMatch(/^Ask the network administrator to allow outbound TCP/);
  });

  it('an expired server certificate with the clock unmeasured: headlined by the expiry, the clock a candidate', () => {
    const results = [
      ...without('clock.skew'),
      check('clock.skew', 'CLOCK_UNKNOWN', 'skip'),
      ...everyRoute('tls', fail('TLS_SERVER_CERT_EXPIRED', { chain: AMAZON_CHAIN })),
    ];
    const findings = verdict(results);
    const f = findings[0]!;
    expect(f.code).toBe('SERVER_CERT_OUT_OF_DATE');
    expect(f.title).toMatch(/expired/);
    expect(f.confidence).toBe('possible');
    expect(f.candidates?.map((c) => c.code)).toEqual(['TLS_INTERCEPTED', 'CLOCK_SKEW']);
    expect(f.remediation[0]).toMatch(/^See who answers/);
    expect(codes(findings)).not.toContain('TLS_INTERCEPTED');
  });

  it("a key that is not the certificate's: the TLS library's refusals are cited, no UNEXPLAINED_FAILURE", () => {
    const results = [
      ...without('cert.key-match'),
      check('cert.key-match', 'KEY_CERT_MISMATCH', 'fail'),
      ...everyRoute('tls', fail('TLS_CLIENT_CREDENTIALS_UNUSABLE', { error: 'key values mismatch' })),
    ];
    const findings = verdict(results);
    const f = findings[0]!;
    expect(f.code).toBe('KEY_CERT_MISMATCH');
    expect(f.evidence).toEqual(['cert.key-match', ...FOUR.map((r) => `route.${r}.tls`)]);
    expect(f.explanation).toMatch(/routes fail at the handshake/);
    expect(codes(findings)).toEqual(['KEY_CERT_MISMATCH']);
  });
});

describe('the policy evaluator cannot decide (AUTH_UNDECIDED)', () => {
  it('a rejection at CONNECT with an undecidable policy: the finding says the evaluator could not decide, and why', () => {
    const results = [
      ...localPasses(),
      check('cloud.certificate', 'CERT_REGISTERED_ACTIVE'),
      check('cloud.policy-attached', 'POLICY_ATTACHED', 'pass', { policies: ['device-policy'] }),
      check('cloud.authorization.connect', 'AUTH_UNDECIDED', 'warn', {
        iamAction: 'iot:Connect',
        undecidableKeys: ['iot:ConnectAttributes'],
        source: 'local-evaluation',
      }),
      ...allRoutes({
        'mqtt-8883': { protocol: fail('MQTT_CLOSED_AFTER_CONNECT') },
        'mqtt-443': { protocol: fail('MQTT_CLOSED_AFTER_CONNECT') },
      }),
    ];
    const findings = verdict(results);
    const f = findings[0]!;
    expect(f.code).toBe('AUTH_REJECTED_UNEXPLAINED');
    expect(f.params['cloudChecks']).toBe('AUTH_UNDECIDED');
    expect(f.explanation).toMatch(/could not decide iot:Connect: the policies depend on iot:ConnectAttributes/);
    expect(f.remediation[0]).toMatch(/^Allow iot:TestAuthorization/);
    expect(f.candidates?.map((c) => c.code)).toContain('POLICY_DENIES_CONNECT');
    expect(f.evidence).toContain('cloud.authorization.connect');
    expect(codes(findings)).not.toContain('POLICY_DENIES_CONNECT');
    expect(codes(findings)).not.toContain('OTHER_WARNINGS');
  });
});

describe('the consistency check itself', () => {
  it('finds a finding that calls an unresolvable name another account\'s, and a dangling "Or"', () => {
    const results = [...localPasses(), ...everyRoute('dns', fail('DNS_NXDOMAIN', { name: ENDPOINT }))];
    const bad: Finding[] = [
      {
        code: 'ENDPOINT_OTHER_ACCOUNT',
        severity: 'error',
        confidence: 'certain',
        title: `The endpoint ${ENDPOINT} belongs to another AWS account`,
        explanation: '',
        remediation: ['Or ask someone.'],
        params: {},
        evidence: ['route.mqtt-8883.dns'],
      },
    ];
    expect(contradictions(bad, results)).toEqual([
      "ENDPOINT_OTHER_ACCOUNT calls a name that does not resolve another account's",
      'ENDPOINT_OTHER_ACCOUNT\'s first remedy reads as an alternative: "Or ask someone."',
    ]);
  });

  it('finds a wrong clock nobody names, a finding judged by it, and UNEXPLAINED_FAILURE beside a certain cause', () => {
    const results = [
      ...without('cert.validity', 'cert.key-match'),
      check('cert.validity', 'CERT_NOT_YET_VALID', 'fail', { now: '1970-01-01T00:00:00Z', clockLooksUnset: true }),
      check('cert.key-match', 'KEY_CERT_MISMATCH', 'fail'),
      ...everyRoute('tls', fail('TLS_CLIENT_CREDENTIALS_UNUSABLE')),
    ];
    const base = { severity: 'critical' as const, explanation: '', remediation: [], params: {} };
    const bad: Finding[] = [
      {
        ...base,
        code: 'CERT_NOT_YET_VALID',
        confidence: 'likely',
        title: 'x',
        params: { judgedBy: 'local clock' },
        evidence: ['cert.validity'],
      },
      { ...base, code: 'KEY_CERT_MISMATCH', confidence: 'certain', title: 'y', evidence: ['cert.key-match'] },
      { ...base, code: 'UNEXPLAINED_FAILURE', confidence: 'possible', title: 'z', evidence: ['route.mqtt-8883.tls'] },
    ];
    const found = contradictions(bad, results);
    expect(found).toContain('CERT_NOT_YET_VALID is judged by a clock that looks wrong');
    expect(found).toContain('the clock looks wrong and no finding says so');
    expect(found).toContain('KEY_CERT_MISMATCH explains route.mqtt-8883.tls but does not cite it');
    expect(found).toContain('UNEXPLAINED_FAILURE lists route.mqtt-8883.tls, which KEY_CERT_MISMATCH explains');
  });
});
