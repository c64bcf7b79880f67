import { describe, expect, it } from 'vitest';
import { cloudTargetFromReport, isCloudResult, mergeCloudResults } from '../../checks/cloud.js';
import { compareEndpoint } from '../../checks/cloud-endpoint.js';
import { withinBudget } from '../../checks/cloud-check-util.js';
import { awsIot } from '../../checks/cloud-cli-util.js';
import { probeClientIds } from '../../checks/cloud-context-util.js';
import { parseCertArn, partitionOf } from '../../checks/cloud-principal-util.js';
import { routeClientId } from '../../checks/route-protocol.js';
import { ROUTES, SCHEMA_VERSION, type CheckResult, type Report } from '../../src/model/index.js';
import { classifyError } from '../../src/probes/iot-api.js';
import { contextFor, targetFor } from '../helpers/servers.js';
import { RunDeadline } from '../../src/runner/deadline.js';

const ATS = 'a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com';
const CERT_ID = 'ab'.repeat(32);

function res(id: string, extra: Partial<CheckResult> = {}): CheckResult {
  return {
    id,
    route: null,
    stage: null,
    title: id,
    status: 'pass',
    code: 'X',
    summary: '',
    evidence: {},
    durationMs: 1,
    ...extra,
  };
}

function report(results: CheckResult[], target: Partial<Report['target']> = {}): Report {
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'iot-doctor', version: '0.1.0' },
    target: {
      endpoint: ATS,
      routes: ['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443'],
      connectTo: [],
      files: {},
      ...target,
    },
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 10,
    results,
    diagnosis: [],
    summary: { pass: 0, warn: 0, fail: 0, skip: 0, error: 0 },
    exitCode: 0,
  };
}

describe('compareEndpoint', () => {
  it('same name (any case): ENDPOINT_MATCHES', () => {
    expect(compareEndpoint(ATS.toUpperCase(), ATS, 'eu-west-1')).toMatchObject({
      status: 'pass',
      code: 'ENDPOINT_MATCHES',
    });
  });
  it('other prefix, same region: ENDPOINT_OTHER_ACCOUNT with expected/actual and the region of the name', () => {
    const other = 'zzzzzzzzzzzzzz-ats.iot.eu-west-1.amazonaws.com';
    expect(compareEndpoint(other, ATS, 'eu-west-1')).toMatchObject({
      status: 'fail',
      code: 'ENDPOINT_OTHER_ACCOUNT',
      evidence: { expected: ATS, actual: other, endpointRegion: 'eu-west-1', apiRegion: 'eu-west-1' },
    });
  });
  it('legacy name without -ats: ENDPOINT_LEGACY, hint names the -ats endpoint', () => {
    const r = compareEndpoint('a1b2c3d4e5f6g7.iot.eu-west-1.amazonaws.com', ATS, 'eu-west-1');
    expect(r).toMatchObject({ status: 'fail', code: 'ENDPOINT_LEGACY', evidence: { sameAccount: true } });
    expect(r.hint).toContain(ATS);
  });
  it('name in another region than the API: ENDPOINT_REGION_MISMATCH', () => {
    const r = compareEndpoint('a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com', ATS, 'eu-west-1');
    expect(r).toMatchObject({
      code: 'ENDPOINT_REGION_MISMATCH',
      evidence: { endpointRegion: 'us-east-1', apiRegion: 'eu-west-1' },
    });
    expect(r.hint).toContain('--region us-east-1');
  });
  it('China partition names are understood', () => {
    const cn = 'a1b2c3d4e5f6g7-ats.iot.cn-north-1.amazonaws.com.cn';
    expect(compareEndpoint(cn, cn, 'cn-north-1').code).toBe('ENDPOINT_MATCHES');
  });
  it('a name that is not an AWS IoT endpoint: ENDPOINT_CUSTOM_DOMAIN warning', () => {
    expect(compareEndpoint('iot.example.com', ATS, 'eu-west-1')).toMatchObject({
      status: 'warn',
      code: 'ENDPOINT_CUSTOM_DOMAIN',
    });
  });
});

describe('classifyError', () => {
  const named = (name: string, message: string, httpStatusCode?: number): Error =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });
  it('AccessDenied names the permission from the message, else the operation permission', () => {
    const e = named(
      'AccessDeniedException',
      'User: arn:aws:iam::123456789012:user/x is not authorized to perform: iot:TestAuthorization on resource: arn:aws:iot:eu-west-1:123456789012:cert/abc',
      403,
    );
    expect(classifyError(e, 'TestAuthorization', 'iot:TestAuthorization')).toMatchObject({
      kind: 'access-denied',
      permission: 'iot:TestAuthorization',
      httpStatus: 403,
    });
    expect(classifyError(named('AccessDeniedException', 'denied', 403), 'GetPolicy', 'iot:GetPolicy')).toMatchObject({
      kind: 'access-denied',
      permission: 'iot:GetPolicy',
    });
  });
  it('maps the other kinds', () => {
    expect(classifyError(named('ResourceNotFoundException', 'x', 404), 'DescribeCertificate', 'p').kind).toBe(
      'not-found',
    );
    expect(classifyError(named('ThrottlingException', 'Rate exceeded', 400), 'DescribeCertificate', 'p').kind).toBe(
      'throttled',
    );
    expect(
      classifyError(
        named('UnrecognizedClientException', 'The security token included in the request is invalid', 403),
        'X',
        'p',
      ).kind,
    ).toBe('credentials-rejected');
    expect(classifyError(named('ExpiredTokenException', 'expired', 403), 'X', 'p').kind).toBe('credentials-rejected');
    expect(
      classifyError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }), 'X', 'p')
        .kind,
    ).toBe('unreachable');
    expect(classifyError(named('TimeoutError', 'The operation was aborted due to timeout'), 'X', 'p').kind).toBe(
      'unreachable',
    );
    expect(classifyError(named('InternalFailureException', 'boom', 500), 'X', 'p').kind).toBe('service-error');
  });
  it('keeps messages to one short line', () => {
    const f = classifyError(named('InternalFailureException', `a\n${'b'.repeat(500)}`, 500), 'X', 'p');
    expect(f.message).not.toContain('\n');
    expect(f.message.length).toBeLessThanOrEqual(300);
  });
});

describe('helpers', () => {
  it('probeClientIds follows routeClientId for every MQTT route, deduped', () => {
    const random = targetFor({}, { clientId: 'iot-doctor-0a1b2c3d', clientIdFromUser: false });
    expect(probeClientIds(random)).toEqual(['iot-doctor-0a1b2c3d-8883', 'iot-doctor-0a1b2c3d-443']);
    expect(probeClientIds(random)).toEqual([
      routeClientId(random, ROUTES['mqtt-8883']),
      routeClientId(random, ROUTES['mqtt-443']),
    ]);
    expect(probeClientIds(targetFor({}, { clientId: 'dev-1', clientIdFromUser: true }))).toEqual(['dev-1']);
    expect(probeClientIds(targetFor({}, { clientId: 'dev-1', routes: ['https-8443'] }))).toEqual(['dev-1']);
  });
  it('parseCertArn and partitionOf', () => {
    expect(parseCertArn(`arn:aws-cn:iot:cn-north-1:123456789012:cert/${CERT_ID}`)).toEqual({
      partition: 'aws-cn',
      region: 'cn-north-1',
      accountId: '123456789012',
      certificateId: CERT_ID,
    });
    expect(parseCertArn('arn:aws:iot:eu-west-1:1:cert/x')).toBeUndefined();
    expect(partitionOf('us-gov-west-1')).toBe('aws-us-gov');
    expect(partitionOf('eu-west-1')).toBe('aws');
  });
  it('awsIot adds region, profile and endpoint override, quoting values', () => {
    const t = targetFor({}, { region: 'eu-west-1', awsProfile: 'ops team', apiEndpoint: 'http://127.0.0.1:9' });
    expect(awsIot(t, undefined, 'test-authorization', [['--auth-infos', '[{"a":1}]']])).toBe(
      `aws iot test-authorization --auth-infos '[{"a":1}]' --region eu-west-1 --profile 'ops team' --endpoint-url http://127.0.0.1:9`,
    );
  });
});

describe('report hand-over', () => {
  const mqttResult = (route: 'mqtt-8883' | 'mqtt-443', clientId: string): CheckResult =>
    res(`route.${route}.protocol`, { route, stage: 'protocol', evidence: { clientId } });

  it('cloudTargetFromReport: our random id gives the per-route ids back through routeClientId', () => {
    const r = report(
      [
        res('cert.identity', { evidence: { certificateId: CERT_ID } }),
        mqttResult('mqtt-8883', 'iot-doctor-0a1b2c3d-8883'),
        mqttResult('mqtt-443', 'iot-doctor-0a1b2c3d-443'),
      ],
      {
        clientId: 'iot-doctor-0a1b2c3d',
        topic: 'iot-doctor/iot-doctor-0a1b2c3d/probe',
        region: 'eu-west-1',
        siteProfile: 'technician',
      },
    );
    const t = cloudTargetFromReport(r);
    expect(t).toEqual({
      endpoint: ATS,
      region: 'eu-west-1',
      topic: 'iot-doctor/iot-doctor-0a1b2c3d/probe',
      topicFromUser: false,
      routes: ['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443'],
      certificateId: CERT_ID,
      clientId: 'iot-doctor-0a1b2c3d',
      clientIdFromUser: false,
    });
    const target = targetFor({}, t);
    expect(probeClientIds(target)).toEqual(['iot-doctor-0a1b2c3d-8883', 'iot-doctor-0a1b2c3d-443']);
  });

  it("cloudTargetFromReport: a user's client id is used as it is; certificate id from the summary wins", () => {
    const r = report([mqttResult('mqtt-8883', 'pump-7'), mqttResult('mqtt-443', 'pump-7')], {
      clientId: 'pump-7',
      certificateId: CERT_ID.toUpperCase(),
    });
    const t = cloudTargetFromReport(r);
    expect(t).toMatchObject({ clientId: 'pump-7', clientIdFromUser: true, certificateId: CERT_ID });
    expect(probeClientIds(targetFor({}, t))).toEqual(['pump-7']);
  });

  it('cloudTargetFromReport: no route evidence, default-looking id is ours', () => {
    expect(cloudTargetFromReport(report([], { clientId: 'iot-doctor-0a1b2c3d' }))).toMatchObject({
      clientIdFromUser: false,
    });
    expect(cloudTargetFromReport(report([], { clientId: 'sensor' }))).toMatchObject({ clientIdFromUser: true });
  });

  it('mergeCloudResults replaces cloud.* results in place, or appends', () => {
    const old = report([
      res('cert.identity'),
      res('cloud.credentials', { status: 'skip' }),
      res('cloud.certificate', { status: 'skip' }),
      res('route.mqtt-8883.tcp'),
    ]);
    const fresh = [res('cloud.credentials'), res('cloud.endpoint'), res('cloud.certificate')];
    expect(mergeCloudResults(old, fresh).map((r) => r.id)).toEqual([
      'cert.identity',
      'cloud.credentials',
      'cloud.endpoint',
      'cloud.certificate',
      'route.mqtt-8883.tcp',
    ]);
    expect(
      mergeCloudResults(old, fresh)
        .filter(isCloudResult)
        .every((r) => r.status === 'pass'),
    ).toBe(true);
    const none = report([res('cert.identity'), res('route.mqtt-8883.tcp')]);
    expect(mergeCloudResults(none, fresh).map((r) => r.id)).toEqual([
      'cert.identity',
      'route.mqtt-8883.tcp',
      'cloud.credentials',
      'cloud.endpoint',
      'cloud.certificate',
    ]);
    expect(isCloudResult(res('cloudy.thing'))).toBe(false);
  });
});

describe('withinBudget', () => {
  it('a check whose calls never end becomes a warning after 6 x timeout, one per result id', async () => {
    // A run with time left (its own deadline far off): the check's own budget, 6 x --timeout, applies.
    const ctx = {
      ...contextFor(targetFor({}, { timeoutMs: 40 }), { problems: [] }),
      deadline: new RunDeadline(10_000),
    };
    const metas = [
      { id: 'cloud.a', title: 'A' },
      { id: 'cloud.b', title: 'B' },
    ];
    const t0 = performance.now();
    const out = await withinBudget(ctx, metas, t0, () => new Promise<CheckResult[]>(() => undefined));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(235);
    expect(out.map((r) => [r.id, r.status, r.code])).toEqual([
      ['cloud.a', 'warn', 'CLOUD_API_UNREACHABLE'],
      ['cloud.b', 'warn', 'CLOUD_API_UNREACHABLE'],
    ]);
    expect(out[0]!.evidence).toMatchObject({ budgetMs: 240 });
  });
  it("the run's one deadline cuts the budget: the warning comes when the run is over, and says so", async () => {
    const ctx = { ...contextFor(targetFor({}, { timeoutMs: 1000 }), { problems: [] }), deadline: new RunDeadline(120) };
    const t0 = performance.now();
    const out = await withinBudget(ctx, [{ id: 'cloud.a', title: 'A' }], t0, () => new Promise(() => undefined));
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(90);
    expect(took).toBeLessThan(1000);
    expect(out[0]).toMatchObject({ status: 'warn', code: 'CLOUD_API_UNREACHABLE' });
    expect(out[0]!.summary).toMatch(/what remained of the run's 120 ms deadline/);
  });
  it('a check that finishes in time is returned as it is', async () => {
    const ctx = contextFor(targetFor({}, { timeoutMs: 1000 }), { problems: [] });
    const r = res('cloud.a');
    expect(await withinBudget(ctx, [{ id: 'cloud.a', title: 'A' }], performance.now(), async () => [r])).toEqual([r]);
  });
});

describe('policySourceArn: the ARN IAM SimulatePrincipalPolicy takes for a caller', () => {
  it('maps an assumed-role session to its role, keeps users and roles, refuses what the simulator cannot take', async () => {
    const { policySourceArn } = await import('../../src/probes/iot-api.js');
    expect(policySourceArn('arn:aws:sts::123456789012:assumed-role/Device-Role/session@x')).toBe(
      'arn:aws:iam::123456789012:role/Device-Role',
    );
    expect(policySourceArn('arn:aws-cn:sts::123456789012:assumed-role/R/s')).toBe(
      'arn:aws-cn:iam::123456789012:role/R',
    );
    expect(policySourceArn('arn:aws:iam::123456789012:user/ops/alice')).toBe(
      'arn:aws:iam::123456789012:user/ops/alice',
    );
    expect(policySourceArn('arn:aws:iam::123456789012:role/R')).toBe('arn:aws:iam::123456789012:role/R');
    expect(policySourceArn('arn:aws:iam::123456789012:root')).toBeUndefined();
    expect(policySourceArn('arn:aws:sts::123456789012:federated-user/bob')).toBeUndefined();
    expect(policySourceArn('')).toBeUndefined();
  });
});
