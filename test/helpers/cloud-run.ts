/**
 * Running the cloud checks against a lab through the real AWS SDK, configured the way a user would (environment
 * credentials, AWS_ENDPOINT_URL_IOT), with this machine's own AWS setup and the instance metadata lookup shut out
 * so every byte stays on loopback.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloudChecks } from '../../checks/cloud.js';
import type { CheckContext } from '../../checks/types.js';
import { afterAll, beforeAll } from 'vitest';
import { LAB_DEVICE_NAME, createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import type { CheckResult } from '../../src/model/index.js';
import type { DeviceFiles } from '../../src/probes/device-files.js';
import { runChecks } from '../../src/runner/index.js';
import type { Target } from '../../src/target.js';
import { contextFor, targetFor } from './servers.js';

/** A scratch folder and a clean AWS environment for one test file; `restore()` puts the process env back. */
export function awsEnvSandbox(prefix: string): {
  tmp: string;
  clean: (extra?: Record<string, string>) => void;
  restore: () => void;
} {
  const saved = { ...process.env };
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  const emptyFile = join(tmp, 'empty');
  writeFileSync(emptyFile, '');
  return {
    tmp,
    clean(extra = {}) {
      for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
      Object.assign(process.env, {
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_CONFIG_FILE: emptyFile,
        AWS_SHARED_CREDENTIALS_FILE: emptyFile,
        ...extra,
      });
    },
    restore() {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** The lab device's certificate as loaded credentials (no key: the cloud checks need only the certificate). */
export function labDeviceCredentials(lab: Lab): DeviceFiles {
  const leaf = new X509Certificate(lab.device.certPem);
  return {
    cert: {
      path: 'lab-device.cert.pem',
      format: 'pem',
      leaf,
      chain: [],
      certificateId: lab.device.certificateId,
      pem: lab.device.certPem,
    },
    problems: [],
  };
}

/** A target on the lab's endpoint with the device's own client id and topic (as a user passing them would). */
export function labCloudTarget(lab: Lab, extra: Partial<Target> = {}): Target {
  return targetFor(
    {},
    {
      endpoint: lab.endpoint,
      region: lab.region,
      clientId: LAB_DEVICE_NAME,
      clientIdFromUser: true,
      topic: `iot-doctor/${LAB_DEVICE_NAME}/probe`,
      topicFromUser: true,
      timeoutMs: 5000,
      ...extra,
    },
  );
}

export async function runLabCloud(
  lab: Lab,
  extra: Partial<Target> = {},
  credentials: DeviceFiles = labDeviceCredentials(lab),
): Promise<{ results: CheckResult[]; get: (id: string) => CheckResult; ctx: CheckContext; ms: number }> {
  const ctx = contextFor(labCloudTarget(lab, extra), credentials);
  const started = performance.now();
  const results = await runChecks(cloudChecks, ctx, { guardMs: 60_000 });
  const ms = performance.now() - started;
  const get = (id: string): CheckResult => {
    const r = results.find((x) => x.id === id);
    if (!r) throw new Error(`no result ${id} in ${results.map((x) => x.id).join(', ')}`);
    return r;
  };
  return { results, get, ctx, ms };
}

/**
 * One lab per scenario for a test file, started in `beforeAll` (EC device PKI, no MQTT 5 broker) with the AWS
 * environment sandboxed to environment credentials `<keyId>`/`lab`, all closed and the environment restored in
 * `afterAll`. Returns the map the tests read their labs from.
 */
export function scenarioLabs(
  scenarios: readonly string[],
  opts: { tmpPrefix: string; keyId: string; startTimeoutMs?: number },
): Map<string, Lab> {
  const labs = new Map<string, Lab>();
  const env = awsEnvSandbox(opts.tmpPrefix);
  beforeAll(async () => {
    const pki = createLabPki('ec');
    env.clean({ AWS_ACCESS_KEY_ID: opts.keyId, AWS_SECRET_ACCESS_KEY: 'lab' });
    for (const scenario of scenarios) labs.set(scenario, await startLab({ pki, scenario, mqtt5: 'off' }));
  }, opts.startTimeoutMs ?? 60_000);
  afterAll(async () => {
    await Promise.all([...labs.values()].map((l) => l.close()));
    env.restore();
  });
  return labs;
}
