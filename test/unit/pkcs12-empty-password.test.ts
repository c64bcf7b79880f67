/**
 * PKCS#12 bundles exported with an empty password (`openssl pkcs12 -export -passout pass:`) open without a passphrase
 * and are never called encrypted; bundles with a real password still ask for one. Every `openssl pkcs12` command a
 * result suggests for them is run and must work as printed (no prompt; `-legacy` for RC2 bundles on OpenSSL 3).
 */
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certChecks } from '../../checks/cert.js';
import type { CheckResult } from '../../src/model/index.js';
import { loadDeviceFiles } from '../../src/probes/pem.js';

const dir = mkdtempSync(join(tmpdir(), 'iot-doctor-p12-'));
const at = (name: string): string => join(dir, name);

/** name → the `openssl pkcs12 -export` flags after -in/-inkey/-out. */
const BUNDLES: Record<string, string[]> = {
  'modern-empty.p12': ['-passout', 'pass:'],
  'legacy-empty.p12': ['-legacy', '-passout', 'pass:'],
  '3des-empty.p12': ['-passout', 'pass:', '-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'],
  'unencrypted-empty.p12': ['-passout', 'pass:', '-keypbe', 'NONE', '-certpbe', 'NONE'],
  'modern-secret.p12': ['-passout', 'pass:s3cret-pass'],
  'legacy-secret.p12': ['-legacy', '-passout', 'pass:s3cret-pass'],
};

beforeAll(async () => {
  await execa('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('key.pem'),
    '-out',
    at('cert.pem'),
    '-subj',
    '/CN=p12-device',
    '-days',
    '30',
    '-addext',
    'basicConstraints=critical,CA:FALSE',
  ]);
  for (const [name, flags] of Object.entries(BUNDLES)) {
    await execa('openssl', [
      'pkcs12',
      '-export',
      '-in',
      at('cert.pem'),
      '-inkey',
      at('key.pem'),
      '-out',
      at(name),
      ...flags,
    ]);
  }
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function results(file: string, pass?: string): Promise<CheckResult[]> {
  const credentials = await loadDeviceFiles({ certPath: at(file), ...(pass ? { keyPassphrase: pass } : {}) });
  const ctx = {
    credentials,
    target: { warnDays: 30, endpoint: 'abc123-ats.iot.eu-west-1.amazonaws.com' },
    now: () => new Date(),
  };
  return (await Promise.all(certChecks.map((c) => c.run(ctx, new Map())))).flat();
}

describe('PKCS#12 with an empty password', () => {
  for (const name of ['modern-empty.p12', 'legacy-empty.p12', '3des-empty.p12', 'unencrypted-empty.p12']) {
    it(`${name}: opens without a passphrase, is not called encrypted, and every printed openssl line works`, async () => {
      const all = await results(name);
      const key = all.find((r) => r.id === 'files.key')!;
      expect(key.code).toBe('KEY_FILE_OK');
      expect(key.summary).toContain('in a PKCS#12 file with an empty password (no passphrase needed)');
      expect(key.summary).not.toMatch(/encrypted and opened/);
      expect(key.evidence).toMatchObject({ encrypted: false, pkcs12EmptyPassword: true });
      expect(all.find((r) => r.id === 'cert.key-match')!.code).toBe('CERT_KEY_MATCH_OK');
      const commands = [
        ...new Set(all.map((r) => r.reproduce).filter((c): c is string => !!c && c.includes('pkcs12'))),
      ];
      expect(commands.length).toBeGreaterThan(2);
      for (const command of commands) {
        expect(command).toContain('-passin pass:');
        if (name.startsWith('legacy')) expect(command).toContain('-legacy');
        // stdin closed: a command that would prompt for the password fails instead of hanging.
        const r = await execa('bash', ['-o', 'pipefail', '-c', command], { reject: false, input: '', timeout: 20_000 });
        expect(r.exitCode, `${command}\n${r.stderr}`).toBe(0);
        expect(r.stderr).not.toMatch(/error|unsupported/i);
      }
    });
  }
  // The same bundles given with a passphrase the user wrongly thinks they need still open.
  it('a passphrase given for an empty-password bundle does not make it fail', async () => {
    const key = (await results('modern-empty.p12', 'not-the-password')).find((r) => r.id === 'files.key')!;
    expect(key.code).toBe('KEY_FILE_OK');
    expect(key.summary).toContain('empty password');
  });
});

describe('PKCS#12 with a real password', () => {
  for (const name of ['modern-secret.p12', 'legacy-secret.p12']) {
    it(`${name}: needs the passphrase, and says so; opens with it and is called encrypted`, async () => {
      expect((await results(name)).find((r) => r.id === 'files.cert')!.code).toBe('P12_NO_PASSPHRASE');
      expect((await results(name, 'wrong-pass')).find((r) => r.id === 'files.cert')!.code).toBe('P12_PASSPHRASE_WRONG');
      const key = (await results(name, 's3cret-pass')).find((r) => r.id === 'files.key')!;
      expect(key.code).toBe('KEY_FILE_OK');
      expect(key.summary).toContain('encrypted and opened with the passphrase');
      expect(key.evidence).toMatchObject({ encrypted: true });
      expect(key.evidence).not.toHaveProperty('pkcs12EmptyPassword');
    });
  }
});
