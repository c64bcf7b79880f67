/**
 * The cloud checks when the AWS side does not simply answer: AccessDenied for one action, throttling, an API that
 * refuses or never answers, no credentials at all, credentials from a named profile. Real @aws-sdk/client-iot,
 * the lab's control plane, everything on loopback (instance metadata lookups are switched off).
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, LAB_DEVICE_NAME, startLab, type Lab, type LabPki } from '../../src/lab/index.js';
import type { Target } from '../../src/target.js';
import { awsEnvSandbox, runLabCloud } from '../helpers/cloud-run.js';

const sandbox = awsEnvSandbox('iot-doctor-cloud-faults-');
const { tmp } = sandbox;
let pki: LabPki;

const AUTH_IDS = [
  'cloud.authorization.connect',
  'cloud.authorization.publish',
  'cloud.authorization.subscribe',
  'cloud.authorization.receive',
];
const ALL_IDS = [
  'cloud.credentials',
  'cloud.endpoint',
  'cloud.certificate',
  'cloud.policy-attached',
  ...AUTH_IDS,
  'cloud.thing',
  'cloud.connectivity',
  'cloud.logs',
];

const cleanEnv = sandbox.clean;
function labEnv(apiEndpoint: string): void {
  cleanEnv({
    AWS_ACCESS_KEY_ID: 'AKIDFAULTTEST',
    AWS_SECRET_ACCESS_KEY: 'fault-test-secret',
    AWS_ENDPOINT_URL_IOT: apiEndpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: apiEndpoint,
  });
}
const runCloud = (lab: Lab, extra: Partial<Target> = {}) => runLabCloud(lab, extra);

const labs: Lab[] = [];
async function lab(scenario = 'healthy'): Promise<Lab> {
  const l = await startLab({ scenario, pki, mqtt5: 'off' });
  labs.push(l);
  labEnv(l.apiEndpoint);
  return l;
}

const servers: Server[] = [];
const sockets = new Set<Socket>();
async function listen(onConnection: (s: Socket) => void): Promise<number> {
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onConnection(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

beforeAll(() => {
  pki = createLabPki('ec');
});

afterEach(async () => {
  await Promise.all(labs.splice(0).map((l) => l.close()));
  for (const s of sockets) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

afterAll(() => sandbox.restore());

describe('AccessDenied', () => {
  it('iot:TestAuthorization denied: the policies are read and evaluated locally, same decisions', async () => {
    const l = await lab('policy-explicit-deny');
    l.faults.api.accessDenied.add('iot:TestAuthorization');
    const { get } = await runCloud(l);
    for (const id of AUTH_IDS) {
      const r = get(id);
      expect(r.evidence['source'], id).toBe('local-evaluation');
      expect(r.summary).toMatch(/evaluated locally/);
    }
    expect(get('cloud.authorization.connect')).toMatchObject({
      status: 'pass',
      code: 'AUTH_ALLOWED',
      evidence: { allowedBy: ['lab-device-policy'] },
    });
    expect(get('cloud.authorization.publish')).toMatchObject({
      status: 'fail',
      code: 'AUTH_EXPLICIT_DENY',
      evidence: { deniedBy: ['deny-diagnostics'] },
    });
    expect(get('cloud.authorization.subscribe').code).toBe('AUTH_ALLOWED');
    expect(get('cloud.authorization.receive').code).toBe('AUTH_ALLOWED');
    // The other checks are unaffected.
    expect(get('cloud.certificate').code).toBe('CERT_REGISTERED_ACTIVE');
    expect(get('cloud.policy-attached').code).toBe('POLICY_ATTACHED');
  });

  it('local evaluation sees thing-group policies and thing variables for a client id that is an attached thing', async () => {
    const l = await lab('no-policy');
    const arn = (kind: string, name: string): string => `arn:aws:iot:${l.region}:${l.accountId}:${kind}/${name}`;
    l.registry.createPolicy('group-policy', {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client', '${iot:Connection.Thing.ThingName}') },
        {
          Effect: 'Allow',
          Action: ['iot:Publish', 'iot:Receive'],
          Resource: arn('topic', 'iot-doctor/${iot:Connection.Thing.Attributes[site]}/*'),
        },
        {
          Effect: 'Allow',
          Action: 'iot:Subscribe',
          Resource: arn('topicfilter', 'iot-doctor/*'),
          Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
        },
      ],
    });
    l.registry.addThingToGroup(LAB_DEVICE_NAME, 'g1');
    l.registry.attachPolicyToGroup('group-policy', 'g1');
    l.faults.api.accessDenied.add('iot:TestAuthorization');
    const { get } = await runCloud(l, { topic: 'iot-doctor/lab/probe' });
    for (const id of AUTH_IDS)
      expect(get(id), id).toMatchObject({
        code: 'AUTH_ALLOWED',
        evidence: { source: 'local-evaluation', allowedBy: ['group-policy'] },
      });
  });

  it('iot:DescribeCertificate denied: cloud.certificate is a skip naming the permission; the rest goes on', async () => {
    const l = await lab('healthy');
    l.faults.api.accessDenied.add('iot:DescribeCertificate');
    const { get } = await runCloud(l);
    const r = get('cloud.certificate');
    expect(r).toMatchObject({
      status: 'skip',
      code: 'IAM_ACCESS_DENIED',
      evidence: { permission: 'iot:DescribeCertificate', operation: 'DescribeCertificate' },
    });
    expect(r.summary).toContain('iot:DescribeCertificate');
    expect(r.hint).toContain('iot:DescribeCertificate');
    expect(r.reproduce).toContain('aws iot describe-certificate');
    // The account id in the AccessDenied message is enough to build the certificate ARN.
    expect(get('cloud.policy-attached').code).toBe('POLICY_ATTACHED');
    for (const id of AUTH_IDS) expect(get(id).code, id).toBe('AUTH_ALLOWED');
  });

  it('TestAuthorization and the policy reads all denied: IAM_ACCESS_DENIED naming them', async () => {
    const l = await lab('healthy');
    for (const a of ['iot:TestAuthorization', 'iot:GetEffectivePolicies', 'iot:GetPolicy'])
      l.faults.api.accessDenied.add(a);
    const { get } = await runCloud(l);
    for (const id of AUTH_IDS) {
      const r = get(id);
      expect(r, id).toMatchObject({
        status: 'skip',
        code: 'IAM_ACCESS_DENIED',
        evidence: { permission: 'iot:TestAuthorization' },
      });
      expect(r.evidence['permissions']).toEqual(expect.arrayContaining(['iot:TestAuthorization', 'iot:GetPolicy']));
      expect(r.summary).toContain('iot:TestAuthorization');
    }
    expect(get('cloud.policy-attached').code).toBe('POLICY_ATTACHED');
    expect(get('cloud.thing')).toMatchObject({
      status: 'skip',
      code: 'IAM_ACCESS_DENIED',
      evidence: { permission: 'iot:GetPolicy' },
    });
  });

  it('ListAttachedPolicies denied: the policy check is a skip, never a failure', async () => {
    const l = await lab('healthy');
    l.faults.api.accessDenied.add('iot:ListAttachedPolicies');
    const { get } = await runCloud(l);
    expect(get('cloud.policy-attached')).toMatchObject({
      status: 'skip',
      code: 'IAM_ACCESS_DENIED',
      evidence: { permission: 'iot:ListAttachedPolicies' },
    });
    expect(get('cloud.authorization.connect').code).toBe('AUTH_ALLOWED');
  });
});

describe('throttling', () => {
  it('ThrottlingException once: the SDK retries and the check passes; the retry shows in the evidence', async () => {
    const l = await lab('healthy');
    l.faults.api.throttleOnce.add('DescribeCertificate');
    l.faults.api.throttleOnce.add('DescribeEndpoint');
    const { get } = await runCloud(l);
    expect(l.faults.api.throttleOnce.size).toBe(0);
    expect(get('cloud.certificate')).toMatchObject({
      status: 'pass',
      code: 'CERT_REGISTERED_ACTIVE',
      evidence: { apiAttempts: { DescribeCertificate: 2 } },
    });
    expect(get('cloud.endpoint')).toMatchObject({
      status: 'pass',
      code: 'ENDPOINT_MATCHES',
      evidence: { apiAttempts: { DescribeEndpoint: 2 } },
    });
  });

  it('TestAuthorization throttled once: still four decisions from TestAuthorization', async () => {
    const l = await lab('healthy');
    l.faults.api.throttleOnce.add('TestAuthorization');
    const { get } = await runCloud(l);
    expect(l.faults.api.throttleOnce.size).toBe(0);
    for (const id of AUTH_IDS)
      expect(get(id), id).toMatchObject({ code: 'AUTH_ALLOWED', evidence: { source: 'TestAuthorization' } });
  });
});

describe('API unreachable', () => {
  it('connection refused: every API check warns CLOUD_API_UNREACHABLE, quickly', async () => {
    const l = await lab('healthy');
    const port = await listen((s) => s.destroy());
    await new Promise<void>((r) => servers.pop()!.close(() => r()));
    labEnv(`http://127.0.0.1:${port}`);
    const { get, ms } = await runCloud(l, { timeoutMs: 2000 });
    expect(get('cloud.credentials').code).toBe('CLOUD_CREDENTIALS_OK');
    for (const id of ALL_IDS.slice(1))
      expect(get(id), id).toMatchObject({ status: 'warn', code: 'CLOUD_API_UNREACHABLE' });
    expect(get('cloud.endpoint').summary).toMatch(/did not answer DescribeEndpoint/);
    expect(ms).toBeLessThan(8000);
  });

  it('an API that accepts and never answers: warn within the deadline, never hang', async () => {
    const l = await lab('healthy');
    const port = await listen(() => undefined);
    labEnv(`http://127.0.0.1:${port}`);
    const timeoutMs = 800;
    const { get, ms } = await runCloud(l, { timeoutMs });
    for (const id of ALL_IDS.slice(1)) {
      const r = get(id);
      expect(r, id).toMatchObject({ status: 'warn', code: 'CLOUD_API_UNREACHABLE', evidence: { timeoutMs } });
    }
    expect(get('cloud.certificate').summary).toContain(`no answer within ${timeoutMs} ms`);
    // Checks that need the certificate ARN wait for DescribeCertificate first, then for their own call.
    expect(ms).toBeLessThan(timeoutMs * 4 + 1500);
  });
});

describe('credentials', () => {
  it('none at all: every cloud check is a skip CLOUD_NO_CREDENTIALS, nothing fails, no network', async () => {
    const l = await lab('healthy');
    cleanEnv({ AWS_ENDPOINT_URL_IOT: l.apiEndpoint });
    const { results, get, ms } = await runCloud(l);
    expect(results.map((r) => r.id)).toEqual(ALL_IDS);
    for (const r of results) expect(r, r.id).toMatchObject({ status: 'skip', code: 'CLOUD_NO_CREDENTIALS' });
    expect(get('cloud.credentials').summary).toMatch(/no AWS credentials found/);
    expect(get('cloud.credentials').hint).toMatch(/aws configure/);
    expect(get('cloud.certificate').summary).toContain('see cloud.credentials');
    expect(ms).toBeLessThan(3000);
  });

  it('a named profile from the shared credentials file: source profile:<name>, account id from the profile', async () => {
    const l = await lab('healthy');
    const credentialsFile = join(tmp, 'credentials');
    writeFileSync(
      credentialsFile,
      '[lab-profile]\naws_access_key_id = AKIDPROFILETEST\naws_secret_access_key = profile-test-secret\naws_account_id = 123456789012\n',
    );
    cleanEnv({ AWS_ENDPOINT_URL_IOT: l.apiEndpoint, AWS_SHARED_CREDENTIALS_FILE: credentialsFile });
    const { results, get } = await runCloud(l, { awsProfile: 'lab-profile' });
    expect(get('cloud.credentials')).toMatchObject({
      status: 'pass',
      code: 'CLOUD_CREDENTIALS_OK',
      evidence: { source: 'profile:lab-profile', profile: 'lab-profile', accountId: '123456789012', region: l.region },
    });
    expect(get('cloud.credentials').reproduce).toBe('aws configure list --profile lab-profile');
    expect(get('cloud.certificate').reproduce).toContain('--profile lab-profile');
    expect(get('cloud.endpoint').code).toBe('ENDPOINT_MATCHES');
    const text = JSON.stringify(results);
    expect(text).not.toContain('AKIDPROFILETEST');
    expect(text).not.toContain('profile-test-secret');
  });

  it('an unknown profile: CLOUD_NO_CREDENTIALS naming it', async () => {
    const l = await lab('healthy');
    cleanEnv({ AWS_ENDPOINT_URL_IOT: l.apiEndpoint });
    const { get } = await runCloud(l, { awsProfile: 'nope' });
    expect(get('cloud.credentials')).toMatchObject({
      status: 'skip',
      code: 'CLOUD_NO_CREDENTIALS',
      evidence: { profile: 'nope' },
    });
    expect(get('cloud.credentials').summary).toContain('nope');
  });

  it('API endpoint from the Target instead of the environment: shown, and in the reproduce commands', async () => {
    const l = await lab('healthy');
    cleanEnv({ AWS_ACCESS_KEY_ID: 'AKIDFAULTTEST', AWS_SECRET_ACCESS_KEY: 'fault-test-secret' });
    const { get } = await runCloud(l, { apiEndpoint: l.apiEndpoint });
    expect(get('cloud.credentials').evidence).toMatchObject({ apiEndpoint: l.apiEndpoint, apiEndpointFrom: 'target' });
    expect(get('cloud.certificate')).toMatchObject({ code: 'CERT_REGISTERED_ACTIVE' });
    expect(get('cloud.certificate').reproduce).toContain(`--endpoint-url ${l.apiEndpoint}`);
  });

  it('no region anywhere: CLOUD_NO_REGION skips', async () => {
    const l = await lab('healthy');
    labEnv(l.apiEndpoint);
    const { results } = await runCloud(l, { region: undefined, endpoint: 'iot.example.com' } as Partial<Target>);
    for (const r of results) expect(r, r.id).toMatchObject({ status: 'skip', code: 'CLOUD_NO_REGION' });
  });

  it('region taken from the endpoint name when the Target has none', async () => {
    const l = await lab('healthy');
    const { get } = await runCloud(l, { region: undefined } as Partial<Target>);
    expect(get('cloud.credentials').evidence).toMatchObject({ region: 'eu-west-1', regionFrom: 'endpoint-name' });
    expect(get('cloud.certificate').code).toBe('CERT_REGISTERED_ACTIVE');
  });
});
