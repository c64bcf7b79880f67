import { describe, expect, it } from 'vitest';
import { contradictions, diagnose } from '../../src/diagnose/index.js';
import { ADDRESS, ENDPOINT, allRoutes, codes, fail, localPasses, only, route } from './diagnose-fixtures.js';

describe('PORT_BLOCKED', () => {
  it('8883 times out while 443 with ALPN works: move the device to 443 with x-amzn-mqtt-ca', () => {
    const results = [
      ...localPasses(),
      ...allRoutes({
        'mqtt-8883': {
          tcp: fail('TCP_TIMEOUT', { address: ADDRESS, port: 8883 }, { reproduce: `nc -vz -w 5 ${ADDRESS} 8883` }),
        },
      }),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'PORT_BLOCKED');
    expect(f.params).toMatchObject({
      ports: [8883],
      how: 'timeout',
      routes: ['mqtt-8883'],
      alternatives: ['mqtt-443'],
      address: ADDRESS,
    });
    expect(f.confidence).toBe('certain');
    expect(f.severity).toBe('error');
    expect(f.evidence).toContain('route.mqtt-8883.tcp');
    expect(f.evidence).toContain('route.mqtt-443.alpn');
    expect(f.remediation[0]).toMatch(/port 443 with ALPN x-amzn-mqtt-ca/);
    expect(f.remediation.join('\n')).toContain(`nc -vz -w 5 ${ADDRESS} 8883`);
    expect(codes(findings)).not.toContain('HEALTHY');
    expect(codes(findings)).not.toContain('UNEXPLAINED_FAILURE');
  });

  it('groups ports by how they fail', () => {
    const results = allRoutes({
      'mqtt-8883': { tcp: fail('TCP_REFUSED') },
      'https-8443': { tcp: fail('TCP_REFUSED') },
      'https-443': { tcp: fail('TCP_UNREACHABLE') },
    });
    const findings = diagnose(results).filter((f) => f.code === 'PORT_BLOCKED');
    expect(findings.map((f) => f.params['how']).sort()).toEqual(['refused', 'unreachable']);
    const refused = findings.find((f) => f.params['how'] === 'refused')!;
    expect(refused.params['ports']).toEqual([8443, 8883]);
    expect(refused.evidence).toEqual(expect.arrayContaining(['route.mqtt-8883.tcp', 'route.https-8443.tcp']));
    expect(refused.params['alternatives']).toEqual(['mqtt-443']);
  });

  it('suggests probing 443 when it was not selected', () => {
    const f = only(diagnose(route('mqtt-8883', { tcp: fail('TCP_TIMEOUT') })), 'PORT_BLOCKED');
    expect(f.params).toMatchObject({ ports: [8883], how: 'timeout' });
    expect(f.params['alternatives']).toBeUndefined();
    expect(f.severity).toBe('critical');
    expect(f.confidence).toBe('likely');
    expect(f.remediation.join('\n')).toMatch(/--routes mqtt-443/);
  });

  it('says nothing about a route the profile expects to be blocked', () => {
    const results = [...localPasses(), ...allRoutes({ 'mqtt-8883': { tcp: fail('TCP_TIMEOUT') } })];
    const findings = diagnose(results, { expectedBlocked: ['mqtt-8883'] });
    expect(codes(findings)).toEqual(['HEALTHY']);
    expect(findings[0]!.params['expectedBlocked']).toEqual(['mqtt-8883']);
  });
});

describe('ALL_ROUTES_BLOCKED', () => {
  it('DNS resolves but every route stops at TCP or at the start of TLS', () => {
    const results = allRoutes({
      'mqtt-8883': { tcp: fail('TCP_TIMEOUT') },
      'mqtt-443': { tls: fail('TLS_RESET', { bytesFromServer: 0 }) },
      'https-8443': { tcp: fail('TCP_TIMEOUT') },
      'https-443': { tls: fail('TLS_STALLED', { bytesFromServer: 0 }) },
    });
    const findings = diagnose(results);
    const f = only(findings, 'ALL_ROUTES_BLOCKED');
    expect(findings[0]).toBe(f);
    expect(f.severity).toBe('critical');
    expect(f.params['how']).toEqual({
      'mqtt-8883': 'TCP_TIMEOUT',
      'mqtt-443': 'TLS_RESET',
      'https-8443': 'TCP_TIMEOUT',
      'https-443': 'TLS_STALLED',
    });
    expect(f.params['addresses']).toEqual([ADDRESS]);
    expect(f.evidence).toEqual(
      expect.arrayContaining([
        'route.mqtt-8883.dns',
        'route.mqtt-8883.tcp',
        'route.mqtt-443.tls',
        'route.https-8443.tcp',
        'route.https-443.tls',
      ]),
    );
    expect(f.candidates?.length).toBeGreaterThan(1);
    // The per-port mechanism is still named.
    expect(codes(findings)).toContain('PORT_BLOCKED');
  });

  it('is not raised when one route gets through', () => {
    const results = allRoutes({
      'mqtt-8883': { tcp: fail('TCP_TIMEOUT') },
      'https-8443': { tcp: fail('TCP_TIMEOUT') },
    });
    expect(codes(diagnose(results))).not.toContain('ALL_ROUTES_BLOCKED');
  });
});

describe('DNS_FAILURE', () => {
  it('NXDOMAIN on every route for a name that is not AWS-shaped (a custom domain)', () => {
    const name = 'iot.devices.example.com';
    const nx = () => fail('DNS_NXDOMAIN', { name, error: 'ENOTFOUND' });
    const results = allRoutes({
      'mqtt-8883': { dns: nx() },
      'mqtt-443': { dns: nx() },
      'https-8443': { dns: nx() },
      'https-443': { dns: nx() },
    });
    const findings = diagnose(results);
    const f = only(findings, 'DNS_FAILURE');
    expect(findings[0]).toBe(f);
    expect(f.severity).toBe('critical');
    expect(f.params).toMatchObject({ name, code: 'DNS_NXDOMAIN', error: 'ENOTFOUND' });
    expect(f.evidence).toEqual([
      'route.mqtt-8883.dns',
      'route.mqtt-443.dns',
      'route.https-8443.dns',
      'route.https-443.dns',
    ]);
    expect(f.remediation[0]).toMatch(/describe-endpoint --endpoint-type iot:Data-ATS/);
    expect(codes(findings)).not.toContain('ALL_ROUTES_BLOCKED');
    expect(codes(findings)).not.toContain('UNEXPLAINED_FAILURE');
    expect(contradictions(findings, results)).toEqual([]);
  });

  it('NXDOMAIN on every route for an AWS IoT endpoint name: WRONG_ENDPOINT_NAME takes the DNS failure', () => {
    const results = allRoutes({
      'mqtt-8883': { dns: fail('DNS_NXDOMAIN', { name: ENDPOINT, error: 'ENOTFOUND' }) },
      'mqtt-443': { dns: fail('DNS_NXDOMAIN', { name: ENDPOINT, error: 'ENOTFOUND' }) },
      'https-8443': { dns: fail('DNS_NXDOMAIN', { name: ENDPOINT, error: 'ENOTFOUND' }) },
      'https-443': { dns: fail('DNS_NXDOMAIN', { name: ENDPOINT, error: 'ENOTFOUND' }) },
    });
    const findings = diagnose(results);
    const f = only(findings, 'WRONG_ENDPOINT_NAME');
    expect(findings[0]).toBe(f);
    expect(f.severity).toBe('critical');
    expect(f.confidence).toBe('certain');
    expect(f.params).toMatchObject({ name: ENDPOINT, nxdomain: true, accountEndpoint: null });
    expect(f.evidence).toEqual([
      'route.mqtt-8883.dns',
      'route.mqtt-443.dns',
      'route.https-8443.dns',
      'route.https-443.dns',
    ]);
    expect(f.remediation[0]).toMatch(/describe-endpoint --endpoint-type iot:Data-ATS/);
    expect(codes(findings)).toEqual(['WRONG_ENDPOINT_NAME']);
    expect(contradictions(findings, results)).toEqual([]);
  });

  it('an unexpected private address is a warning', () => {
    const results = [
      ...localPasses(),
      ...route('mqtt-8883', {
        dns: { status: 'warn', code: 'DNS_PRIVATE_ADDRESS', evidence: { name: ENDPOINT, addresses: ['10.1.2.3'] } },
      }),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'DNS_FAILURE');
    expect(f.severity).toBe('warning');
    expect(f.confidence).toBe('possible');
    expect(f.params).toMatchObject({ name: ENDPOINT, addresses: ['10.1.2.3'], code: 'DNS_PRIVATE_ADDRESS' });
    expect(f.evidence).toEqual(['route.mqtt-8883.dns']);
    expect(codes(findings)).not.toContain('HEALTHY');
  });
});

describe('SNI_FILTERED', () => {
  it('a reset right after the ClientHello on 8883 while 443 completes TLS', () => {
    const results = allRoutes({ 'mqtt-8883': { tls: fail('TLS_RESET', { sni: ENDPOINT, bytesFromServer: 0 }) } });
    const f = only(diagnose(results), 'SNI_FILTERED');
    expect(f.confidence).toBe('likely');
    expect(f.params).toMatchObject({ ports: [8883], how: 'reset', routes: ['mqtt-8883'], sni: ENDPOINT });
    expect(f.evidence).toEqual(
      expect.arrayContaining(['route.mqtt-8883.tcp', 'route.mqtt-8883.tls', 'route.mqtt-443.tls']),
    );
    expect(f.candidates).toBeUndefined();
  });

  it('a stall after TCP is only possible, with candidates', () => {
    const results = allRoutes({ 'https-8443': { tls: fail('TLS_STALLED', { bytesFromServer: 0 }) } });
    const f = only(diagnose(results), 'SNI_FILTERED');
    expect(f.confidence).toBe('possible');
    expect(f.params).toMatchObject({ ports: [8443], how: 'stalled' });
    expect(f.candidates?.map((c) => c.code)).toEqual(['SNI_FILTER', 'INSPECTING_PROXY', 'NOT_TLS_SERVER']);
  });

  it('not when the server already answered (a reset after the ServerHello)', () => {
    const results = allRoutes({ 'mqtt-8883': { tls: fail('TLS_RESET', { bytesFromServer: 1500 }) } });
    const findings = diagnose(results);
    expect(codes(findings)).not.toContain('SNI_FILTERED');
    expect(codes(findings)).toContain('UNEXPLAINED_FAILURE');
  });
});
