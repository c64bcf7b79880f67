import { describe, expect, it } from 'vitest';
import { contradictions, diagnose } from '../../src/diagnose/index.js';
import {
  AMAZON_CHAIN,
  ENDPOINT,
  PROXY_CHAIN,
  allRoutes,
  check,
  codes,
  fail,
  localPasses,
  only,
  route,
} from './diagnose-fixtures.js';

const untrusted = (chain: unknown) => ({
  tls: fail('TLS_CHAIN_UNTRUSTED', { sni: ENDPOINT, chain, verifyError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }),
});

function withoutCaChecks() {
  return localPasses().filter((r) => !r.id.startsWith('ca.'));
}

describe('TLS_INTERCEPTED', () => {
  it('every port presents a chain from a corporate CA that the CA file does not trust', () => {
    const results = [
      ...withoutCaChecks(),
      check('ca.contents', 'CA_HAS_AMAZON_ROOTS'),
      check('ca.verifies-endpoint', 'CA_DOES_NOT_VERIFY_CHAIN', 'fail', { caFile: 'AmazonRootCA1.pem' }),
      ...allRoutes({
        'mqtt-8883': untrusted(PROXY_CHAIN),
        'mqtt-443': untrusted(PROXY_CHAIN),
        'https-8443': untrusted(PROXY_CHAIN),
        'https-443': untrusted(PROXY_CHAIN),
      }),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'TLS_INTERCEPTED');
    expect(f.confidence).toBe('likely');
    expect(f.severity).toBe('critical');
    expect(f.params['reasons']).toEqual(['untrusted-issuer']);
    expect(f.params['issuers']).toEqual(['O=Example Corp IT Security, CN=Corporate TLS Inspection CA']);
    expect(f.evidence).toEqual(
      expect.arrayContaining([
        'route.mqtt-8883.tls',
        'route.mqtt-443.tls',
        'route.https-8443.tls',
        'route.https-443.tls',
        'ca.verifies-endpoint',
      ]),
    );
    expect(codes(findings)).not.toContain('WRONG_CA_FILE');
    expect(codes(findings)).not.toContain('UNEXPLAINED_FAILURE');
  });

  it('the chain differs between ports and one of them is not Amazon', () => {
    const proxyTrusted = [{ ...PROXY_CHAIN[0]! }];
    const results = [
      ...localPasses(),
      ...allRoutes({
        'mqtt-443': { tls: { evidence: { chain: proxyTrusted } }, 'client-auth': fail('CLIENT_CERT_REJECTED') },
      }),
    ];
    const f = only(diagnose(results), 'TLS_INTERCEPTED');
    expect(f.params['reasons']).toEqual(['chain-differs-between-ports']);
    expect(f.params['fingerprints']).toMatchObject({
      'mqtt-8883': AMAZON_CHAIN[0]!.fingerprint256,
      'mqtt-443': PROXY_CHAIN[0]!.fingerprint256,
    });
    // Only the port that presents the foreign chain is intercepted; the others show the genuine certificate.
    expect(f.evidence).toEqual(expect.arrayContaining(['route.mqtt-443.tls', 'route.mqtt-443.client-auth']));
    expect(f.evidence).not.toContain('route.mqtt-8883.tls');
    expect(f.params['routes']).toEqual(['mqtt-443']);
    expect(codes(diagnose(results))).toEqual(['TLS_INTERCEPTED']);
  });

  it('an expired server certificate while the clock is right', () => {
    const results = [
      ...localPasses(),
      ...allRoutes({ 'mqtt-8883': { tls: fail('TLS_SERVER_CERT_EXPIRED', { chain: AMAZON_CHAIN }) } }),
    ];
    // Headlined by what the evidence shows (the expiry), not by one of its explanations.
    const findings = diagnose(results);
    const f = only(findings, 'SERVER_CERT_OUT_OF_DATE');
    expect(findings[0]).toBe(f);
    expect(f.confidence).toBe('likely');
    expect(f.title).toMatch(/^The server certificate on mqtt-8883 expired/);
    expect(f.params['clockChecked']).toBe(true);
    expect(f.evidence).toEqual(expect.arrayContaining(['route.mqtt-8883.tls', 'clock.skew']));
    expect(codes(findings)).not.toContain('TLS_INTERCEPTED');
    expect(contradictions(findings, results)).toEqual([]);
  });

  it('not when the CA file trusts a private chain on every port (a lab, a custom domain)', () => {
    const lab = [{ subject: `CN=${ENDPOINT}`, issuer: 'CN=Lab Server CA 1A', fingerprint256: 'DD:11' }];
    const results = [
      ...localPasses(),
      ...allRoutes({
        'mqtt-8883': { tls: { evidence: { chain: lab } } },
        'mqtt-443': { tls: { evidence: { chain: lab } } },
        'https-8443': { tls: { evidence: { chain: lab } } },
        'https-443': { tls: { evidence: { chain: lab } } },
      }),
    ];
    expect(codes(diagnose(results))).toEqual(['HEALTHY']);
  });
});

describe('WRONG_CA_FILE', () => {
  it('the CA file does not verify the chain, the Amazon roots do', () => {
    const results = [
      ...withoutCaChecks(),
      check('ca.contents', 'CA_IS_DEVICE_ISSUER', 'warn', { path: 'device-ca.pem' }),
      check('ca.verifies-endpoint', 'CA_DOES_NOT_VERIFY_CHAIN', 'fail', {
        caFile: 'device-ca.pem',
        wouldVerifyWith: 'Amazon Root CA 1',
      }),
      ...allRoutes({
        'mqtt-8883': untrusted(AMAZON_CHAIN),
        'mqtt-443': untrusted(AMAZON_CHAIN),
        'https-8443': untrusted(AMAZON_CHAIN),
        'https-443': untrusted(AMAZON_CHAIN),
      }),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'WRONG_CA_FILE');
    expect(findings[0]).toBe(f);
    expect(f.confidence).toBe('certain');
    expect(f.params).toMatchObject({
      caFile: 'device-ca.pem',
      wouldVerifyWith: 'Amazon Root CA 1',
      caContents: 'CA_IS_DEVICE_ISSUER',
    });
    expect(f.params['routes']).toEqual(['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443']);
    expect(f.evidence).toEqual(
      expect.arrayContaining(['ca.verifies-endpoint', 'ca.contents', 'route.mqtt-8883.tls', 'route.https-443.tls']),
    );
    expect(f.explanation).toMatch(/issued the device certificate/);
    expect(codes(findings)).not.toContain('TLS_INTERCEPTED');
    expect(codes(findings)).not.toContain('OTHER_WARNINGS');
  });

  it('without ca.verifies-endpoint: likely, with interception as the other candidate', () => {
    const results = [
      ...withoutCaChecks(),
      check('ca.contents', 'CA_NO_AMAZON_ROOT', 'warn', { path: 'corp-bundle.pem' }),
      ...allRoutes({ 'mqtt-8883': untrusted(AMAZON_CHAIN) }),
    ];
    const f = only(diagnose(results), 'WRONG_CA_FILE');
    expect(f.confidence).toBe('likely');
    expect(f.params).toMatchObject({ caFile: 'corp-bundle.pem', routes: ['mqtt-8883'], wouldVerifyWith: null });
    expect(f.candidates?.map((c) => c.code)).toEqual(['WRONG_CA_FILE', 'TLS_INTERCEPTED']);
  });
});

describe('ENDPOINT_NAME_MISMATCH', () => {
  it('the server certificate does not cover the endpoint', () => {
    const other = [
      {
        subject: 'CN=other.example.com',
        issuer: 'C=US, O=Amazon, CN=Amazon RSA 2048 M01',
        fingerprint256: 'EE:11',
        subjectAltName: 'DNS:other.example.com, DNS:www.other.example.com',
      },
    ];
    const results = [
      ...localPasses(),
      ...allRoutes({ 'mqtt-8883': { tls: fail('TLS_HOSTNAME_MISMATCH', { sni: ENDPOINT, chain: other }) } }),
    ];
    const f = only(diagnose(results), 'ENDPOINT_NAME_MISMATCH');
    expect(f.confidence).toBe('certain');
    expect(f.params).toMatchObject({
      endpoint: ENDPOINT,
      certificateNames: ['other.example.com', 'www.other.example.com'],
      routes: ['mqtt-8883'],
    });
    expect(f.evidence).toEqual(['route.mqtt-8883.tls']);
  });

  it("unrecognized_name on every route: likely, never certain (AWS's reaction to a wrong SNI is unconfirmed, facts §2.2)", () => {
    const alert = fail('TLS_ALERT', { sni: ENDPOINT, alert: 'unrecognized_name', alertNumber: 112 });
    const results = allRoutes({
      'mqtt-8883': { tls: alert },
      'mqtt-443': { tls: alert },
      'https-8443': { tls: alert },
      'https-443': { tls: alert },
    });
    const f = only(diagnose(results), 'ENDPOINT_NAME_MISMATCH');
    expect(f.confidence).toBe('likely');
    expect(f.title).toMatch(/refused the TLS handshake/);
    expect(f.explanation).toMatch(/unrecognized_name/);
    expect((f.candidates ?? []).map((c) => c.code)).toContain('TLS_VERSION_OR_CIPHER');
  });

  it('unrecognized_name on one route only is not taken as the name (another route took the name)', () => {
    const results = allRoutes({
      'https-443': { tls: fail('TLS_ALERT', { sni: ENDPOINT, alert: 'unrecognized_name', alertNumber: 112 }) },
    });
    expect(codes(diagnose(results))).not.toContain('ENDPOINT_NAME_MISMATCH');
  });

  const disowned = (): ReturnType<typeof check> =>
    check('cloud.endpoint', 'ENDPOINT_OTHER_ACCOUNT', 'fail', {
      expected: 'zzzzzzzzzzzzzz-ats.iot.eu-west-1.amazonaws.com',
      actual: ENDPOINT,
    });

  it('alert 40 on every route: possible alone (a cipher mismatch looks the same), likely when DescribeEndpoint names another endpoint', () => {
    const alert = fail('TLS_ALERT', { sni: ENDPOINT, alert: 'handshake_failure', alertNumber: 40 });
    const refused = allRoutes({
      'mqtt-8883': { tls: alert },
      'mqtt-443': { tls: alert },
      'https-8443': { tls: alert },
      'https-443': { tls: alert },
    });
    expect(only(diagnose(refused), 'ENDPOINT_NAME_MISMATCH').confidence).toBe('possible');
    const withApi = diagnose([...refused, disowned()]);
    expect(only(withApi, 'ENDPOINT_NAME_MISMATCH').confidence).toBe('likely');
    expect(codes(withApi)).not.toContain('UNEXPLAINED_FAILURE');
  });

  it('a bare close after the ClientHello on every route, name disowned by the API: the name, not a blocked network', () => {
    const closed = fail('TLS_CLOSED', { sni: ENDPOINT, bytesFromServer: 0 });
    const refused = allRoutes({
      'mqtt-8883': { tls: closed },
      'mqtt-443': { tls: closed },
      'https-8443': { tls: closed },
      'https-443': { tls: closed },
    });
    const findings = diagnose([...refused, disowned()]);
    expect(only(findings, 'ENDPOINT_NAME_MISMATCH').confidence).toBe('likely');
    expect(codes(findings)).not.toContain('ALL_ROUTES_BLOCKED');
    // Without the API's word a bare close stays a network question.
    expect(codes(diagnose(refused))).not.toContain('ENDPOINT_NAME_MISMATCH');
  });
});

describe('ALPN_STRIPPED', () => {
  it('on 443 the server selects no ALPN; 8883 and 8443 work', () => {
    const results = [
      ...localPasses(),
      ...allRoutes({
        'mqtt-443': { alpn: fail('ALPN_NOT_SELECTED', { offered: 'x-amzn-mqtt-ca', selected: null }) },
        'https-443': { alpn: fail('ALPN_NOT_SELECTED', { offered: 'x-amzn-http-ca', selected: null }) },
      }),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'ALPN_STRIPPED');
    expect(f.confidence).toBe('certain');
    expect(f.params).toMatchObject({
      routes: ['mqtt-443', 'https-443'],
      offered: ['x-amzn-mqtt-ca', 'x-amzn-http-ca'],
      selected: null,
      alternatives: ['mqtt-8883', 'https-8443'],
    });
    expect(f.evidence).toEqual(['route.mqtt-443.alpn', 'route.https-443.alpn']);
    expect(f.remediation[0]).toMatch(/mqtt-8883/);
    expect(codes(findings)).toEqual(['ALPN_STRIPPED']);
    // Both protocols mean the same thing: said once, and no custom-auth route was part of the run.
    expect(f.explanation).toContain('x-amzn-mqtt-ca / x-amzn-http-ca means "client certificate".');
    expect(f.explanation).not.toContain('custom authentication');
  });

  it('HTTPS 403 "Missing Authentication Token" on 443 is the same cause, likely', () => {
    const results = allRoutes({
      'https-443': {
        alpn: { code: 'ALPN_SELECTED', status: 'pass', evidence: { selected: null } },
        protocol: fail('HTTP_MISSING_AUTH_TOKEN', { status: 403 }),
      },
    });
    // The alpn stage claims selection here, so the 403 alone is not taken as stripping.
    expect(codes(diagnose(results))).not.toContain('ALPN_STRIPPED');
    const stripped = allRoutes({
      'https-443': {
        alpn: { status: 'pass', code: 'ALPN_NOT_USED' },
        protocol: fail('HTTP_MISSING_AUTH_TOKEN', { status: 403 }),
      },
    });
    const f = only(diagnose(stripped), 'ALPN_STRIPPED');
    expect(f.confidence).toBe('likely');
    expect(f.evidence).toEqual(['route.https-443.protocol']);
  });

  it('custom authentication on 443 loses ALPN mqtt too: each meaning is named once', () => {
    const results = [
      ...localPasses(),
      ...allRoutes({
        'mqtt-443': { alpn: fail('ALPN_NOT_SELECTED', { offered: 'x-amzn-mqtt-ca', selected: null }) },
      }),
      ...route('mqtt-custom-auth-443', { alpn: fail('ALPN_NOT_SELECTED', { offered: 'mqtt', selected: null }) }),
    ];
    const f = only(diagnose(results), 'ALPN_STRIPPED');
    expect(f.explanation).toContain('x-amzn-mqtt-ca means "client certificate", mqtt means "custom authentication".');
    expect(f.explanation).toContain('MQTT on 443 (custom authentication included) gets no CONNACK');
  });

  it('a different protocol selected', () => {
    const results = allRoutes({
      'mqtt-443': { alpn: fail('ALPN_UNEXPECTED', { offered: 'x-amzn-mqtt-ca', selected: 'http/1.1' }) },
    });
    const f = only(diagnose(results), 'ALPN_STRIPPED');
    expect(f.params['selected']).toBe('http/1.1');
  });
});
