import { describe, expect, it } from 'vitest';
import { DIAGNOSIS_CODES, compareFindings, contradictions, diagnose } from '../../src/diagnose/index.js';
import { MTLS_STAGES, ROUTE_IDS, STATUSES, type CheckResult, type Status } from '../../src/model/index.js';
import { allRoutes, check, codes, fail, localPasses, only, route } from './diagnose-fixtures.js';

const ROUTE_FAIL_CODES: Record<string, string[]> = {
  proxy: [
    'PROXY_AUTH_REQUIRED',
    'PROXY_DENIED',
    'PROXY_TARGET_UNREACHABLE',
    'PROXY_ERROR',
    'PROXY_CLOSED',
    'PROXY_TIMEOUT',
    'PROXY_BAD_REPLY',
  ],
  dns: ['DNS_NXDOMAIN', 'DNS_NO_ANSWER', 'DNS_TEMPORARY_FAILURE', 'DNS_TIMEOUT', 'DNS_ERROR'],
  tcp: ['TCP_REFUSED', 'TCP_TIMEOUT', 'TCP_UNREACHABLE', 'TCP_RESET', 'TCP_ERROR'],
  tls: [
    'TLS_STALLED',
    'TLS_RESET',
    'TLS_CLOSED',
    'TLS_ALERT',
    'TLS_NOT_TLS',
    'TLS_ERROR',
    'TLS_CHAIN_UNTRUSTED',
    'TLS_SERVER_CERT_EXPIRED',
    'TLS_SERVER_CERT_NOT_YET_VALID',
    'TLS_HOSTNAME_MISMATCH',
  ],
  alpn: ['ALPN_NOT_SELECTED', 'ALPN_UNEXPECTED'],
  'client-auth': ['CLIENT_CERT_REJECTED'],
  protocol: [
    'MQTT_CONNACK_REFUSED',
    'MQTT_CLOSED_AFTER_CONNECT',
    'MQTT_NO_CONNACK',
    'MQTT_ERROR',
    'HTTP_MISSING_AUTH_TOKEN',
    'HTTP_FORBIDDEN',
    'HTTP_UNAUTHORIZED',
    'HTTP_NOT_FOUND',
    'HTTP_UNEXPECTED_STATUS',
    'HTTP_NO_RESPONSE',
    'HTTP_CLOSED_WITHOUT_RESPONSE',
    'HTTP_ERROR',
  ],
  'round-trip': [
    'MQTT_SUBACK_REFUSED',
    'MQTT_PUBACK_REFUSED',
    'MQTT_CLOSED_AFTER_SUBSCRIBE',
    'MQTT_CLOSED_AFTER_PUBLISH',
    'MQTT_CLOSED_BEFORE_DELIVERY',
    'MQTT_NO_SUBACK',
    'MQTT_NO_PUBACK',
    'MQTT_MESSAGE_NOT_RECEIVED',
    'HTTP_MESSAGE_NOT_RECEIVED',
  ],
};

/** Every result that failed, warned or errored is cited by at least one finding. */
function expectEveryProblemCited(results: readonly CheckResult[], findings: ReturnType<typeof diagnose>): void {
  const cited = new Set(findings.flatMap((f) => f.evidence));
  const uncited = results.filter(
    (r) => (r.status === 'fail' || r.status === 'warn' || r.status === 'error') && !cited.has(r.id),
  );
  expect(uncited.map((r) => `${r.id} ${r.code}`)).toEqual([]);
}

describe('HEALTHY', () => {
  it('every route and check passed', () => {
    const results = [...localPasses(), check('cloud.credentials', 'CLOUD_NO_CREDENTIALS', 'skip'), ...allRoutes()];
    const findings = diagnose(results);
    expect(codes(findings)).toEqual(['HEALTHY']);
    const f = findings[0]!;
    expect(f.severity).toBe('info');
    expect(f.params).toEqual({
      routes: ['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443'],
      checks: 8,
      skipped: 1,
      expectedBlocked: [],
    });
    expect(f.explanation).toMatch(/cloud\.credentials \(CLOUD_NO_CREDENTIALS\)/);
    expect(f.evidence).toContain('route.mqtt-8883.round-trip');
    expect(f.evidence).toContain('cert.key-match');
    expect(f.remediation).toEqual([]);
  });

  it('routes probed without the protocol stages are still healthy', () => {
    const results = [...localPasses(), ...route('mqtt-8883', {}, { protocol: false })];
    expect(codes(diagnose(results))).toEqual(['HEALTHY']);
  });

  it('nothing is healthy about an empty or all-skipped run', () => {
    expect(diagnose([])).toEqual([]);
    expect(codes(diagnose([check('files.cert', 'CERT_FILE_NOT_GIVEN', 'skip')]))).toEqual([]);
  });

  for (const stage of MTLS_STAGES) {
    for (const code of ROUTE_FAIL_CODES[stage]!) {
      // The proxy row exists on the routes through a proxy only: there, every route goes through it.
      for (const r of stage === 'proxy' ? ROUTE_IDS.map((k) => `${k} via proxy`) : ROUTE_IDS) {
        it(`never healthy with ${r} ${stage} ${code}`, () => {
          const others =
            stage === 'proxy'
              ? ROUTE_IDS.filter((k) => `${k} via proxy` !== r).flatMap((k) => route(`${k} via proxy`))
              : [];
          const results = [
            ...localPasses(),
            ...(stage === 'proxy'
              ? [...route(r, { proxy: fail(code) }), ...others]
              : allRoutes({ [r]: { [stage]: fail(code) } })),
          ];
          const findings = diagnose(results);
          expect(codes(findings)).not.toContain('HEALTHY');
          expect(findings.length).toBeGreaterThan(0);
          expectEveryProblemCited(results, findings);
        });
      }
    }
  }

  for (const status of ['warn', 'fail', 'error'] as const) {
    for (const id of [
      'files.cert',
      'cert.key-match',
      'ca.verifies-endpoint',
      'clock.skew',
      'cloud.certificate',
      'cloud.authorization.publish',
    ]) {
      it(`never healthy when ${id} is ${status}`, () => {
        const results = [
          ...localPasses().filter((r) => r.id !== id),
          check(id, 'SOMETHING_ODD', status),
          ...allRoutes(),
        ];
        const findings = diagnose(results);
        expect(codes(findings)).not.toContain('HEALTHY');
        expectEveryProblemCited(results, findings);
      });
    }
  }
});

describe('residual findings', () => {
  it('UNEXPLAINED_FAILURE lists failures no rule explains, with their hints and reproduce commands', () => {
    const results = [
      ...localPasses(),
      ...allRoutes({
        'https-8443': {
          protocol: fail(
            'HTTP_NOT_FOUND',
            {},
            {
              hint: 'The host is probably not an AWS IoT data endpoint.',
              reproduce: 'curl -v https://x:8443/topics/t',
            },
          ),
        },
      }),
    ];
    const f = only(diagnose(results), 'UNEXPLAINED_FAILURE');
    expect(f.params).toEqual({ codes: ['HTTP_NOT_FOUND'], ids: ['route.https-8443.protocol'] });
    expect(f.evidence).toEqual(['route.https-8443.protocol']);
    expect(f.remediation).toEqual([
      'The host is probably not an AWS IoT data endpoint.',
      'Reproduce route.https-8443.protocol by hand: curl -v https://x:8443/topics/t',
    ]);
    expect(f.confidence).toBe('possible');
  });

  it('UNEXPLAINED_FAILURE says when a check could not complete (status error)', () => {
    const results = [...localPasses(), check('cloud.thing', 'CHECK_CRASHED', 'error'), ...allRoutes()];
    const f = only(diagnose(results), 'UNEXPLAINED_FAILURE');
    expect(f.explanation).toMatch(/could not complete/);
    expect(f.severity).toBe('error');
  });

  it('OTHER_WARNINGS collects warnings without a rule', () => {
    const results = [
      ...localPasses().filter((r) => r.id !== 'cert.validity'),
      check(
        'cert.validity',
        'CERT_EXPIRES_SOON',
        'warn',
        {},
        { hint: 'rotate the device certificate before it expires' },
      ),
      check('files.key', 'KEY_FILE_WORLD_READABLE', 'warn', {}, { id: 'files.key:KEY_FILE_WORLD_READABLE' }),
      ...allRoutes(),
    ];
    const findings = diagnose(results);
    expect(codes(findings)).toEqual(['OTHER_WARNINGS']);
    const f = findings[0]!;
    expect(f.severity).toBe('warning');
    expect(f.params).toEqual({
      codes: ['CERT_EXPIRES_SOON', 'KEY_FILE_WORLD_READABLE'],
      ids: ['cert.validity', 'files.key:KEY_FILE_WORLD_READABLE'],
    });
    expect(f.remediation).toEqual(['rotate the device certificate before it expires']);
  });
});

describe('ordering and purity', () => {
  it('most important first: severity, then confidence, then catalogue order', () => {
    const results = [
      ...localPasses().filter((r) => r.id !== 'clock.skew'),
      check('clock.skew', 'CLOCK_SKEW', 'warn', { offsetSeconds: 400 }),
      ...allRoutes({
        'mqtt-8883': { tcp: fail('TCP_TIMEOUT') },
        'https-8443': { tls: fail('TLS_STALLED', { bytesFromServer: 0 }) },
      }),
    ];
    const findings = diagnose(results);
    expect(codes(findings)).toEqual(['PORT_BLOCKED', 'SNI_FILTERED', 'CLOCK_SKEW']);
    for (let i = 1; i < findings.length; i++)
      expect(compareFindings(findings[i - 1]!, findings[i]!)).toBeLessThanOrEqual(0);
  });

  it('does not change its input and gives the same answer twice', () => {
    const results = [...localPasses(), ...allRoutes({ 'mqtt-8883': { tcp: fail('TCP_TIMEOUT') } })];
    const copy = structuredClone(results);
    const a = diagnose(results);
    const b = diagnose(results);
    expect(results).toEqual(copy);
    expect(a).toEqual(b);
  });

  it('every finding code is in the catalogue', () => {
    const seen = new Set<string>();
    const rng = mulberry32(7);
    for (let n = 0; n < 400; n++) {
      const results = randomRun(rng);
      const findings = diagnose(results);
      findings.forEach((f) => seen.add(f.code));
      for (const f of findings) expect(DIAGNOSIS_CODES as readonly string[]).toContain(f.code);
      const problems = results.some((r) => r.status === 'fail' || r.status === 'warn' || r.status === 'error');
      expect(codes(findings).includes('HEALTHY')).toBe(!problems && results.some((r) => r.status === 'pass'));
      if (problems) expect(findings.length).toBeGreaterThan(0);
      expectEveryProblemCited(results, findings);
      expect(contradictions(findings, results), JSON.stringify(codes(findings))).toEqual([]);
    }
    expect(seen.size).toBeGreaterThan(8);
  });
});

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LOCAL_CODES: [string, string, Status][] = [
  ['cert.key-match', 'KEY_CERT_MISMATCH', 'fail'],
  ['cert.validity', 'CERT_EXPIRED', 'fail'],
  ['cert.validity', 'CLOCK_LOOKS_UNSET', 'warn'],
  ['cert.validity', 'CERT_NOT_YET_VALID', 'fail'],
  ['clock.cert-validity', 'CERT_VALID_BY_SERVER_CLOCK', 'pass'],
  ['cloud.endpoint', 'ENDPOINT_OTHER_ACCOUNT', 'fail'],
  ['ca.verifies-endpoint', 'CA_CHAIN_NOT_TIME_VALID', 'warn'],
  ['clock.skew', 'CLOCK_SKEW', 'warn'],
  ['cloud.certificate', 'CERT_NOT_ACTIVE', 'fail'],
  ['cloud.policy-attached', 'NO_POLICY_ATTACHED', 'fail'],
  ['cloud.credentials', 'CLOUD_NO_CREDENTIALS', 'skip'],
  ['cloud.endpoint', 'CLOUD_API_UNREACHABLE', 'warn'],
  ['ca.contents', 'CA_IS_DEVICE_ISSUER', 'warn'],
];

/** A run with a random failure per route and a few random local and cloud verdicts. */
function randomRun(rng: () => number): CheckResult[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
  const results: CheckResult[] = [];
  const local = localPasses();
  for (const [id, code, status] of LOCAL_CODES) {
    if (rng() < 0.12) {
      const i = local.findIndex((r) => r.id === id);
      const r = check(id, code, status);
      if (i >= 0) local[i] = r;
      else local.push(r);
    }
  }
  results.push(...local);
  for (const r of ROUTE_IDS) {
    if (rng() < 0.2) continue;
    if (rng() < 0.5) {
      results.push(...route(r));
      continue;
    }
    const stage = pick(MTLS_STAGES);
    const status = pick(STATUSES.filter((s) => s !== 'pass' && s !== 'skip'));
    results.push(
      ...route(r, {
        [stage]: { status, code: pick(ROUTE_FAIL_CODES[stage]!), evidence: { bytesFromServer: pick([0, 100]) } },
      }),
    );
  }
  return results;
}
