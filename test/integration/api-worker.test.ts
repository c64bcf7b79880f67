/**
 * The control-plane calls in the API worker (src/probes/iot-api/worker-channel.ts, the built api-worker.js that the
 * CLI uses) answer exactly as the same calls in this thread: the session, an operation's output, an AWS error, the
 * signing credentials, a failed session. Real @aws-sdk/client-iot in both threads, the lab's control plane on
 * loopback; instance metadata lookups are switched off.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import { openLocalChannel, type ApiChannel } from '../../src/probes/iot-api/channel.js';
import { openWorkerChannel } from '../../src/probes/iot-api/worker-channel.js';
import type { IotApiOptions } from '../../src/probes/iot-api/types.js';
import { awsEnvSandbox } from '../helpers/cloud-run.js';
import { ROOT } from '../helpers/cli.js';

const WORKER = join(ROOT, 'dist/src/probes/iot-api/api-worker.js');
const sandbox = awsEnvSandbox('iot-doctor-api-worker-');
let lab: Lab;
const channels: ApiChannel[] = [];

function options(): IotApiOptions {
  return { region: 'eu-west-1', endpoint: lab.apiEndpoint, timeoutMs: 5000 };
}

async function both(): Promise<{ local: ApiChannel; worker: ApiChannel }> {
  const local = await openLocalChannel(options());
  const worker = await openWorkerChannel(WORKER, options());
  if (!local.ok || !worker.ok) throw new Error(`session failed: ${JSON.stringify(local.ok ? worker : local)}`);
  channels.push(local.value, worker.value);
  return { local: local.value, worker: worker.value };
}

beforeAll(async () => {
  if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: run npm run build first`);
  lab = await startLab({ scenario: 'healthy', pki: createLabPki('ec'), mqtt5: 'off' });
  sandbox.clean({ AWS_ACCESS_KEY_ID: 'AKIDWORKERTEST', AWS_SECRET_ACCESS_KEY: 'worker-test-secret' });
}, 60_000);

afterAll(async () => {
  for (const c of channels) c.destroy();
  await lab?.close();
  sandbox.restore();
});

describe('API worker channel', () => {
  it('opens the same session and answers an operation as the SDK in this thread', async () => {
    const { local, worker } = await both();
    expect(worker.session).toEqual(local.session);
    expect(worker.session.region).toBe('eu-west-1');
    const [a, b] = await Promise.all([
      local.call('DescribeEndpoint', { endpointType: 'iot:Data-ATS' }),
      worker.call('DescribeEndpoint', { endpointType: 'iot:Data-ATS' }),
    ]);
    expect(a.ok && b.ok).toBe(true);
    const address = (o: typeof a): unknown => (o.ok ? (o.output as { endpointAddress?: string }).endpointAddress : o);
    expect(address(b)).toBe(lab.endpoint);
    expect(address(b)).toBe(address(a));
    const certificate = await worker.call('DescribeCertificate', { certificateId: lab.device.certificateId });
    expect(certificate.ok).toBe(true);
    const description = certificate.ok
      ? (certificate.output as { certificateDescription?: { status?: string; creationDate?: unknown } })
          .certificateDescription
      : undefined;
    expect(description?.status).toBe('ACTIVE');
    // Dates cross the thread boundary as dates, as the cloud checks' mappers expect.
    expect(description?.creationDate).toBeInstanceOf(Date);
  }, 60_000);

  it('returns an AWS error as the same ApiFailure', async () => {
    const { local, worker } = await both();
    const missing = { certificateId: 'f'.repeat(64) };
    const [a, b] = await Promise.all([
      local.call('DescribeCertificate', missing),
      worker.call('DescribeCertificate', missing),
    ]);
    expect(b.ok).toBe(false);
    expect(b).toEqual(a);
    if (!b.ok) expect(b.permission).toBe('iot:DescribeCertificate');
  }, 60_000);

  it('hands the signing credentials over (in memory only)', async () => {
    const { worker } = await both();
    const creds = await worker.credentials();
    expect(creds).toEqual({
      ok: true,
      value: { accessKeyId: 'AKIDWORKERTEST', secretAccessKey: 'worker-test-secret' },
    });
  }, 60_000);

  it('says why when the session cannot open (no credentials), as in this thread', async () => {
    sandbox.clean({});
    try {
      // The worker shares the process's environment: the same worker now finds no credentials either.
      const [a, b] = await Promise.all([openLocalChannel(options()), openWorkerChannel(WORKER, options())]);
      expect(b.ok).toBe(false);
      expect(b).toEqual(a);
      if (!b.ok) expect(b.kind).toBe('no-credentials');
    } finally {
      sandbox.clean({ AWS_ACCESS_KEY_ID: 'AKIDWORKERTEST', AWS_SECRET_ACCESS_KEY: 'worker-test-secret' });
    }
  }, 60_000);

  it('is not started for a run with no credential source: the no-credentials answer needs no SDK', async () => {
    // The built modules, as the CLI runs them: from there IotApi finds the worker script.
    const built = (rel: string): Promise<unknown> => import(join(ROOT, 'dist/src/probes/iot-api', rel));
    const { IotApi } = (await built('client.js')) as typeof import('../../src/probes/iot-api/client.js');
    const { apiWorkerRunning, stopApiWorker } = (await built(
      'worker-channel.js',
    )) as typeof import('../../src/probes/iot-api/worker-channel.js');
    await stopApiWorker();
    sandbox.clean({});
    try {
      const none = await new IotApi(options()).session();
      expect(none.ok ? 'open' : none.kind).toBe('no-credentials');
      expect(apiWorkerRunning()).toBe(false);
      sandbox.clean({ AWS_ACCESS_KEY_ID: 'AKIDWORKERTEST', AWS_SECRET_ACCESS_KEY: 'worker-test-secret' });
      const api = new IotApi(options());
      expect((await api.session()).ok).toBe(true);
      expect(apiWorkerRunning()).toBe(true);
      api.destroy();
    } finally {
      sandbox.clean({ AWS_ACCESS_KEY_ID: 'AKIDWORKERTEST', AWS_SECRET_ACCESS_KEY: 'worker-test-secret' });
      await stopApiWorker();
    }
  }, 60_000);
});
