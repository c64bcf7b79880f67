import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import { CLIENT_ID, ENDPOINT, TOPIC, allRoutes, check, codes, fail, localPasses, only } from './diagnose-fixtures.js';

const ARN = 'arn:aws:iot:eu-west-1:123456789012';
const closedAfterConnect = {
  protocol: fail('MQTT_CLOSED_AFTER_CONNECT', { clientId: CLIENT_ID, topic: TOPIC, step: 'connect' }),
};
const forbidden = { protocol: fail('HTTP_FORBIDDEN', { status: 403, topic: TOPIC }) };

/** The symptom AWS shows for every account-side refusal: closed after CONNECT, HTTPS 403. */
function rejectedEverywhere() {
  return allRoutes({
    'mqtt-8883': closedAfterConnect,
    'mqtt-443': closedAfterConnect,
    'https-8443': forbidden,
    'https-443': forbidden,
  });
}

const cloudOk = () => [
  check('cloud.credentials', 'CLOUD_CREDENTIALS_OK'),
  check('cloud.endpoint', 'ENDPOINT_MATCHES'),
  check('cloud.certificate', 'CERT_REGISTERED_ACTIVE', 'pass', { status: 'ACTIVE' }),
  check('cloud.policy-attached', 'POLICY_ATTACHED', 'pass', {
    policies: [{ policyName: 'device-policy', from: 'certificate' }],
  }),
  check('cloud.authorization.connect', 'AUTH_ALLOWED', 'pass', { action: 'CONNECT', decision: 'ALLOWED' }),
  check('cloud.authorization.publish', 'AUTH_ALLOWED', 'pass', { action: 'PUBLISH', decision: 'ALLOWED' }),
  check('cloud.authorization.subscribe', 'AUTH_ALLOWED', 'pass', { action: 'SUBSCRIBE', decision: 'ALLOWED' }),
  check('cloud.authorization.receive', 'AUTH_ALLOWED', 'pass', { action: 'RECEIVE', decision: 'ALLOWED' }),
  check('cloud.thing', 'THING_OK'),
];
const cloudWith = (...replace: ReturnType<typeof check>[]) =>
  cloudOk().map((r) => replace.find((x) => x.id === r.id) ?? r);

const symptomIds = [
  'route.mqtt-8883.protocol',
  'route.mqtt-443.protocol',
  'route.https-8443.protocol',
  'route.https-443.protocol',
];

describe('CERT_NOT_REGISTERED', () => {
  it('DescribeCertificate does not know the certificate; the routes show why', () => {
    const results = [
      ...localPasses(),
      ...cloudWith(
        check('cloud.certificate', 'CERT_NOT_REGISTERED', 'fail', {
          certificateId: 'ab'.repeat(32),
          region: 'eu-west-1',
        }),
      ),
      ...rejectedEverywhere(),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'CERT_NOT_REGISTERED');
    expect(findings[0]).toBe(f);
    expect(f.confidence).toBe('certain');
    expect(f.params).toEqual({ certificateId: 'ab'.repeat(32), region: 'eu-west-1' });
    expect(f.evidence).toEqual(['cloud.certificate', ...symptomIds]);
    expect(codes(findings)).toEqual(['CERT_NOT_REGISTERED']);
  });
});

describe('CERT_NOT_ACTIVE', () => {
  it('the certificate is INACTIVE', () => {
    const results = [
      ...localPasses(),
      ...cloudWith(check('cloud.certificate', 'CERT_NOT_ACTIVE', 'fail', { status: 'INACTIVE' })),
      ...rejectedEverywhere(),
    ];
    const f = only(diagnose(results), 'CERT_NOT_ACTIVE');
    expect(f.params).toEqual({ status: 'INACTIVE' });
    expect(f.evidence).toEqual(['cloud.certificate', ...symptomIds]);
    expect(f.remediation[0]).toMatch(/update-certificate .*--new-status ACTIVE/);
  });

  it('a REVOKED certificate can only be replaced', () => {
    const results = [...cloudWith(check('cloud.certificate', 'CERT_NOT_ACTIVE', 'fail', { status: 'REVOKED' }))];
    const f = only(diagnose(results), 'CERT_NOT_ACTIVE');
    expect(f.params['status']).toBe('REVOKED');
    expect(f.remediation.join(' ')).not.toMatch(/update-certificate/);
  });

  it('an inactive CA is not a cause: registered certificates keep working; it stays a warning', () => {
    const results = [
      check('cloud.certificate', 'CERT_REGISTERED_ACTIVE'),
      check('cloud.certificate.ca', 'CA_NOT_ACTIVE', 'warn', { status: 'INACTIVE' }),
    ];
    const findings = diagnose(results);
    expect(findings.map((f) => f.code)).not.toContain('CERT_NOT_ACTIVE');
    expect(findings.map((f) => f.code)).toContain('OTHER_WARNINGS');
    expect(findings.find((f) => f.code === 'OTHER_WARNINGS')!.evidence).toContain('cloud.certificate.ca');
  });
});

describe('NO_POLICY_ATTACHED', () => {
  it('no policy on the certificate', () => {
    const results = [
      ...localPasses(),
      ...cloudWith(
        check('cloud.policy-attached', 'NO_POLICY_ATTACHED', 'fail', {
          certificateArn: `${ARN}:cert/${'ab'.repeat(32)}`,
          policies: [],
        }),
        check('cloud.authorization.connect', 'AUTH_IMPLICIT_DENY', 'fail', {
          action: 'CONNECT',
          resource: `${ARN}:client/${CLIENT_ID}`,
          clientId: CLIENT_ID,
        }),
      ),
      ...rejectedEverywhere(),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'NO_POLICY_ATTACHED');
    expect(f.params).toEqual({ certificateArn: `${ARN}:cert/${'ab'.repeat(32)}` });
    // The implicit deny is a consequence: folded into the root cause.
    expect(f.evidence).toEqual(['cloud.policy-attached', ...symptomIds, 'cloud.authorization.connect']);
    expect(codes(findings)).toEqual(['NO_POLICY_ATTACHED']);
  });
});

describe('POLICY_DENIES_CONNECT', () => {
  it('the policy allows only another client id (implicit deny)', () => {
    const results = [
      ...localPasses(),
      ...cloudWith(
        check('cloud.authorization.connect', 'AUTH_IMPLICIT_DENY', 'fail', {
          action: 'CONNECT',
          resource: `${ARN}:client/${CLIENT_ID}`,
          clientId: CLIENT_ID,
          decision: 'IMPLICIT_DENY',
          allowedBy: [],
          deniedBy: [],
          implicitDenyBy: ['device-policy'],
          missingContextValues: [],
        }),
      ),
      ...allRoutes({ 'mqtt-8883': closedAfterConnect, 'mqtt-443': closedAfterConnect }),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'POLICY_DENIES_CONNECT');
    expect(f.params).toEqual({ clientId: CLIENT_ID, deny: 'implicit', policies: ['device-policy'] });
    expect(f.evidence).toEqual([
      'cloud.authorization.connect',
      'cloud.policy-attached',
      'route.mqtt-8883.protocol',
      'route.mqtt-443.protocol',
    ]);
    expect(f.title).toContain(CLIENT_ID);
    expect(codes(findings)).toEqual(['POLICY_DENIES_CONNECT']);
  });

  it('an explicit deny names the denying policy; missing thing variables are reported', () => {
    const results = [
      ...cloudWith(
        check('cloud.authorization.connect', 'AUTH_EXPLICIT_DENY', 'fail', {
          action: 'CONNECT',
          resource: `${ARN}:client/${CLIENT_ID}`,
          clientId: CLIENT_ID,
          deniedBy: [{ policyName: 'deny-all' }],
          missingContextValues: ['iot:Connection.Thing.ThingName'],
        }),
        check('cloud.thing', 'THING_NOT_ATTACHED_FOR_POLICY', 'fail'),
      ),
      ...allRoutes({
        'mqtt-8883': { protocol: fail('MQTT_CONNACK_REFUSED', { reasonCode: 0x87, reason: 'Not authorized' }) },
      }),
    ];
    const f = only(diagnose(results), 'POLICY_DENIES_CONNECT');
    expect(f.params).toEqual({
      clientId: CLIENT_ID,
      deny: 'explicit',
      policies: ['deny-all'],
      missingContextValues: ['iot:Connection.Thing.ThingName'],
    });
    expect(f.evidence).toEqual(
      expect.arrayContaining(['cloud.authorization.connect', 'cloud.thing', 'route.mqtt-8883.protocol']),
    );
    expect(f.remediation.join('\n')).toMatch(/attach-thing-principal/);
  });
});

describe('POLICY_DENIES_PUBLISH', () => {
  it('TestAuthorization: explicit deny of iot:Publish', () => {
    const results = [
      ...localPasses(),
      ...cloudWith(
        check('cloud.authorization.publish', 'AUTH_EXPLICIT_DENY', 'fail', {
          action: 'PUBLISH',
          resource: `${ARN}:topic/${TOPIC}`,
          deniedBy: ['deny-diagnostics'],
        }),
      ),
      ...allRoutes({
        'mqtt-8883': { 'round-trip': fail('MQTT_CLOSED_AFTER_PUBLISH', { topic: TOPIC }) },
        'mqtt-443': { 'round-trip': fail('MQTT_CLOSED_AFTER_PUBLISH', { topic: TOPIC }) },
        'https-8443': forbidden,
        'https-443': forbidden,
      }),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'POLICY_DENIES_PUBLISH');
    expect(f.confidence).toBe('certain');
    expect(f.severity).toBe('error');
    expect(f.params).toEqual({
      topic: TOPIC,
      deny: 'explicit',
      policies: ['deny-diagnostics'],
      routes: ['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443'],
    });
    expect(f.evidence).toEqual([
      'cloud.authorization.publish',
      'route.mqtt-8883.round-trip',
      'route.mqtt-443.round-trip',
      'route.https-8443.protocol',
      'route.https-443.protocol',
    ]);
    expect(codes(findings)).toEqual(['POLICY_DENIES_PUBLISH']);
  });

  it('without cloud checks: MQTT 5 PUBACK "not authorized" after a good CONNACK is likely the policy', () => {
    const results = allRoutes({
      'mqtt-8883': { 'round-trip': fail('MQTT_PUBACK_REFUSED', { reasonCode: 0x87, topic: TOPIC }) },
    });
    const f = only(diagnose(results), 'POLICY_DENIES_PUBLISH');
    expect(f.confidence).toBe('likely');
    expect(f.params).toEqual({ topic: TOPIC, routes: ['mqtt-8883'] });
    expect(f.evidence).toEqual(['route.mqtt-8883.round-trip']);
  });

  it('not inferred from the routes when TestAuthorization allows the publish', () => {
    const results = [...cloudOk(), ...allRoutes({ 'mqtt-8883': { 'round-trip': fail('MQTT_CLOSED_AFTER_PUBLISH') } })];
    const findings = diagnose(results);
    expect(codes(findings)).not.toContain('POLICY_DENIES_PUBLISH');
    expect(codes(findings)).toContain('UNEXPLAINED_FAILURE');
  });
});

describe('POLICY_DENIES_SUBSCRIBE', () => {
  it('TestAuthorization: implicit deny of iot:Subscribe', () => {
    const results = [
      ...cloudWith(
        check('cloud.authorization.subscribe', 'AUTH_IMPLICIT_DENY', 'fail', {
          action: 'SUBSCRIBE',
          resource: `${ARN}:topicfilter/${TOPIC}`,
        }),
      ),
      ...allRoutes({ 'mqtt-8883': { 'round-trip': fail('MQTT_CLOSED_AFTER_SUBSCRIBE') } }),
    ];
    const f = only(diagnose(results), 'POLICY_DENIES_SUBSCRIBE');
    expect(f.confidence).toBe('certain');
    expect(f.params).toEqual({
      topic: TOPIC,
      actions: ['SUBSCRIBE'],
      deny: 'implicit',
      policies: ['device-policy'],
      routes: ['mqtt-8883'],
    });
    expect(f.evidence).toEqual(['cloud.authorization.subscribe', 'route.mqtt-8883.round-trip']);
  });

  it('without cloud checks: SUBACK refused is likely; a message that never arrives only possible', () => {
    const likely = only(
      diagnose(
        allRoutes({ 'mqtt-443': { 'round-trip': fail('MQTT_SUBACK_REFUSED', { reasonCode: 0x80, topic: TOPIC }) } }),
      ),
      'POLICY_DENIES_SUBSCRIBE',
    );
    expect(likely.confidence).toBe('likely');
    expect(likely.params).toEqual({ topic: TOPIC, actions: ['SUBSCRIBE'], routes: ['mqtt-443'] });
    const possible = only(
      diagnose(allRoutes({ 'mqtt-443': { 'round-trip': fail('MQTT_MESSAGE_NOT_RECEIVED', { topic: TOPIC }) } })),
      'POLICY_DENIES_SUBSCRIBE',
    );
    expect(possible.confidence).toBe('possible');
    expect(possible.params['actions']).toEqual(['RECEIVE']);
    expect(possible.candidates?.map((c) => c.code)).toEqual(['POLICY_DENIES_SUBSCRIBE', 'SLOW_DELIVERY']);
  });
});

describe('ENDPOINT_OTHER_ACCOUNT', () => {
  it('DescribeEndpoint returns another prefix', () => {
    const other = 'zzzzzzzzzzzzzz-ats.iot.eu-west-1.amazonaws.com';
    const results = [
      ...cloudWith(
        check('cloud.endpoint', 'ENDPOINT_OTHER_ACCOUNT', 'fail', {
          expected: other,
          actual: ENDPOINT,
          apiRegion: 'eu-west-1',
          endpointType: 'iot:Data-ATS',
        }),
      ),
      ...rejectedEverywhere(),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'ENDPOINT_OTHER_ACCOUNT');
    expect(f.params).toEqual({ configured: ENDPOINT, accountEndpoint: other, kind: 'account' });
    expect(f.evidence).toEqual(['cloud.endpoint', ...symptomIds]);
    expect(f.remediation[0]).toContain(other);
    expect(codes(findings)).not.toContain('AUTH_REJECTED_UNEXPLAINED');
  });

  it('region mismatch', () => {
    const inUs = ENDPOINT.replace('eu-west-1', 'us-east-1');
    const f = only(
      diagnose([
        check('cloud.endpoint', 'ENDPOINT_REGION_MISMATCH', 'fail', {
          expected: inUs,
          actual: ENDPOINT,
          apiRegion: 'us-east-1',
          endpointRegion: 'eu-west-1',
        }),
      ]),
      'ENDPOINT_OTHER_ACCOUNT',
    );
    expect(f.params).toEqual({ configured: ENDPOINT, accountEndpoint: inUs, kind: 'region' });
    expect(f.explanation).toContain('The endpoint is in eu-west-1, but the account was checked in us-east-1.');
  });
});

describe('LEGACY_ENDPOINT', () => {
  it('from cloud.endpoint', () => {
    const legacy = 'a1b2c3d4e5f6g7.iot.eu-west-1.amazonaws.com';
    const f = only(
      diagnose([
        check('cloud.endpoint', 'ENDPOINT_LEGACY', 'fail', { expected: ENDPOINT, actual: legacy, sameAccount: true }),
      ]),
      'LEGACY_ENDPOINT',
    );
    expect(f.params).toEqual({ endpoint: legacy, atsEndpoint: ENDPOINT });
    expect(f.evidence).toEqual(['cloud.endpoint']);
  });

  it('from the name the routes used, when the legacy chain fails verification', () => {
    const legacy = 'a1b2c3d4e5f6g7.iot.eu-west-1.amazonaws.com';
    const verisign = [
      {
        subject: `CN=*.iot.eu-west-1.amazonaws.com`,
        issuer: 'CN=Symantec Class 3 Secure Server CA - G4',
        fingerprint256: '11:22',
      },
    ];
    const results = allRoutes({
      'mqtt-8883': { tls: fail('TLS_CHAIN_UNTRUSTED', { sni: legacy, chain: verisign }) },
      'mqtt-443': { tls: fail('TLS_CHAIN_UNTRUSTED', { sni: legacy, chain: verisign }) },
      'https-8443': { tls: fail('TLS_CHAIN_UNTRUSTED', { sni: legacy, chain: verisign }) },
      'https-443': { tls: fail('TLS_CHAIN_UNTRUSTED', { sni: legacy, chain: verisign }) },
    });
    const findings = diagnose(results);
    const f = only(findings, 'LEGACY_ENDPOINT');
    expect(f.params).toEqual({ endpoint: legacy, atsEndpoint: ENDPOINT });
    expect(f.evidence).toEqual([
      'route.mqtt-8883.tls',
      'route.mqtt-443.tls',
      'route.https-8443.tls',
      'route.https-443.tls',
    ]);
    expect(codes(findings)).not.toContain('UNEXPLAINED_FAILURE');
  });
});

describe('AUTH_REJECTED_UNEXPLAINED', () => {
  it('closed after CONNECT and 403 without AWS credentials: four candidates, each with its deciding check', () => {
    const results = [
      ...localPasses(),
      check('cloud.credentials', 'CLOUD_NO_CREDENTIALS', 'skip'),
      ...rejectedEverywhere(),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'AUTH_REJECTED_UNEXPLAINED');
    expect(codes(findings)).toEqual(['AUTH_REJECTED_UNEXPLAINED']);
    expect(f.confidence).toBe('possible');
    expect(f.candidates?.map((c) => c.code)).toEqual([
      'CERT_NOT_REGISTERED',
      'CERT_NOT_ACTIVE',
      'NO_POLICY_ATTACHED',
      'POLICY_DENIES_CONNECT',
      'POLICY_DENIES_PUBLISH',
    ]);
    expect(f.candidates?.find((c) => c.code === 'POLICY_DENIES_CONNECT')?.decidedBy).toMatch(
      /^cloud\.authorization\.connect/,
    );
    expect(f.candidates?.find((c) => c.code === 'CERT_NOT_ACTIVE')?.decidedBy).toMatch(/^cloud\.certificate/);
    expect(f.candidates?.find((c) => c.code === 'NO_POLICY_ATTACHED')?.decidedBy).toMatch(/^cloud\.policy-attached/);
    expect(f.params).toMatchObject({
      symptoms: ['MQTT_CLOSED_AFTER_CONNECT', 'HTTP_FORBIDDEN'],
      cloudChecks: 'CLOUD_NO_CREDENTIALS',
      clientId: CLIENT_ID,
    });
    expect(f.evidence).toEqual([...symptomIds, 'cloud.credentials']);
    expect(f.remediation[0]).toMatch(/AWS credentials/);
  });

  it('candidates ruled out by the cloud checks that did run are dropped', () => {
    const results = [
      check('cloud.certificate', 'CERT_REGISTERED_ACTIVE', 'pass', { status: 'ACTIVE' }),
      check('cloud.policy-attached', 'POLICY_ATTACHED', 'pass', { policies: ['p'] }),
      check('cloud.authorization.connect', 'IAM_ACCESS_DENIED', 'skip', { permission: 'iot:TestAuthorization' }),
      ...allRoutes({ 'mqtt-8883': closedAfterConnect }),
    ];
    const f = only(diagnose(results), 'AUTH_REJECTED_UNEXPLAINED');
    expect(f.candidates?.map((c) => c.code)).toEqual(['POLICY_DENIES_CONNECT']);
    expect(f.confidence).toBe('likely');
    expect(f.params['cloudChecks']).toBe('IAM_ACCESS_DENIED');
    expect(f.explanation).toMatch(/iot:TestAuthorization/);
    expect(f.evidence).toEqual([
      'route.mqtt-8883.protocol',
      'cloud.authorization.connect',
      'cloud.certificate',
      'cloud.policy-attached',
    ]);
  });

  it('HTTPS publish works with the same certificate: only the connect policy is left', () => {
    const results = [
      check('cloud.credentials', 'CLOUD_NO_CREDENTIALS', 'skip'),
      ...allRoutes({ 'mqtt-8883': closedAfterConnect, 'mqtt-443': closedAfterConnect }),
    ];
    const f = only(diagnose(results), 'AUTH_REJECTED_UNEXPLAINED');
    expect(f.candidates?.map((c) => c.code)).toEqual(['POLICY_DENIES_CONNECT']);
    expect(f.confidence).toBe('likely');
  });

  it('when every cloud check passed: another account or a duplicate client id', () => {
    const results = [
      ...cloudWith(check('cloud.endpoint', 'ENDPOINT_MATCHES')),
      ...allRoutes({ 'mqtt-8883': closedAfterConnect }),
    ];
    const f = only(diagnose(results), 'AUTH_REJECTED_UNEXPLAINED');
    expect(f.candidates?.map((c) => c.code)).toEqual(['DUPLICATE_CLIENT_ID']);
  });

  it('a client certificate rejected in the handshake', () => {
    const rejected = { 'client-auth': fail('CLIENT_CERT_REJECTED', { alert: 'certificate_unknown' }) };
    const results = [
      ...localPasses(),
      ...allRoutes({ 'mqtt-8883': rejected, 'mqtt-443': rejected, 'https-8443': rejected, 'https-443': rejected }),
    ];
    const f = only(diagnose(results), 'AUTH_REJECTED_UNEXPLAINED');
    expect(f.candidates?.map((c) => c.code)).toEqual(['CERT_NOT_REGISTERED', 'CERT_NOT_ACTIVE']);
    expect(f.params['symptoms']).toEqual(['CLIENT_CERT_REJECTED']);
  });
});
