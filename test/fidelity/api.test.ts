/**
 * Fidelity of the lab's control plane and HTTPS publish to AWS IoT Core, checked with the AWS SDK and curl. Each
 * test names the fact it imitates.
 */
import {
  DescribeCertificateCommand,
  UpdateCertificateCommand,
  type CertificateStatus,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki } from '../../src/lab/index.js';
import { iotClient, mqttAttempt } from '../helpers/lab-clients.js';
import { curl, startFidelityLab, type FidelityLab } from './fidelity-tools.js';

let f: FidelityLab;
let iot: IoTClient;

beforeAll(async () => {
  f = await startFidelityLab({ pki: createLabPki('ec'), mqtt5: 'off' });
  iot = iotClient(f.lab, { maxAttempts: 1 });
});
afterAll(async () => {
  iot?.destroy();
  await f?.close();
});

const update = (certificateId: string, newStatus: string): Promise<unknown> =>
  iot.send(new UpdateCertificateCommand({ certificateId, newStatus: newStatus as CertificateStatus }));

describe('certificate states (facts §3 sources: UpdateCertificate in the service model)', () => {
  it('PENDING_TRANSFER / PENDING_ACTIVATION / REGISTER_INACTIVE cannot be set: InvalidRequestException', async () => {
    const id = f.lab.device.certificateId;
    for (const status of ['PENDING_TRANSFER', 'PENDING_ACTIVATION', 'REGISTER_INACTIVE']) {
      await expect(update(id, status), status).rejects.toMatchObject({ name: 'InvalidRequestException' });
    }
    const out = await iot.send(new DescribeCertificateCommand({ certificateId: id }));
    expect(out.certificateDescription?.status).toBe('ACTIVE');
  });

  it('a REVOKED certificate cannot become ACTIVE again (CertificateStateException) and the device stays out', async () => {
    const device = createLabPki('ec').device;
    const other = f.lab.registry.registerCertificate(device.certPem, { status: 'ACTIVE' });
    await update(other.certificateId, 'REVOKED');
    await expect(update(other.certificateId, 'ACTIVE')).rejects.toMatchObject({ name: 'CertificateStateException' });
    await expect(update(other.certificateId, 'INACTIVE')).rejects.toMatchObject({
      name: 'CertificateStateException',
    });
    const out = await iot.send(new DescribeCertificateCommand({ certificateId: other.certificateId }));
    expect(out.certificateDescription?.status).toBe('REVOKED');
    expect((await mqttAttempt(f.lab, { certPem: device.certPem, keyPem: device.keyPem })).kind).toBe('closed');
  });

  it('certificate ids are 64 hex digits (facts §5, model CertificateId): an ARN is refused with InvalidRequestException', async () => {
    const arn = f.lab.registry.certificateArn(f.lab.device.certificateId);
    await expect(iot.send(new DescribeCertificateCommand({ certificateId: arn }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
    // The device still connects: the lab's own state was not touched by the refused calls.
    const outcome = await mqttAttempt(f.lab);
    expect(outcome.kind).toBe('connack');
    if (outcome.kind === 'connack') outcome.client.end(true);
  });
});

describe('HTTPS publish (facts §4)', () => {
  it('200 with date and x-amzn-RequestId; a body over 128 KB gets 400 InvalidRequestException, not 413', async () => {
    const ok = await curl(f, '/topics/iot-doctor%2Ffidelity?qos=1', ['-X', 'POST', '--data-binary', 'hello']);
    expect(ok.stdout).toMatch(/^HTTP\/1\.1 200/m);
    expect(ok.stdout).toMatch(/^date: /im);
    expect(ok.stdout).toMatch(/^x-amzn-RequestId: /im);
    const body = 'x'.repeat(128 * 1024 + 1);
    const args = ['-X', 'POST', '--data-binary', '@-', '-H', 'Expect:'];
    const big = await curl(f, '/topics/iot-doctor%2Ffidelity?qos=1', args, body);
    expect(big.stdout).toMatch(/^HTTP\/1\.1 400/m);
    expect(big.stdout).toMatch(/^x-amzn-ErrorType: InvalidRequestException/im);
  });
});
