/**
 * The diagnosis reads every route instance a run probes, not only the four default kinds: the custom-auth, WSS and
 * credential-provider kinds, each also `… IPv6` and `… via proxy`. A failure a rule explains never ends under
 * UNEXPLAINED_FAILURE, whatever the instance.
 */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import type { RouteId } from '../../src/model/index.js';
import { PROXY_CHAIN, codes, fail, fixtureReport, localPasses, route } from './diagnose-fixtures.js';

const OTHER_KINDS = ['mqtt-custom-auth-443', 'mqtt-wss-443', 'credentials-443'] as const;
const proxyEvidence = { proxy: 'http://proxy.example:3128', proxySource: '--proxy', kind: 'http', status: 200 };

function verdict(results: ReturnType<typeof route>): string[] {
  const report = fixtureReport([...localPasses(), ...results]);
  return codes(report.diagnosis);
}

describe('non-default route instances in the diagnosis', () => {
  it('a DNS failure of every kind, direct: DNS_FAILURE, nothing unexplained', () => {
    const dns = { dns: fail('DNS_NXDOMAIN', { name: 'x', error: 'ENOTFOUND' }) };
    const got = verdict(OTHER_KINDS.flatMap((k) => route(k, dns)));
    expect(got[0]).toBe('DNS_FAILURE');
    expect(got).not.toContain('UNEXPLAINED_FAILURE');
  });

  it('the proxy re-signs the WSS and custom-auth tunnels: TLS_INTERCEPTED on those instances', () => {
    const intercepted = {
      proxy: { status: 'pass' as const, code: 'PROXY_CONNECT_OK', evidence: proxyEvidence },
      tls: fail('TLS_CHAIN_UNTRUSTED', { chain: PROXY_CHAIN, sni: 'x' }),
    };
    const results = [
      ...OTHER_KINDS.flatMap((k) => route(k)),
      ...(['mqtt-custom-auth-443', 'mqtt-wss-443'] as const).flatMap((k) =>
        route(`${k} via proxy` as RouteId, intercepted),
      ),
    ];
    const report = fixtureReport([...localPasses(), ...results]);
    expect(codes(report.diagnosis)[0]).toBe('TLS_INTERCEPTED');
    expect(report.diagnosis[0]!.params['routes']).toEqual(['mqtt-custom-auth-443 via proxy', 'mqtt-wss-443 via proxy']);
    expect(codes(report.diagnosis)).not.toContain('UNEXPLAINED_FAILURE');
  });

  it('the IPv6 instances of the other kinds time out while IPv4 works: IPV6_PATH_BROKEN', () => {
    const results = OTHER_KINDS.flatMap((k) => [
      ...route(k),
      ...route(`${k} IPv6` as RouteId, { tcp: fail('TCP_TIMEOUT', { address: '2001:db8::1', port: 443, family: 6 }) }),
    ]);
    const got = verdict(results);
    expect(got[0]).toBe('IPV6_PATH_BROKEN');
    expect(got).not.toContain('UNEXPLAINED_FAILURE');
  });
});
