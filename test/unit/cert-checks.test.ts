import { execa } from 'execa';
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CA_VERIFIES_ENDPOINT, checkCaVerifiesChain } from '../../checks/ca-verifies-endpoint.js';
import { certChecks } from '../../checks/cert.js';
import type { LocalCheckContext } from '../../checks/local-context.js';
import { AMAZON_ROOTS } from '../../src/assets/amazon-roots.js';
import { STATUSES, type CheckResult } from '../../src/model/index.js';
import type { DeviceFilePaths, DeviceFiles } from '../../src/probes/device-files.js';
import { loadDeviceFiles } from '../../src/probes/pem.js';
import { renderList } from '../../src/report/list.js';
import { makeFixtures, PASSPHRASE, type Fixtures } from '../helpers/openssl-fixtures.js';

let fx: Fixtures;

beforeAll(async () => {
  fx = await makeFixtures();
  await writeFile(fx.path('amazon1.pem'), AMAZON_ROOTS[0]!.pem);
  await writeFile(fx.path('amazon2-4.pem'), AMAZON_ROOTS[1]!.pem + AMAZON_ROOTS[3]!.pem);
  await writeFile(
    fx.path('amazon1-and-root.pem'),
    AMAZON_ROOTS[0]!.pem + (await readFile(fx.path('root.pem'), 'utf8')),
  );
});

afterAll(async () => {
  await fx?.cleanup();
});

interface Spec {
  cert?: string;
  key?: string;
  ca?: string;
  pass?: string;
}

async function creds(spec: Spec): Promise<DeviceFiles> {
  const files: DeviceFilePaths = {};
  if (spec.cert) files.certPath = fx.path(spec.cert);
  if (spec.key) files.keyPath = fx.path(spec.key);
  if (spec.ca) files.caPath = fx.path(spec.ca);
  if (spec.pass !== undefined) files.keyPassphrase = spec.pass;
  return loadDeviceFiles(files);
}

function context(credentials: DeviceFiles, opts: { now?: Date; warnDays?: number } = {}): LocalCheckContext {
  const now = opts.now ?? new Date();
  return {
    credentials,
    target: { warnDays: opts.warnDays ?? 30, endpoint: 'abc123-ats.iot.eu-west-1.amazonaws.com' },
    now: () => now,
  };
}

const byId = new Map(certChecks.map((c) => [c.id, c]));

async function runCheck(id: string, spec: Spec, opts: { now?: Date; warnDays?: number } = {}): Promise<CheckResult[]> {
  const check = byId.get(id);
  if (!check) throw new Error(`no check ${id}`);
  return check.run(context(await creds(spec), opts), new Map());
}

async function one(id: string, spec: Spec, opts: { now?: Date; warnDays?: number } = {}): Promise<CheckResult> {
  const results = await runCheck(id, spec, opts);
  expect(results).toHaveLength(1);
  expect(results[0]!.id).toBe(id);
  return results[0]!;
}

async function runAll(spec: Spec, opts: { now?: Date; warnDays?: number } = {}): Promise<CheckResult[]> {
  const ctx = context(await creds(spec), opts);
  const out: CheckResult[] = [];
  for (const check of certChecks) out.push(...(await check.run(ctx, new Map())));
  return out;
}

async function pem(name: string): Promise<string> {
  return readFile(fx.path(name), 'utf8');
}

describe('catalogue', () => {
  it('lists the checks in order with unique ids and valid families', () => {
    expect(certChecks.map((c) => c.id)).toEqual([
      'files.cert',
      'files.key',
      'files.ca',
      'cert.end-entity',
      'cert.key-strength',
      'cert.client-auth-usage',
      'cert.key-match',
      'cert.validity',
      'cert.identity',
      'ca.contents',
    ]);
    for (const c of certChecks) {
      expect(c.family).toBe(c.id.split('.')[0]);
      expect(c.title.length).toBeGreaterThan(5);
    }
  });

  it('a good RSA and a good EC pair pass every check', async () => {
    for (const spec of [
      { cert: 'rsa.pem', key: 'rsa.key' },
      { cert: 'ec.pem', key: 'ec.key' },
      { cert: 'ec384.pem', key: 'ec384.key' },
    ]) {
      const results = await runAll(spec);
      expect(results.map((r) => [r.id, r.status, r.code])).toEqual([
        ['files.cert', 'pass', 'CERT_FILE_OK'],
        ['files.key', 'pass', 'KEY_FILE_OK'],
        ['files.ca', 'pass', 'CA_FILE_DEFAULT'],
        ['cert.end-entity', 'pass', 'CERT_END_ENTITY_OK'],
        ['cert.key-strength', 'pass', 'CERT_KEY_STRENGTH_OK'],
        ['cert.client-auth-usage', 'pass', 'CERT_CLIENT_AUTH_USAGE_OK'],
        ['cert.key-match', 'pass', 'CERT_KEY_MATCH_OK'],
        ['cert.validity', 'pass', 'CERT_VALIDITY_OK'],
        ['cert.identity', 'pass', 'CERT_IDENTITY'],
        ['ca.contents', 'pass', 'CA_HAS_AMAZON_ROOTS'],
      ]);
    }
  });

  it('every result is well formed, for every combination of fixtures, and never carries key material', async () => {
    const files = [
      'rsa.pem',
      'rsa.key',
      'rsa.der',
      'rsa.p12',
      'rsa-enc-pkcs8.key',
      'junk.txt',
      'empty.pem',
      'root.pem',
      'chain.pem',
      'weak.pem',
      'ec.key',
    ];
    const keyBody = (await pem('rsa.key')).split('\n')[5]!;
    for (const cert of files) {
      for (const key of files) {
        const results = await runAll({ cert, key, ca: cert === key ? undefined : 'root.pem' });
        const ids = results.map((r) => r.id);
        expect(new Set(ids).size).toBe(ids.length);
        for (const r of results) {
          expect(STATUSES).toContain(r.status);
          expect(r.code).toMatch(/^[A-Z0-9]+(_[A-Z0-9]+)*$/);
          expect(r.summary.length).toBeGreaterThan(0);
          expect(r.summary).not.toContain('\n');
          expect(r.route).toBeNull();
          expect(r.stage).toBeNull();
          expect(r.durationMs).toBeGreaterThanOrEqual(0);
          if (r.status === 'fail' || r.status === 'warn') expect(r.hint, `${r.id} ${r.code}`).toBeTruthy();
          if (r.status === 'fail' || r.status === 'warn') expect(r.reproduce, `${r.id} ${r.code}`).toBeTruthy();
        }
        const text = JSON.stringify(results);
        expect(text).not.toContain('PRIVATE KEY-----');
        expect(text).not.toMatch(/(?![0-9a-f]{64})[A-Za-z0-9+/]{64}/);
        expect(text).not.toContain(keyBody);
      }
    }
  });
});

describe('files.*', () => {
  it('files.cert: CERT_FILE_OK, CERT_FILE_DER, CERT_FILE_HOLDS_PRIVATE_KEY, CERT_FILE_HOLDS_CA, not given', async () => {
    expect((await one('files.cert', { cert: 'rsa.pem' })).code).toBe('CERT_FILE_OK');
    const der = await one('files.cert', { cert: 'rsa.der' });
    expect([der.status, der.code]).toEqual(['warn', 'CERT_FILE_DER']);
    expect(der.reproduce).toContain('-inform DER');
    const swapped = await one('files.cert', { cert: 'rsa.key', key: 'rsa.pem' });
    expect([swapped.status, swapped.code]).toEqual(['fail', 'CERT_FILE_HOLDS_PRIVATE_KEY']);
    expect(swapped.summary).toBe(
      'this file holds a private key, expected a CERTIFICATE: the cert and key files are swapped',
    );
    expect(swapped.reproduce).toBe(`grep -- '-----BEGIN' ${fx.path('rsa.key')}`);
    const amazon = await one('files.cert', { cert: 'amazon1.pem', key: 'rsa.key' });
    expect([amazon.status, amazon.code]).toEqual(['fail', 'CERT_FILE_HOLDS_CA']);
    expect(amazon.summary).toContain('Amazon Root CA 1');
    const none = await one('files.cert', {});
    expect([none.status, none.code]).toEqual(['skip', 'CERT_FILE_NOT_GIVEN']);
    expect((await one('files.cert', { cert: 'rsa.p12', pass: PASSPHRASE })).code).toBe('CERT_FILE_OK');
    expect((await one('files.cert', { cert: 'rsa.p12' })).code).toBe('P12_NO_PASSPHRASE');
    expect((await one('files.cert', { cert: 'junk.txt' })).code).toBe('CERT_FILE_JUNK');
  });

  it('files.key: KEY_FILE_OK, encrypted, wrong passphrase, swapped, world readable', async () => {
    const ok = await one('files.key', { key: 'rsa-enc-legacy.key', pass: PASSPHRASE });
    expect([ok.status, ok.code]).toEqual(['pass', 'KEY_FILE_OK']);
    expect(ok.evidence).toMatchObject({ encrypted: true, keyType: 'RSA 2048' });
    const noPass = await one('files.key', { key: 'rsa-enc-pkcs8.key' });
    expect([noPass.status, noPass.code]).toEqual(['fail', 'KEY_ENCRYPTED_NO_PASSPHRASE']);
    expect(noPass.hint).toContain('IOT_DOCTOR_KEY_PASSPHRASE');
    const wrong = await one('files.key', { key: 'ec-enc-legacy.key', pass: 'wrong-wrong' });
    expect([wrong.status, wrong.code]).toEqual(['fail', 'KEY_PASSPHRASE_WRONG']);
    const holdsCert = await one('files.key', { cert: 'rsa.pem', key: 'rsa.pem' });
    expect([holdsCert.status, holdsCert.code]).toEqual(['fail', 'KEY_FILE_HOLDS_CERTIFICATE']);
    const open = await one('files.key', { key: 'rsa-open.key' });
    expect([open.status, open.code]).toEqual(['warn', 'KEY_FILE_WORLD_READABLE']);
    expect(open.reproduce).toBe(`ls -l ${fx.path('rsa-open.key')}`);
    const der = await one('files.key', { key: 'rsa-key.der' });
    expect([der.status, der.code]).toEqual(['warn', 'KEY_FILE_DER']);
    expect((await one('files.key', {})).code).toBe('KEY_FILE_NOT_GIVEN');
  });

  it('several problems with one file give one result each, worst first, with unique ids', async () => {
    const { chmod, copyFile } = await import('node:fs/promises');
    await copyFile(fx.path('rsa-enc-pkcs8.key'), fx.path('enc-open.key'));
    await chmod(fx.path('enc-open.key'), 0o644);
    const locked = await runCheck('files.key', { key: 'enc-open.key' });
    expect(locked.map((r) => [r.id, r.status, r.code])).toEqual([
      ['files.key', 'fail', 'KEY_ENCRYPTED_NO_PASSPHRASE'],
      ['files.key:KEY_FILE_WORLD_READABLE', 'warn', 'KEY_FILE_WORLD_READABLE'],
    ]);
    const opened = await runCheck('files.key', { key: 'enc-open.key', pass: PASSPHRASE });
    expect(opened.map((r) => [r.id, r.code])).toEqual([['files.key', 'KEY_FILE_WORLD_READABLE']]);
    const both = await runCheck('files.key', { key: 'rsa-key.der' });
    expect(both.map((r) => r.code)).toEqual(['KEY_FILE_DER']);
    const { writeFile: wf } = await import('node:fs/promises');
    await wf(fx.path('der-open.key'), await readFile(fx.path('rsa-key.der')));
    await chmod(fx.path('der-open.key'), 0o644);
    const two = await runCheck('files.key', { key: 'der-open.key' });
    expect(two.map((r) => [r.id, r.status, r.code])).toEqual([
      ['files.key', 'warn', 'KEY_FILE_DER'],
      ['files.key:KEY_FILE_WORLD_READABLE', 'warn', 'KEY_FILE_WORLD_READABLE'],
    ]);
  });

  it('files.ca: default roots, a given file, junk', async () => {
    const def = await one('files.ca', {});
    expect([def.status, def.code]).toEqual(['pass', 'CA_FILE_DEFAULT']);
    expect(def.summary).toContain('AmazonRootCA1.pem');
    expect((await one('files.ca', { ca: 'root.pem' })).code).toBe('CA_FILE_OK');
    const junk = await one('files.ca', { ca: 'junk.txt' });
    expect([junk.status, junk.code]).toEqual(['fail', 'CA_BUNDLE_JUNK']);
    expect((await one('files.ca', { ca: 'rsa.key' })).code).toBe('CA_FILE_HOLDS_PRIVATE_KEY');
  });
});

describe('cert.end-entity', () => {
  it('CERT_IS_CA for a CA certificate used as the device certificate', async () => {
    const r = await one('cert.end-entity', { cert: 'root.pem', key: 'root.key' });
    expect([r.status, r.code]).toEqual(['warn', 'CERT_IS_CA']);
    expect(r.reproduce).toContain('-ext basicConstraints');
    expect((await one('cert.end-entity', { cert: 'rsa.pem' })).code).toBe('CERT_END_ENTITY_OK');
  });

  it('is skipped with the reason when the certificate file failed', async () => {
    const r = await one('cert.end-entity', { cert: 'rsa.key', key: 'rsa.pem' });
    expect([r.status, r.code, r.summary]).toEqual([
      'skip',
      'BLOCKED',
      'blocked by files.cert: CERT_FILE_HOLDS_PRIVATE_KEY',
    ]);
  });
});

describe('cert.key-strength', () => {
  it('CERT_KEY_TOO_WEAK for RSA 1024', async () => {
    const r = await one('cert.key-strength', { cert: 'weak.pem' });
    expect([r.status, r.code]).toEqual(['fail', 'CERT_KEY_TOO_WEAK']);
    expect(r.summary).toContain('1024');
    expect(r.evidence).toMatchObject({ bits: 1024 });
  });

  it('CERT_SIGNATURE_WEAK for a SHA-1 signature', async () => {
    const r = await one('cert.key-strength', { cert: 'sha1.pem' });
    expect([r.status, r.code]).toEqual(['fail', 'CERT_SIGNATURE_WEAK']);
  });

  it('passes RSA 2048, EC P-256 and EC P-384', async () => {
    expect((await one('cert.key-strength', { cert: 'rsa.pem' })).summary).toContain('RSA 2048');
    expect((await one('cert.key-strength', { cert: 'ec.pem' })).summary).toContain('EC P-256');
    expect((await one('cert.key-strength', { cert: 'ec384.pem' })).code).toBe('CERT_KEY_STRENGTH_OK');
  });
});

describe('cert.client-auth-usage', () => {
  it('CERT_NO_CLIENT_AUTH_EKU for a serverAuth-only certificate', async () => {
    const r = await one('cert.client-auth-usage', { cert: 'server-eku.pem' });
    expect([r.status, r.code]).toEqual(['fail', 'CERT_NO_CLIENT_AUTH_EKU']);
    expect(r.summary).toContain('serverAuth');
  });

  it('CERT_NO_DIGITAL_SIGNATURE_USAGE when keyUsage lacks digitalSignature', async () => {
    const r = await one('cert.client-auth-usage', { cert: 'no-ds.pem' });
    expect([r.status, r.code]).toEqual(['fail', 'CERT_NO_DIGITAL_SIGNATURE_USAGE']);
  });

  it('passes with clientAuth, and without any usage extension', async () => {
    expect((await one('cert.client-auth-usage', { cert: 'rsa.pem' })).code).toBe('CERT_CLIENT_AUTH_USAGE_OK');
    const bare = await one('cert.client-auth-usage', { cert: 'bare.pem' });
    expect(bare.code).toBe('CERT_CLIENT_AUTH_USAGE_OK');
    expect(bare.evidence.extendedKeyUsage).toBe('absent (no restriction)');
  });
});

describe('cert.key-match', () => {
  it('KEY_CERT_MISMATCH for another RSA key and for an EC key', async () => {
    const r = await one('cert.key-match', { cert: 'rsa.pem', key: 'other.key' });
    expect([r.status, r.code]).toEqual(['fail', 'KEY_CERT_MISMATCH']);
    expect(r.reproduce).toBe(
      `diff <(openssl x509 -in ${fx.path('rsa.pem')} -noout -pubkey) <(openssl pkey -in ${fx.path('other.key')} -pubout)`,
    );
    expect(r.evidence.certPublicKeySha256).not.toBe(r.evidence.keyPublicKeySha256);
    const ec = await one('cert.key-match', { cert: 'rsa.pem', key: 'ec.key' });
    expect(ec.code).toBe('KEY_CERT_MISMATCH');
    expect(ec.hint).toContain('EC P-256');
  });

  it('the reproduce command agrees: no diff for a match, a diff for a mismatch', async () => {
    const good = await one('cert.key-match', { cert: 'rsa.pem', key: 'rsa.key' });
    expect(good.code).toBe('CERT_KEY_MATCH_OK');
    expect((await execa('bash', ['-c', good.reproduce!], { reject: false })).exitCode).toBe(0);
    const bad = await one('cert.key-match', { cert: 'rsa.pem', key: 'other.key' });
    expect((await execa('bash', ['-c', bad.reproduce!], { reject: false })).exitCode).toBe(1);
  });

  it('matches DER, PKCS#12 and encrypted inputs', async () => {
    expect((await one('cert.key-match', { cert: 'rsa.der', key: 'rsa-key.der' })).code).toBe('CERT_KEY_MATCH_OK');
    expect((await one('cert.key-match', { cert: 'ec.p12', pass: PASSPHRASE })).code).toBe('CERT_KEY_MATCH_OK');
    expect((await one('cert.key-match', { cert: 'rsa.pem', key: 'rsa-enc-pkcs8.key', pass: PASSPHRASE })).code).toBe(
      'CERT_KEY_MATCH_OK',
    );
  });

  it('is skipped with the blocking code', async () => {
    const r = await one('cert.key-match', { cert: 'rsa.pem', key: 'rsa-enc-pkcs8.key' });
    expect([r.status, r.code, r.summary]).toEqual([
      'skip',
      'BLOCKED',
      'blocked by files.key: KEY_ENCRYPTED_NO_PASSPHRASE',
    ]);
    const missing = await one('cert.key-match', { cert: 'rsa.pem' });
    expect([missing.status, missing.code, missing.summary]).toEqual([
      'skip',
      'INPUT_MISSING',
      'no private key file given (--key)',
    ]);
  });
});

describe('cert.validity', () => {
  it('CERT_EXPIRED, CERT_NOT_YET_VALID, CERT_EXPIRES_SOON', async () => {
    const expired = await one('cert.validity', { cert: 'expired.pem' });
    expect([expired.status, expired.code]).toEqual(['fail', 'CERT_EXPIRED']);
    expect(expired.summary).toContain('2021-01-01T00:00:00Z');
    const future = await one('cert.validity', { cert: 'future.pem' });
    expect([future.status, future.code]).toEqual(['fail', 'CERT_NOT_YET_VALID']);
    const soon = await one('cert.validity', { cert: 'soon.pem' }, { warnDays: 30 });
    expect([soon.status, soon.code]).toEqual(['warn', 'CERT_EXPIRES_SOON']);
    expect((await one('cert.validity', { cert: 'soon.pem' }, { warnDays: 5 })).code).toBe('CERT_VALIDITY_OK');
  });

  it('hints at an unset clock when now is before 2020', async () => {
    const r = await one('cert.validity', { cert: 'rsa.pem' }, { now: new Date(0) });
    expect([r.status, r.code]).toEqual(['fail', 'CERT_NOT_YET_VALID']);
    expect(r.hint).toContain('1970-01-01T00:00:00Z');
    expect(r.hint).toContain('unset');
    expect(r.evidence.clockLooksUnset).toBe(true);
  });

  it('flags an expired certificate in the chain part of the file', async () => {
    await writeFile(fx.path('leaf-plus-expired.pem'), (await pem('rsa.pem')) + (await pem('expired.pem')));
    const r = await one('cert.validity', { cert: 'leaf-plus-expired.pem' });
    expect([r.status, r.code]).toEqual(['fail', 'CERT_CHAIN_EXPIRED']);
  });
});

describe('cert.identity', () => {
  it('passes with the AWS certificate id and the openssl command that computes it', async () => {
    const r = await one('cert.identity', { cert: 'rsa.pem' });
    expect([r.status, r.code]).toEqual(['pass', 'CERT_IDENTITY']);
    const { stdout } = await execa('bash', ['-c', r.reproduce!]);
    expect(stdout).toContain(String(r.evidence.certificateId));
    expect(r.evidence).toMatchObject({
      subject: 'O=iot-doctor tests, CN=device-rsa',
      issuer: 'O=iot-doctor tests, CN=Test Device Root CA',
    });
    expect(r.evidence.serialNumber).toMatch(/^[0-9a-f]+$/);
    const p12 = await one('cert.identity', { cert: 'rsa.p12', pass: PASSPHRASE });
    expect(p12.evidence.certificateId).toBe(r.evidence.certificateId);
  });
});

describe('ca.contents', () => {
  it('CA_HAS_AMAZON_ROOTS for the bundled roots and for a file holding Amazon Root CA 1', async () => {
    const def = await one('ca.contents', { cert: 'rsa.pem' });
    expect([def.status, def.code]).toEqual(['pass', 'CA_HAS_AMAZON_ROOTS']);
    expect(def.evidence.amazonRoots).toEqual(AMAZON_ROOTS.map((r) => r.name));
    const given = await one('ca.contents', { cert: 'rsa.pem', ca: 'amazon1-and-root.pem' });
    expect([given.status, given.code]).toEqual(['pass', 'CA_HAS_AMAZON_ROOTS']);
    expect(given.evidence.amazonRoots).toEqual(['Amazon Root CA 1']);
  });

  it('CA_IS_DEVICE_ISSUER when the CA file is the device issuing CA', async () => {
    const r = await one('ca.contents', { cert: 'rsa.pem', ca: 'root.pem' });
    expect([r.status, r.code]).toEqual(['warn', 'CA_IS_DEVICE_ISSUER']);
    expect(r.reproduce).toBe(`openssl verify -CAfile ${fx.path('root.pem')} ${fx.path('rsa.pem')}`);
  });

  it('CA_NO_AMAZON_ROOT, CA_ONLY_RESERVED_AMAZON_ROOTS, CA_NO_CA_CERT', async () => {
    expect((await one('ca.contents', { cert: 'rsa.pem', ca: 'other-root.pem' })).code).toBe('CA_NO_AMAZON_ROOT');
    expect((await one('ca.contents', { ca: 'amazon2-4.pem' })).code).toBe('CA_ONLY_RESERVED_AMAZON_ROOTS');
    const noCa = await one('ca.contents', { cert: 'rsa.pem', ca: 'rsa.pem' });
    expect([noCa.status, noCa.code]).toEqual(['fail', 'CA_NO_CA_CERT']);
    expect(noCa.summary).toContain('swapped');
  });

  it('is skipped when the CA file is junk', async () => {
    const r = await one('ca.contents', { ca: 'junk.txt' });
    expect([r.status, r.code, r.summary]).toEqual(['skip', 'BLOCKED', 'blocked by files.ca: CA_BUNDLE_JUNK']);
  });
});

describe('ca.verifies-endpoint (checkCaVerifiesChain)', () => {
  const endpoint = 'abc123-ats.iot.eu-west-1.amazonaws.com';

  it('CA_VERIFIES_CHAIN through an intermediate to the root in the CA file', async () => {
    const c = await creds({ ca: 'root.pem' });
    const r = checkCaVerifiesChain(c, [await pem('leaf-int.pem'), await pem('int.pem')], endpoint);
    expect(r.id).toBe(CA_VERIFIES_ENDPOINT.id);
    expect([r.status, r.code]).toEqual(['pass', 'CA_VERIFIES_CHAIN']);
    expect(r.evidence.verifiedPath).toHaveLength(2);
    expect(r.reproduce).toBe(
      `openssl s_client -connect ${endpoint}:8883 -servername ${endpoint} -CAfile ${fx.path('root.pem')} -verify_return_error -showcerts </dev/null`,
    );
    // The same answer from openssl.
    const v = await execa(
      'openssl',
      ['verify', '-CAfile', fx.path('root.pem'), '-untrusted', fx.path('int.pem'), fx.path('leaf-int.pem')],
      { reject: false },
    );
    expect(v.exitCode).toBe(0);
  });

  it('accepts the whole chain as one PEM string', async () => {
    const c = await creds({ ca: 'root.pem' });
    expect(checkCaVerifiesChain(c, [await pem('chain.pem')], endpoint).code).toBe('CA_VERIFIES_CHAIN');
  });

  it('CA_DOES_NOT_VERIFY_CHAIN with a foreign CA, and with a forged intermediate of the same name', async () => {
    const other = checkCaVerifiesChain(
      await creds({ ca: 'other-root.pem' }),
      [await pem('leaf-int.pem'), await pem('int.pem')],
      endpoint,
      { port: 443 },
    );
    expect([other.status, other.code]).toEqual(['fail', 'CA_DOES_NOT_VERIFY_CHAIN']);
    expect(other.hint).toContain('not an Amazon root');
    expect(other.reproduce).toContain(`${endpoint}:443`);
    const forged = checkCaVerifiesChain(
      await creds({ ca: 'root.pem' }),
      [await pem('leaf-int.pem'), await pem('fake-int.pem')],
      endpoint,
    );
    expect([forged.status, forged.code]).toEqual(['fail', 'CA_DOES_NOT_VERIFY_CHAIN']);
    const v = await execa(
      'openssl',
      ['verify', '-CAfile', fx.path('root.pem'), '-untrusted', fx.path('fake-int.pem'), fx.path('leaf-int.pem')],
      { reject: false },
    );
    expect(v.exitCode).not.toBe(0);
  });

  it('uses the CA file alone: the bundled roots do not verify a private chain', async () => {
    const r = checkCaVerifiesChain(await creds({}), [await pem('leaf-int.pem'), await pem('int.pem')], endpoint);
    expect(r.code).toBe('CA_DOES_NOT_VERIFY_CHAIN');
    expect(r.reproduce).toContain('-CAfile AmazonRootCA1.pem');
  });

  it('says when the Amazon roots would have verified the chain', async () => {
    const r = checkCaVerifiesChain(await creds({ ca: 'root.pem', cert: 'rsa.pem' }), [AMAZON_ROOTS[0]!.pem], endpoint);
    expect(r.code).toBe('CA_DOES_NOT_VERIFY_CHAIN');
    expect(r.evidence.wouldVerifyWith).toBe('Amazon Root CA 1');
    expect(r.hint).toContain('it holds the CA that issued the device certificate instead');
  });

  it('CA_VERIFIES_CHAIN_PARTIAL when the CA file holds only the intermediate', async () => {
    const r = checkCaVerifiesChain(
      await creds({ ca: 'int.pem' }),
      [await pem('leaf-int.pem'), await pem('int.pem')],
      endpoint,
    );
    expect([r.status, r.code]).toEqual(['warn', 'CA_VERIFIES_CHAIN_PARTIAL']);
  });

  it('CA_CHAIN_NOT_TIME_VALID when the chain verifies but is outside its validity', async () => {
    const r = checkCaVerifiesChain(
      await creds({ ca: 'root.pem' }),
      [await pem('leaf-int.pem'), await pem('int.pem')],
      endpoint,
      {
        now: new Date(Date.now() + 5 * 365 * 86_400_000),
      },
    );
    expect([r.status, r.code]).toEqual(['warn', 'CA_CHAIN_NOT_TIME_VALID']);
  });

  it('skip without a chain, skip when the CA file failed, error for garbage', async () => {
    expect(checkCaVerifiesChain(await creds({ ca: 'root.pem' }), [], endpoint).code).toBe('CA_NO_PRESENTED_CHAIN');
    const blocked = checkCaVerifiesChain(await creds({ ca: 'junk.txt' }), [await pem('int.pem')], endpoint);
    expect([blocked.status, blocked.summary]).toEqual(['skip', 'blocked by files.ca: CA_BUNDLE_JUNK']);
    const garbage = checkCaVerifiesChain(await creds({ ca: 'root.pem' }), ['not a certificate'], endpoint);
    expect([garbage.status, garbage.code]).toEqual(['error', 'CA_CHAIN_UNREADABLE']);
  });
});

describe('renderList', () => {
  const results: CheckResult[] = [
    {
      id: 'a',
      route: null,
      stage: null,
      title: 'Thing one',
      status: 'pass',
      code: 'A_OK',
      summary: 'fine',
      evidence: {},
      reproduce: 'echo a',
      durationMs: 1,
    },
    {
      id: 'b',
      route: null,
      stage: null,
      title: 'Thing two',
      status: 'fail',
      code: 'B_BAD',
      summary: 'broken',
      evidence: {},
      hint: 'fix it',
      reproduce: 'echo b',
      durationMs: 1,
    },
    {
      id: 'c',
      route: null,
      stage: null,
      title: 'Thing three',
      status: 'skip',
      code: 'BLOCKED',
      summary: 'blocked by b: B_BAD',
      evidence: {},
      durationMs: 0,
    },
    {
      id: 'route.mqtt-8883 IPv6.tcp',
      route: 'mqtt-8883 IPv6',
      stage: 'tcp',
      title: 'TCP connection',
      status: 'fail',
      code: 'TCP_TIMEOUT',
      summary: 'no answer within 5000 ms',
      evidence: {},
      durationMs: 5000,
    },
  ];

  it('prints symbol, status word, title (route and stage for a cell) and summary; hint and reproduce under non-pass results', () => {
    expect(renderList(results, { color: false })).toBe(
      [
        '✔ pass  Thing one: fine',
        '✖ fail  Thing two: broken',
        '    hint: fix it',
        '    try:  echo b',
        '- skip  Thing three: blocked by b: B_BAD',
        '✖ fail  mqtt-8883 IPv6 / tcp (TCP connection): no answer within 5000 ms',
        '',
      ].join('\n'),
    );
  });

  it('uses colour only when asked, and keeps the words', () => {
    const plain = renderList(results, { color: false });
    expect(plain).not.toContain('\u001b[');
    const colored = renderList(results, { color: true });
    expect(colored).toContain('\u001b[');
    expect(colored.replace(/\u001b\[[0-9;]*m/g, '')).toBe(plain);
  });

  it('renders real check results', async () => {
    const out = renderList(await runAll({ cert: 'rsa.key', key: 'rsa.pem' }), { color: false });
    expect(out).toContain(
      '✖ fail  Certificate file holds a readable device certificate: this file holds a private key',
    );
    expect(out).toContain(
      '- skip  Private key matches certificate: blocked by files.cert: CERT_FILE_HOLDS_PRIVATE_KEY',
    );
  });
});
