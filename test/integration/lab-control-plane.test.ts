/**
 * The lab's control plane, driven by the real @aws-sdk/client-iot through an endpoint override: REST paths and
 * JSON shapes, typed exceptions, throttling retried by the SDK, injected AccessDenied, TestAuthorization decisions,
 * and a registry shared with the data plane.
 */
import {
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  DescribeDomainConfigurationCommand,
  DescribeEndpointCommand,
  DescribeThingCommand,
  GetEffectivePoliciesCommand,
  GetPolicyCommand,
  InvalidRequestException,
  IoTClient,
  ListAttachedPoliciesCommand,
  ListPrincipalThingsCommand,
  ListThingPrincipalsCommand,
  ResourceNotFoundException,
  TestAuthorizationCommand,
  UpdateCertificateCommand,
  type AuthInfo,
} from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import { endClient, iotClient, mqttAttempt } from '../helpers/lab-clients.js';

let lab: Lab;
let iot: IoTClient;
let certArn: string;

beforeAll(async () => {
  lab = await startLab({ pki: createLabPki('ec'), mqtt5: 'off' });
  iot = iotClient(lab);
  certArn = `arn:aws:iot:${lab.region}:${lab.accountId}:cert/${lab.device.certificateId}`;
});

afterAll(async () => {
  iot?.destroy();
  await lab?.close();
});

const arn = (kind: string, name: string): string => `arn:aws:iot:${lab.region}:${lab.accountId}:${kind}/${name}`;

async function testAuthorization(
  clientId: string | undefined,
  authInfos: AuthInfo[],
  extra: { policyNamesToAdd?: string[] } = {},
) {
  const out = await iot.send(
    new TestAuthorizationCommand({ principal: certArn, authInfos, ...(clientId ? { clientId } : {}), ...extra }),
  );
  return out.authResults ?? [];
}

describe('lab control plane through @aws-sdk/client-iot', () => {
  it('DescribeEndpoint returns the ATS endpoint (and the legacy form without -ats)', async () => {
    const ats = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
    expect(ats.endpointAddress).toBe(lab.endpoint);
    const legacy = await iot.send(new DescribeEndpointCommand({}));
    expect(legacy.endpointAddress).toBe(lab.endpoint.replace('-ats.', '.'));
  });

  it('DescribeCertificate: status, ids, CA, mode, validity as dates', async () => {
    const out = await iot.send(new DescribeCertificateCommand({ certificateId: lab.device.certificateId }));
    const d = out.certificateDescription!;
    expect(d.certificateId).toBe(lab.device.certificateId);
    expect(d.certificateArn).toBe(certArn);
    expect(d.status).toBe('ACTIVE');
    expect(d.certificateMode).toBe('DEFAULT');
    expect(d.caCertificateId).toMatch(/^[0-9a-f]{64}$/);
    expect(d.certificatePem).toContain('BEGIN CERTIFICATE');
    expect(d.validity?.notAfter).toBeInstanceOf(Date);
    expect(d.creationDate).toBeInstanceOf(Date);
    expect(d.ownedBy).toBe(lab.accountId);

    const ca = await iot.send(new DescribeCACertificateCommand({ certificateId: d.caCertificateId! }));
    expect(ca.certificateDescription?.status).toBe('ACTIVE');
    expect(ca.certificateDescription?.autoRegistrationStatus).toBe('DISABLE');
  });

  it('unknown certificate: ResourceNotFoundException; malformed id: InvalidRequestException', async () => {
    const unknown = 'a'.repeat(64);
    const err = await iot.send(new DescribeCertificateCommand({ certificateId: unknown })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect((err as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);
    const bad = await iot.send(new DescribeCertificateCommand({ certificateId: 'nope' })).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidRequestException);
  });

  it('ListAttachedPolicies pages with marker / pageSize; GetPolicy returns the document', async () => {
    const names = ['extra-a', 'extra-b', 'extra-c'];
    for (const n of names) {
      lab.registry.createPolicy(n, {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'iot:Receive', Resource: '*' }],
      });
      lab.registry.attachPolicy(n, certArn);
    }
    try {
      const seen: string[] = [];
      let marker: string | undefined;
      let pages = 0;
      do {
        const out = await iot.send(
          new ListAttachedPoliciesCommand({ target: certArn, pageSize: 2, ...(marker ? { marker } : {}) }),
        );
        seen.push(...(out.policies ?? []).map((p) => p.policyName!));
        marker = out.nextMarker;
        pages += 1;
      } while (marker);
      expect(pages).toBe(2);
      expect(seen).toEqual(['lab-device-policy', ...names]);
    } finally {
      for (const n of names) lab.registry.deletePolicy(n);
    }
    const policy = await iot.send(new GetPolicyCommand({ policyName: 'lab-device-policy' }));
    expect(policy.policyArn).toBe(arn('policy', 'lab-device-policy'));
    expect(JSON.parse(policy.policyDocument!)).toMatchObject({ Version: '2012-10-17' });
    expect(policy.defaultVersionId).toBe('1');
  });

  it('GetEffectivePolicies includes thing-group policies; things and principals are linked', async () => {
    const eff = await iot.send(
      new GetEffectivePoliciesCommand({ principal: certArn, thingName: lab.device.thingName }),
    );
    expect((eff.effectivePolicies ?? []).map((p) => p.policyName)).toEqual([
      'lab-device-policy',
      'lab-fleet-telemetry',
    ]);
    const things = await iot.send(new ListPrincipalThingsCommand({ principal: certArn }));
    expect(things.things).toEqual([lab.device.thingName]);
    const principals = await iot.send(new ListThingPrincipalsCommand({ thingName: lab.device.thingName }));
    expect(principals.principals).toEqual([certArn]);
    const thing = await iot.send(new DescribeThingCommand({ thingName: lab.device.thingName }));
    expect(thing.thingArn).toBe(arn('thing', lab.device.thingName));
    const domain = await iot.send(new DescribeDomainConfigurationCommand({ domainConfigurationName: 'iot:Data-ATS' }));
    expect(domain.domainName).toBe(lab.endpoint);
  });

  it('TestAuthorization: allowed, implicit deny with the policies, missing context values, explicit deny', async () => {
    const clientId = 'iot-doctor-abc123';
    const results = await testAuthorization(clientId, [
      { actionType: 'CONNECT', resources: [arn('client', clientId)] },
      { actionType: 'PUBLISH', resources: [arn('topic', `iot-doctor/${clientId}/probe`)] },
      { actionType: 'SUBSCRIBE', resources: [arn('topicfilter', `iot-doctor/${clientId}/probe`)] },
      { actionType: 'RECEIVE', resources: [arn('topic', `iot-doctor/${clientId}/probe`)] },
      { actionType: 'SUBSCRIBE', resources: [arn('topicfilter', 'iot-doctor/#')] },
    ]);
    expect(results.map((r) => r.authDecision)).toEqual(['ALLOWED', 'ALLOWED', 'ALLOWED', 'ALLOWED', 'IMPLICIT_DENY']);
    expect(results[0]?.allowed?.policies?.[0]).toEqual({
      policyName: 'lab-device-policy',
      policyArn: arn('policy', 'lab-device-policy'),
    });
    expect(results[4]?.denied?.implicitDeny?.policies?.map((p) => p.policyName)).toEqual(['lab-device-policy']);
    expect(results[4]?.denied?.explicitDeny?.policies).toEqual([]);

    const noClient = await testAuthorization(undefined, [
      { actionType: 'PUBLISH', resources: [arn('topic', 'dt/x/1')] },
    ]);
    expect(noClient[0]?.authDecision).toBe('IMPLICIT_DENY');
    expect(noClient[0]?.missingContextValues).toContain('iot:ClientId');

    lab.registry.createPolicy('deny-all-publish', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: 'iot:Publish', Resource: '*' }],
    });
    try {
      const explicit = await testAuthorization(
        clientId,
        [{ actionType: 'PUBLISH', resources: [arn('topic', 'iot-doctor/x')] }],
        {
          policyNamesToAdd: ['deny-all-publish'],
        },
      );
      expect(explicit[0]?.authDecision).toBe('EXPLICIT_DENY');
      expect(explicit[0]?.denied?.explicitDeny?.policies?.map((p) => p.policyName)).toEqual(['deny-all-publish']);
    } finally {
      lab.registry.deletePolicy('deny-all-publish');
    }
  });

  it('fault: AccessDeniedException by IAM action, with an AWS-like message', async () => {
    lab.faults.api.accessDenied.add('iot:TestAuthorization');
    try {
      const err = (await testAuthorization('x', [{ actionType: 'CONNECT', resources: [arn('client', 'x')] }]).catch(
        (e: unknown) => e,
      )) as { name: string; message: string; $metadata: { httpStatusCode?: number } };
      expect(err.name).toBe('AccessDeniedException');
      expect(err.$metadata.httpStatusCode).toBe(403);
      expect(err.message).toMatch(/is not authorized to perform: iot:TestAuthorization on resource: arn:aws:iot:/);
      // Other operations still work.
      await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
    } finally {
      lab.faults.api.accessDenied.clear();
    }
  });

  it('fault: ThrottlingException once, retried by the SDK standard retry strategy', async () => {
    lab.faults.api.throttleOnce.add('DescribeCertificate');
    const out = await iot.send(new DescribeCertificateCommand({ certificateId: lab.device.certificateId }));
    expect(out.certificateDescription?.status).toBe('ACTIVE');
    expect(out.$metadata.attempts).toBe(2);
    expect(lab.faults.api.throttleOnce.size).toBe(0);

    // Without retries the throttling reaches the caller as a typed exception.
    lab.faults.api.throttleOnce.add('DescribeCertificate');
    const noRetry = iotClient(lab, { maxAttempts: 1 });
    const err = await noRetry
      .send(new DescribeCertificateCommand({ certificateId: lab.device.certificateId }))
      .catch((e: unknown) => e);
    noRetry.destroy();
    expect((err as Error).name).toBe('ThrottlingException');
  });

  it('the registry is shared: UpdateCertificate INACTIVE through the API stops MQTT at once', async () => {
    await iot.send(new UpdateCertificateCommand({ certificateId: lab.device.certificateId, newStatus: 'INACTIVE' }));
    try {
      expect(lab.registry.getCertificate(lab.device.certificateId)?.status).toBe('INACTIVE');
      expect((await mqttAttempt(lab)).kind).toBe('closed');
    } finally {
      await iot.send(new UpdateCertificateCommand({ certificateId: lab.device.certificateId, newStatus: 'ACTIVE' }));
    }
    const outcome = await mqttAttempt(lab);
    expect(outcome.kind).toBe('connack');
    if (outcome.kind === 'connack') await endClient(outcome.client);
  });

  it('AWS_ENDPOINT_URL_IOT is honoured by the SDK', async () => {
    const saved = process.env['AWS_ENDPOINT_URL_IOT'];
    process.env['AWS_ENDPOINT_URL_IOT'] = lab.apiEndpoint;
    try {
      const client = new IoTClient({
        region: lab.region,
        credentials: { accessKeyId: 'AKIDLAB', secretAccessKey: 'lab' },
      });
      const out = await client.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
      client.destroy();
      expect(out.endpointAddress).toBe(lab.endpoint);
    } finally {
      if (saved === undefined) delete process.env['AWS_ENDPOINT_URL_IOT'];
      else process.env['AWS_ENDPOINT_URL_IOT'] = saved;
    }
  });

  it('unsigned requests are refused like AWS: 403 Missing Authentication Token', async () => {
    const res = await fetch(`${lab.apiEndpoint}/endpoint?endpointType=iot:Data-ATS`);
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
  });
});
