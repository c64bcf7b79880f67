/**
 * The AWS SDK is large and slow to load (about 0.3 s): importing the cloud checks must not load it; only the first
 * API call does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../..', import.meta.url));
const sdkLoaded = (): boolean =>
  Object.keys(require.cache).some((k) => k.includes(`${sep}@aws-sdk${sep}client-iot${sep}`));
const savedEnv = { ...process.env };

afterAll(() => {
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

describe('lazy AWS SDK', () => {
  it('no cloud source file imports a value from @aws-sdk at the top', () => {
    const files = [
      join(root, 'src/probes/iot-api.ts'),
      ...readdirSync(join(root, 'src/probes/iot-api')).map((f) => join(root, 'src/probes/iot-api', f)),
      ...readdirSync(join(root, 'checks'))
        .filter((f) => f.startsWith('cloud'))
        .map((f) => join(root, 'checks', f)),
    ];
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      const staticImports = [...text.matchAll(/^import\s+(?!type\b)[^;]*from\s+'(@aws-sdk\/[^']+)'/gm)];
      expect(
        staticImports.map((m) => m[1]),
        f,
      ).toEqual([]);
    }
  });

  it('importing the cloud checks does not load @aws-sdk/client-iot; running one does', async () => {
    expect(sdkLoaded()).toBe(false);
    const { cloudChecks } = await import('../../checks/cloud.js');
    const { contextFor, targetFor } = await import('../helpers/servers.js');
    expect(sdkLoaded()).toBe(false);

    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDLAZYTEST',
      AWS_SECRET_ACCESS_KEY: 'lazy-test-secret',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    });
    const ctx = contextFor(targetFor({}, { region: 'eu-west-1' }), { problems: [] });
    const credentials = cloudChecks.find((c) => c.id === 'cloud.credentials')!;
    const t0 = performance.now();
    const [r] = await credentials.run(ctx, new Map());
    const loadMs = performance.now() - t0;
    expect(r).toMatchObject({
      status: 'pass',
      code: 'CLOUD_CREDENTIALS_OK',
      evidence: { source: 'env', region: 'eu-west-1' },
    });
    expect(sdkLoaded()).toBe(true);
    // Informational: what the first cloud check pays for loading the SDK.
    console.info(`first cloud check (SDK import + credential lookup): ${Math.round(loadMs)} ms`);
  });
});
