/**
 * The cloud checks through the real @aws-sdk/client-iot against the lab's control plane, configured the way a user
 * would: static credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the API endpoint in
 * AWS_ENDPOINT_URL_IOT. Shared config files point at an empty file and the instance metadata lookup is off, so
 * every byte stays on loopback.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cloudChecks } from '../../checks/cloud.js';
import { createLabPki, LAB_DEVICE_NAME, startLab, type Lab, type LabPki } from '../../src/lab/index.js';
import type { RouteId } from '../../src/model/index.js';
import type { DeviceFiles } from '../../src/probes/device-files.js';
import { runChecks } from '../../src/runner/index.js';
import type { Target } from '../../src/target.js';
import { awsEnvSandbox, labCloudTarget, labDeviceCredentials, runLabCloud } from '../helpers/cloud-run.js';
import { contextFor } from '../helpers/servers.js';

const sandbox = awsEnvSandbox('iot-doctor-cloud-');
let pki: LabPki;

const ACCESS_KEY = 'AKIDCLOUDCHECKTEST';
const SECRET_KEY = 'cloud-check-test-secret';

function useLabEnv(lab: Lab): void {
  sandbox.clean({
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_ENDPOINT_URL_IOT: lab.apiEndpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: lab.apiEndpoint,
  });
}
const credentialsOf = labDeviceCredentials;
const targetOf = labCloudTarget;
const runCloud = runLabCloud;

const labs: Lab[] = [];
async function lab(scenario = 'healthy'): Promise<Lab> {
  const l = await startLab({ scenario, pki, mqtt5: 'off' });
  labs.push(l);
  useLabEnv(l);
  return l;
}

beforeAll(() => {
  pki = createLabPki('ec');
});

afterEach(async () => {
  await Promise.all(labs.splice(0).map((l) => l.close()));
});

afterAll(() => sandbox.restore());

const AUTH_IDS = [
  'cloud.authorization.connect',
  'cloud.authorization.publish',
  'cloud.authorization.subscribe',
  'cloud.authorization.receive',
];

describe('cloud checks against the lab (healthy account)', () => {
  it('every check passes, in catalogue order, with evidence, reproduce commands and no secrets', async () => {
    const l = await lab('healthy');
    const { results, get } = await runCloud(l);
    expect(results.map((r) => r.id)).toEqual([
      'cloud.credentials',
      'cloud.endpoint',
      'cloud.certificate',
      'cloud.certificate.ca',
      'cloud.policy-attached',
      ...AUTH_IDS,
      'cloud.thing',
      'cloud.connectivity',
      'cloud.logs',
    ]);
    for (const r of results) {
      expect(r.status, `${r.id}: ${r.summary}`).toBe('pass');
      expect(r.route).toBeNull();
      expect(r.stage).toBeNull();
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
      expect(r.reproduce, r.id).toBeTruthy();
    }

    const creds = get('cloud.credentials');
    expect(creds.code).toBe('CLOUD_CREDENTIALS_OK');
    expect(creds.evidence).toMatchObject({
      region: l.region,
      source: 'env',
      apiEndpoint: l.apiEndpoint,
      apiEndpointFrom: 'AWS_ENDPOINT_URL_IOT',
    });

    expect(get('cloud.endpoint')).toMatchObject({
      code: 'ENDPOINT_MATCHES',
      reproduce: `aws iot describe-endpoint --endpoint-type iot:Data-ATS --region ${l.region}`,
    });

    const cert = get('cloud.certificate');
    expect(cert.code).toBe('CERT_REGISTERED_ACTIVE');
    expect(cert.reproduce).toBe(
      `aws iot describe-certificate --certificate-id ${l.device.certificateId} --region ${l.region}`,
    );
    expect(cert.evidence).toMatchObject({
      status: 'ACTIVE',
      certificateMode: 'DEFAULT',
      sniRequired: false,
      certificateArn: `arn:aws:iot:${l.region}:${l.accountId}:cert/${l.device.certificateId}`,
    });
    expect(cert.evidence['caCertificateId']).toMatch(/^[0-9a-f]{64}$/);
    expect(cert.evidence['creationDate']).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((cert.evidence['validity'] as { notAfter: string }).notAfter).toMatch(/^\d{4}-/);
    expect(get('cloud.certificate.ca').code).toBe('CA_ACTIVE');

    const pol = get('cloud.policy-attached');
    expect(pol.code).toBe('POLICY_ATTACHED');
    expect(pol.evidence['policies']).toEqual([
      { policyName: 'lab-device-policy', from: 'certificate' },
      { policyName: 'lab-fleet-telemetry', from: 'thing-group:lab-fleet', thingName: LAB_DEVICE_NAME },
    ]);
    expect(pol.reproduce).toContain(
      `aws iot list-attached-policies --target arn:aws:iot:${l.region}:${l.accountId}:cert/${l.device.certificateId}`,
    );

    for (const id of AUTH_IDS) {
      const a = get(id);
      expect(a.code).toBe('AUTH_ALLOWED');
      expect(a.evidence).toMatchObject({
        clientId: LAB_DEVICE_NAME,
        decision: 'ALLOWED',
        allowedBy: ['lab-device-policy'],
        source: 'TestAuthorization',
      });
      expect(a.reproduce).toContain('aws iot test-authorization --principal arn:aws:iot:');
      expect(a.reproduce).toContain(`--client-id ${LAB_DEVICE_NAME}`);
    }
    expect(get('cloud.authorization.connect').evidence['resource']).toBe(
      `arn:aws:iot:${l.region}:${l.accountId}:client/${LAB_DEVICE_NAME}`,
    );
    expect(get('cloud.authorization.subscribe').evidence['resource']).toBe(
      `arn:aws:iot:${l.region}:${l.accountId}:topicfilter/iot-doctor/${LAB_DEVICE_NAME}/probe`,
    );
    expect(get('cloud.authorization.receive').evidence['resource']).toBe(
      `arn:aws:iot:${l.region}:${l.accountId}:topic/iot-doctor/${LAB_DEVICE_NAME}/probe`,
    );

    expect(get('cloud.thing')).toMatchObject({ code: 'NO_THING_NEEDED', evidence: { things: [LAB_DEVICE_NAME] } });

    const text = JSON.stringify(results);
    expect(text).not.toContain(ACCESS_KEY);
    expect(text).not.toContain(SECRET_KEY);
    expect(text).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
  });

  it('tests authorization with the client ids the MQTT routes really use (our random id: <id>-8883 and <id>-443)', async () => {
    const l = await lab('healthy');
    const { get } = await runCloud(l, {
      clientId: 'iot-doctor-0a1b2c3d',
      clientIdFromUser: false,
      topic: 'iot-doctor/shared/probe',
    });
    const connect = get('cloud.authorization.connect');
    expect(connect.code).toBe('AUTH_ALLOWED');
    expect(connect.evidence['clientIds']).toEqual(['iot-doctor-0a1b2c3d-8883', 'iot-doctor-0a1b2c3d-443']);
    expect(Object.keys(connect.evidence['decisions'] as object)).toEqual([
      'iot-doctor-0a1b2c3d-8883',
      'iot-doctor-0a1b2c3d-443',
    ]);
    // The lab policy allows subscriptions only below iot-doctor/${iot:ClientId}/: neither per-route id matches here.
    const sub = get('cloud.authorization.subscribe');
    expect(sub.code).toBe('AUTH_IMPLICIT_DENY');
    expect(sub.status).toBe('fail');
    expect(sub.hint).toContain('"Action":"iot:Subscribe"');
  });

  it("default topics follow each route's client id, which ${iot:ClientId} policies allow", async () => {
    const l = await lab('healthy');
    const { get } = await runCloud(l, {
      clientId: 'iot-doctor-0a1b2c3d',
      clientIdFromUser: false,
      topic: 'iot-doctor/iot-doctor-0a1b2c3d/probe',
      topicFromUser: false,
    });
    const sub = get('cloud.authorization.subscribe');
    expect(sub.code).toBe('AUTH_ALLOWED');
    expect(Object.keys(sub.evidence['decisions'] as object)).toEqual([
      'iot-doctor-0a1b2c3d-8883',
      'iot-doctor-0a1b2c3d-443',
    ]);
    expect(sub.summary).toContain('topicfilter/iot-doctor/iot-doctor-0a1b2c3d-8883/probe');
  });

  it('one MQTT route: its client id is the base id, no suffix', async () => {
    const l = await lab('healthy');
    const routes: RouteId[] = ['mqtt-443', 'https-8443'];
    const { get } = await runCloud(l, { clientId: 'iot-doctor-0a1b2c3d', clientIdFromUser: false, routes });
    expect(get('cloud.authorization.connect').evidence['clientId']).toBe('iot-doctor-0a1b2c3d');
    expect(get('cloud.authorization.connect').evidence['clientIds']).toBeUndefined();
  });

  it('every certificate status other than ACTIVE fails CERT_NOT_ACTIVE with the status and the fix', async () => {
    const l = await lab('healthy');
    for (const status of [
      'INACTIVE',
      'REVOKED',
      'PENDING_TRANSFER',
      'PENDING_ACTIVATION',
      'REGISTER_INACTIVE',
    ] as const) {
      l.registry.setCertificateStatus(l.device.certificateId, status);
      const { get } = await runCloud(l);
      const r = get('cloud.certificate');
      expect(r.status, status).toBe('fail');
      expect(r.code).toBe('CERT_NOT_ACTIVE');
      expect(r.evidence['status']).toBe(status);
      expect(r.summary).toContain(status);
      if (status === 'INACTIVE' || status === 'PENDING_ACTIVATION' || status === 'REGISTER_INACTIVE') {
        expect(r.hint).toContain(
          `aws iot update-certificate --certificate-id ${l.device.certificateId} --new-status ACTIVE --region ${l.region}`,
        );
      }
      if (status === 'REVOKED') expect(r.hint).toMatch(/cannot be activated again/);
      if (status === 'PENDING_TRANSFER') expect(r.hint).toMatch(/accept-certificate-transfer/);
      // The policy checks still run: both problems must be fixed.
      expect(get('cloud.policy-attached').code).toBe('POLICY_ATTACHED');
    }
  });

  it('cert-inactive scenario: CERT_NOT_ACTIVE (INACTIVE)', async () => {
    const l = await lab('cert-inactive');
    const { get } = await runCloud(l);
    expect(get('cloud.certificate')).toMatchObject({
      status: 'fail',
      code: 'CERT_NOT_ACTIVE',
      evidence: { status: 'INACTIVE' },
    });
  });

  it('SNI_ONLY certificate: pass, and the summary says SNI is required', async () => {
    const l = await lab('healthy');
    l.registry.setCertificateMode(l.device.certificateId, 'SNI_ONLY');
    const { get } = await runCloud(l);
    const r = get('cloud.certificate');
    expect(r).toMatchObject({
      status: 'pass',
      code: 'CERT_REGISTERED_ACTIVE',
      evidence: { certificateMode: 'SNI_ONLY', sniRequired: true },
    });
    expect(r.summary).toMatch(/must send SNI/);
  });

  it('CA deactivated: cloud.certificate.ca warns CA_NOT_ACTIVE, the certificate itself still passes', async () => {
    const l = await lab('healthy');
    const caId = l.registry.getCertificate(l.device.certificateId)!.caCertificateId!;
    l.registry.setCACertificateStatus(caId, 'INACTIVE');
    const { get } = await runCloud(l);
    expect(get('cloud.certificate').code).toBe('CERT_REGISTERED_ACTIVE');
    const ca = get('cloud.certificate.ca');
    expect(ca).toMatchObject({
      status: 'warn',
      code: 'CA_NOT_ACTIVE',
      evidence: { caCertificateId: caId, status: 'INACTIVE' },
    });
    expect(ca.summary).toMatch(/keep working/);
    expect(ca.reproduce).toBe(`aws iot describe-ca-certificate --certificate-id ${caId} --region ${l.region}`);
  });

  it('certificate expired as AWS records it: CERT_EXPIRED_PER_AWS warning', async () => {
    const l = await lab('healthy');
    const ctx = contextFor(targetOf(l), credentialsOf(l));
    ctx.now = () => new Date(Date.now() + 100 * 365 * 86_400_000);
    const results = await runChecks(cloudChecks, ctx, { guardMs: 30_000 });
    expect(results.find((r) => r.id === 'cloud.certificate')).toMatchObject({
      status: 'warn',
      code: 'CERT_EXPIRED_PER_AWS',
      evidence: { status: 'ACTIVE' },
    });
  });

  it('CA id that this account does not hold: cloud.certificate.ca is a skip CA_NOT_IN_ACCOUNT', async () => {
    const l = await lab('healthy');
    l.registry.registerCertificate(l.device.certPem, { caCertificateId: 'fe'.repeat(32) });
    const { get } = await runCloud(l);
    expect(get('cloud.certificate').code).toBe('CERT_REGISTERED_ACTIVE');
    expect(get('cloud.certificate.ca')).toMatchObject({
      status: 'skip',
      code: 'CA_NOT_IN_ACCOUNT',
      evidence: { caCertificateId: 'fe'.repeat(32) },
    });
  });

  it('cert-not-registered: CERT_NOT_REGISTERED names account and region; the checks that need the principal are blocked', async () => {
    const l = await lab('cert-not-registered');
    const { get } = await runCloud(l);
    const r = get('cloud.certificate');
    expect(r).toMatchObject({
      status: 'fail',
      code: 'CERT_NOT_REGISTERED',
      evidence: { certificateId: l.device.certificateId, region: l.region },
    });
    expect(r.summary).toContain(`region ${l.region}`);
    expect(r.hint).toContain('register-certificate');
    expect(r.hint).toMatch(/other-region|another|elsewhere/);
    for (const id of ['cloud.policy-attached', ...AUTH_IDS, 'cloud.thing']) {
      expect(get(id), id).toMatchObject({
        status: 'skip',
        code: 'BLOCKED',
        evidence: { blockedBy: 'cloud.certificate', blockingCode: 'CERT_NOT_REGISTERED' },
      });
    }
    expect(get('cloud.endpoint').code).toBe('ENDPOINT_MATCHES');
  });

  it('a certificate id from a report stands in for the certificate file', async () => {
    const l = await lab('healthy');
    const noFile: DeviceFiles = { problems: [] };
    const { get } = await runCloud(l, { certificateId: l.device.certificateId } as Partial<Target>, noFile);
    expect(get('cloud.certificate').code).toBe('CERT_REGISTERED_ACTIVE');
    expect(get('cloud.authorization.connect').code).toBe('AUTH_ALLOWED');
    const none = await runCloud(l, {}, noFile);
    expect(none.get('cloud.certificate')).toMatchObject({ status: 'skip', code: 'INPUT_MISSING' });
    expect(none.get('cloud.endpoint').code).toBe('ENDPOINT_MATCHES');
  });

  it('no-policy: NO_POLICY_ATTACHED with the exact attach-policy command; every action implicitly denied', async () => {
    const l = await lab('no-policy');
    const { get } = await runCloud(l);
    const certArn = `arn:aws:iot:${l.region}:${l.accountId}:cert/${l.device.certificateId}`;
    const r = get('cloud.policy-attached');
    expect(r).toMatchObject({ status: 'fail', code: 'NO_POLICY_ATTACHED' });
    expect(r.evidence['attachCommand']).toBe(
      `aws iot attach-policy --policy-name <policy-name> --target ${certArn} --region ${l.region}`,
    );
    expect(r.hint).toContain(`--target ${certArn}`);
    for (const id of AUTH_IDS) expect(get(id), id).toMatchObject({ status: 'fail', code: 'AUTH_IMPLICIT_DENY' });
  });

  it('every page of attached policies is read (more than one page of 250)', async () => {
    const l = await lab('healthy');
    for (let i = 0; i < 260; i += 1) {
      l.registry.createPolicy(`extra-${i}`, {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'iot:Publish',
            Resource: `arn:aws:iot:${l.region}:${l.accountId}:topic/extra/${i}`,
          },
        ],
      });
      l.registry.attachPolicy(`extra-${i}`, l.device.certificateId);
    }
    const { get } = await runCloud(l);
    const policies = get('cloud.policy-attached').evidence['policies'] as { policyName: string; from: string }[];
    expect(policies.filter((p) => p.from === 'certificate')).toHaveLength(261);
    expect(policies.some((p) => p.policyName === 'extra-259')).toBe(true);
  });

  it('policy reaching the certificate only through a thing group', async () => {
    const l = await lab('no-policy');
    const arn = (kind: string, name: string): string => `arn:aws:iot:${l.region}:${l.accountId}:${kind}/${name}`;
    l.registry.createPolicy('group-device-policy', {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client', '${iot:Connection.Thing.ThingName}') },
        { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: arn('topic', 'iot-doctor/*') },
        { Effect: 'Allow', Action: 'iot:Subscribe', Resource: arn('topicfilter', 'iot-doctor/*') },
      ],
    });
    l.registry.addThingToGroup(LAB_DEVICE_NAME, 'sensors');
    l.registry.attachPolicyToGroup('group-device-policy', 'sensors');

    const asThing = await runCloud(l);
    expect(asThing.get('cloud.policy-attached')).toMatchObject({
      status: 'pass',
      code: 'POLICY_ATTACHED',
      evidence: {
        policies: [{ policyName: 'group-device-policy', from: 'thing-group:sensors', thingName: LAB_DEVICE_NAME }],
      },
    });
    for (const id of AUTH_IDS)
      expect(asThing.get(id), id).toMatchObject({
        code: 'AUTH_ALLOWED',
        evidence: { allowedBy: ['group-device-policy'] },
      });

    const asOther = await runCloud(l, { clientId: 'someone-else' });
    expect(asOther.get('cloud.policy-attached')).toMatchObject({ status: 'warn', code: 'POLICY_ONLY_VIA_THING_GROUP' });
    expect(asOther.get('cloud.policy-attached').hint).toContain(`--client-id ${LAB_DEVICE_NAME}`);
    expect(asOther.get('cloud.authorization.connect')).toMatchObject({ status: 'fail', code: 'AUTH_IMPLICIT_DENY' });
  });

  it('policy-explicit-deny: publish is EXPLICIT_DENY naming the denying policy; connect stays allowed', async () => {
    const l = await lab('policy-explicit-deny');
    const { get } = await runCloud(l);
    const pub = get('cloud.authorization.publish');
    expect(pub).toMatchObject({
      status: 'fail',
      code: 'AUTH_EXPLICIT_DENY',
      evidence: { decision: 'EXPLICIT_DENY', deniedBy: ['deny-diagnostics'], action: 'PUBLISH' },
    });
    expect(pub.summary).toContain('deny-diagnostics');
    expect(pub.hint).toMatch(/explicit Deny wins/);
    expect(get('cloud.authorization.connect').code).toBe('AUTH_ALLOWED');
  });

  it('policy-other-client: CONNECT with the probe client id is implicitly denied', async () => {
    const l = await lab('policy-other-client');
    const { get } = await runCloud(l);
    const c = get('cloud.authorization.connect');
    expect(c).toMatchObject({
      status: 'fail',
      code: 'AUTH_IMPLICIT_DENY',
      evidence: {
        clientId: LAB_DEVICE_NAME,
        decision: 'IMPLICIT_DENY',
        implicitDenyBy: ['lab-device-policy', 'lab-fleet-telemetry'],
      },
    });
    expect(c.summary).toContain(`client/${LAB_DEVICE_NAME}`);
    expect(get('cloud.authorization.publish').code).toBe('AUTH_ALLOWED');
    expect(get('cloud.policy-attached').code).toBe('POLICY_ATTACHED');
  });

  it('thing variable in the policy without the matching thing: THING_NOT_ATTACHED_FOR_POLICY', async () => {
    const l = await lab('no-policy');
    const certArn = `arn:aws:iot:${l.region}:${l.accountId}:cert/${l.device.certificateId}`;
    l.registry.createPolicy('thing-policy', {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'iot:Connect',
          Resource: `arn:aws:iot:${l.region}:${l.accountId}:client/\${iot:Connection.Thing.ThingName}`,
        },
      ],
    });
    l.registry.attachPolicy('thing-policy', certArn);

    // Attached to thing lab-device-1, probing as lab-device-1: fine.
    const ok = await runCloud(l);
    expect(ok.get('cloud.thing')).toMatchObject({
      status: 'pass',
      code: 'THING_OK',
      evidence: { policies: ['thing-policy'], things: [LAB_DEVICE_NAME] },
    });
    expect(ok.get('cloud.authorization.connect').code).toBe('AUTH_ALLOWED');

    // Probing with another client id: the thing name does not match.
    const other = await runCloud(l, {
      clientId: 'iot-doctor-0a1b2c3d',
      clientIdFromUser: false,
      routes: ['mqtt-8883'],
    });
    const t = other.get('cloud.thing');
    expect(t).toMatchObject({
      status: 'fail',
      code: 'THING_NOT_ATTACHED_FOR_POLICY',
      evidence: { things: [LAB_DEVICE_NAME], clientIds: ['iot-doctor-0a1b2c3d'] },
    });
    expect(t.summary).toContain('iot:Connection.Thing.ThingName');
    expect(t.summary).toContain('iot-doctor-0a1b2c3d');
    expect(t.summary).toContain(LAB_DEVICE_NAME);
    expect(t.hint).toContain(`--client-id ${LAB_DEVICE_NAME}`);
    const connect = other.get('cloud.authorization.connect');
    expect(connect.code).toBe('AUTH_IMPLICIT_DENY');
    expect(connect.evidence['missingContextValues']).toContain('iot:Connection.Thing.ThingName');

    // No thing attached at all.
    l.registry.detachThingPrincipal(LAB_DEVICE_NAME, certArn);
    const none = await runCloud(l);
    const n = none.get('cloud.thing');
    expect(n).toMatchObject({ status: 'fail', code: 'THING_NOT_ATTACHED_FOR_POLICY', evidence: { things: [] } });
    expect(n.summary).toMatch(/no thing is attached/);
    expect(n.hint).toContain(`aws iot attach-thing-principal --thing-name ${LAB_DEVICE_NAME} --principal ${certArn}`);
  });
});

describe('cloud.endpoint', () => {
  it("endpoint-other-account: ENDPOINT_OTHER_ACCOUNT with the account's endpoint as expected", async () => {
    const l = await lab('endpoint-other-account');
    const { get } = await runCloud(l);
    const r = get('cloud.endpoint');
    expect(r).toMatchObject({
      status: 'fail',
      code: 'ENDPOINT_OTHER_ACCOUNT',
      evidence: { actual: l.endpoint, endpointRegion: l.region, apiRegion: l.region },
    });
    expect(r.evidence['expected']).not.toBe(l.endpoint);
    expect(r.evidence['expected']).toMatch(/-ats\.iot\.eu-west-1\.amazonaws\.com$/);
  });

  it('legacy name and region mismatch', async () => {
    const l = await lab('healthy');
    const legacy = await runCloud(l, { endpoint: l.endpoint.replace('-ats.', '.') });
    expect(legacy.get('cloud.endpoint')).toMatchObject({
      status: 'fail',
      code: 'ENDPOINT_LEGACY',
      evidence: { expected: l.endpoint, sameAccount: true },
    });
    expect(legacy.get('cloud.endpoint').hint).toContain(l.endpoint);

    const otherRegion = l.endpoint.replace('.eu-west-1.', '.us-east-1.');
    const mismatch = await runCloud(l, { endpoint: otherRegion });
    expect(mismatch.get('cloud.endpoint')).toMatchObject({
      status: 'fail',
      code: 'ENDPOINT_REGION_MISMATCH',
      evidence: { expected: l.endpoint, actual: otherRegion, endpointRegion: 'us-east-1', apiRegion: 'eu-west-1' },
    });
  });
});
