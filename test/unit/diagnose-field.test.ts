import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import { codes, fail, localPasses, only, route } from './diagnose-fixtures.js';

const KINDS = ['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443'] as const;
const proxyEvidence = { proxy: 'http://alice:****@10.0.0.3:3128', proxySource: 'HTTPS_PROXY' };

describe('proxy findings', () => {
  it('PROXY_REQUIRED only when every direct route is cut off and a proxied one works; it absorbs DNS_FAILURE', () => {
    const results = [
      ...localPasses(),
      ...KINDS.flatMap((k) => route(k, { dns: fail('DNS_TEMPORARY_FAILURE', { name: 'x', error: 'ECONNREFUSED' }) })),
      ...KINDS.flatMap((k) =>
        route(`${k} via proxy`, { proxy: { status: 'pass', code: 'PROXY_CONNECT_OK', evidence: proxyEvidence } }),
      ),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'PROXY_REQUIRED');
    expect(findings[0]?.code).toBe('PROXY_REQUIRED');
    expect(f.params).toMatchObject({ source: 'HTTPS_PROXY', proxy: proxyEvidence.proxy });
    expect(f.remediation.join(' ')).toMatch(/mqtt-443 via proxy/);
    expect(codes(findings)).not.toContain('DNS_FAILURE');
    expect(codes(findings)).not.toContain('UNEXPLAINED_FAILURE');
    // One direct route that works: not "proxy required".
    const partly = [...results.filter((r) => r.route !== 'mqtt-443'), ...route('mqtt-443')];
    expect(codes(diagnose(partly))).not.toContain('PROXY_REQUIRED');
  });

  it('PROXY_UNREACHABLE: a warning that the device must not use the proxy when the direct path works; an error otherwise', () => {
    const refused = { tcp: fail('TCP_REFUSED', { address: '10.0.0.3', port: 3999, ...proxyEvidence }) };
    const works = [...localPasses(), ...route('mqtt-443'), ...route('mqtt-443 via proxy', refused)];
    const f = only(diagnose(works), 'PROXY_UNREACHABLE');
    expect(f.severity).toBe('warning');
    expect(f.explanation).toMatch(/must NOT be configured with this proxy/);
    expect(codes(diagnose(works))).not.toContain('PORT_BLOCKED');
    const neither = [
      ...localPasses(),
      ...route('mqtt-443', { tcp: fail('TCP_TIMEOUT') }),
      ...route('mqtt-443 via proxy', refused),
    ];
    expect(only(diagnose(neither), 'PROXY_UNREACHABLE').severity).toBe('error');
  });

  it('PROXY_BLOCKS_PORT names refused and allowed ports from 403 and SOCKS REP 2 alike', () => {
    const results = [
      ...route('mqtt-8883 via proxy', {
        proxy: fail('PROXY_DENIED', { rep: 2, repName: 'connection not allowed by ruleset' }),
      }),
      ...route('https-8443 via proxy', {
        proxy: fail('PROXY_DENIED', { status: 403, statusLine: 'HTTP/1.1 403 Forbidden' }),
      }),
      ...route('mqtt-443 via proxy'),
    ];
    expect(only(diagnose(results), 'PROXY_BLOCKS_PORT').params).toMatchObject({
      refusedPorts: [8443, 8883],
      allowedPorts: [443],
    });
  });
});

describe('address families', () => {
  it('IPV6_PATH_BROKEN when the IPv6 instance is cut off and IPv4 gets through; nothing when only IPv4 ran', () => {
    const broken = [
      ...route('mqtt-8883'),
      ...route('mqtt-8883 IPv6', { tcp: fail('TCP_TIMEOUT', { address: '2001:db8::2', family: 6 }) }),
    ];
    const f = only(diagnose(broken), 'IPV6_PATH_BROKEN');
    expect(f.params).toMatchObject({ family: 6, routes: ['mqtt-8883 IPv6'], address: '2001:db8::2' });
    expect(f.remediation.join(' ')).toMatch(/force IPv4/);
    expect(codes(diagnose(broken))).not.toContain('PORT_BLOCKED');
    expect(codes(diagnose(route('mqtt-8883', { tcp: fail('TCP_TIMEOUT') })))).not.toContain('IPV6_PATH_BROKEN');
    const reverse = [...route('mqtt-8883', { tcp: fail('TCP_TIMEOUT') }), ...route('mqtt-8883 IPv6')];
    expect(codes(diagnose(reverse))).toContain('IPV4_PATH_BROKEN');
  });
});

describe('device TLS findings hold whether the endpoint sends an alert or just closes (field-notes §3.2)', () => {
  const device = (extra: Record<string, unknown>) => ({ flags: [], modernHandshake: 'ok', ...extra });
  it.each([
    [
      'alert 70',
      fail('TLS_ALERT', {
        alert: 'protocol_version',
        alertNumber: 70,
        device: device({ version: '1.2', acceptedVersions: ['1.3'] }),
      }),
    ],
    ['bare close', fail('TLS_CLOSED', { device: device({ version: '1.2', acceptedVersions: ['1.3'] }) })],
  ])('TLS_VERSION_UNSUPPORTED after %s', (_how, tls) => {
    const f = only(diagnose(route('mqtt-8883', { tls })), 'TLS_VERSION_UNSUPPORTED');
    expect(f.params).toMatchObject({ deviceVersion: '1.2', acceptedVersions: ['1.3'] });
    expect(codes(diagnose(route('mqtt-8883', { tls })))).not.toContain('UNEXPLAINED_FAILURE');
  });

  it.each([
    [
      'alert 40',
      fail('TLS_ALERT', {
        alert: 'handshake_failure',
        alertNumber: 40,
        device: device({ ciphers: ['AES128-SHA'], acceptedCiphers: ['ECDHE-RSA-AES128-GCM-SHA256'] }),
      }),
    ],
    [
      'reset',
      fail('TLS_RESET', {
        device: device({ ciphers: ['AES128-SHA'], acceptedCiphers: ['ECDHE-RSA-AES128-GCM-SHA256'] }),
      }),
    ],
  ])('NO_SHARED_CIPHER after %s names the accepted suites', (_how, tls) => {
    expect(only(diagnose(route('mqtt-8883', { tls })), 'NO_SHARED_CIPHER').params['acceptedCiphers']).toEqual([
      'ECDHE-RSA-AES128-GCM-SHA256',
    ]);
  });

  it('SNI_MISSING needs the comparison with SNI to work; a server that fails either way is not blamed on SNI', () => {
    const without = fail('TLS_CLOSED', { device: device({ withSni: 'ok' }) });
    expect(codes(diagnose(route('mqtt-8883', { tls: without })))).toContain('SNI_MISSING');
    const either = fail('TLS_CLOSED', { device: device({ withSni: 'closed during the handshake' }) });
    expect(codes(diagnose(route('mqtt-8883', { tls: either })))).not.toContain('SNI_MISSING');
  });
});
