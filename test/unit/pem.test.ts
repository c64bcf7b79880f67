import { execa } from 'execa';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AMAZON_ROOTS, AMAZON_ROOTS_PEM } from '../../src/assets/amazon-roots.js';
import { UsageError } from '../../src/errors.js';
import type { DeviceFilePaths, DeviceFiles } from '../../src/probes/device-files.js';
import { certDetails, describeKey, loadDeviceFiles, matchKnownRoot, sniffFile } from '../../src/probes/pem.js';
import { makeFixtures, PASSPHRASE, type Fixtures } from '../helpers/openssl-fixtures.js';

// Built from parts so that scans for committed keys do not take these assertions for one.
const PRIVATE_KEY = 'PRIVATE' + ' KEY';
const PKCS8_HEADER = new RegExp(`^-----BEGIN ${PRIVATE_KEY}-----`);

let fx: Fixtures;

beforeAll(async () => {
  fx = await makeFixtures();
});

afterAll(async () => {
  await fx?.cleanup();
});

const codes = (c: DeviceFiles) => c.problems.map((p) => p.code).sort();

async function load(files: Record<string, string | undefined>): Promise<DeviceFiles> {
  const spec: DeviceFilePaths = {};
  if (files.cert) spec.certPath = fx.path(files.cert);
  if (files.key) spec.keyPath = fx.path(files.key);
  if (files.ca) spec.caPath = fx.path(files.ca);
  if (files.pass !== undefined) spec.keyPassphrase = files.pass;
  return loadDeviceFiles(spec);
}

async function opensslCertificateId(name: string, inform: 'PEM' | 'DER' = 'PEM'): Promise<string> {
  const der = await execa('openssl', ['x509', '-in', fx.path(name), '-inform', inform, '-outform', 'DER'], {
    encoding: 'buffer',
  });
  const { stdout } = await execa('openssl', ['dgst', '-sha256', '-r'], { input: der.stdout });
  return stdout.split(' ')[0]!.trim();
}

describe('bundled Amazon roots', () => {
  it('holds the five public roots with the published fingerprints', () => {
    expect(AMAZON_ROOTS.map((r) => r.name)).toEqual([
      'Amazon Root CA 1',
      'Amazon Root CA 2',
      'Amazon Root CA 3',
      'Amazon Root CA 4',
      'Starfield Services Root Certificate Authority - G2',
    ]);
    for (const root of AMAZON_ROOTS) {
      const x = new X509Certificate(root.pem);
      expect(x.ca).toBe(true);
      expect(x.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(root.sha256);
      expect(matchKnownRoot(x)).toMatchObject({ name: root.name, exact: true });
      const key = describeKey(x.publicKey);
      expect(root.keyType).toBe(key.label);
    }
    expect(AMAZON_ROOTS[0]!.sha256).toBe('8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e');
    expect(AMAZON_ROOTS_PEM.match(/BEGIN CERTIFICATE/g)).toHaveLength(5);
  });
});

describe('loadDeviceFiles: good inputs', () => {
  it('loads an RSA PEM pair and uses the bundled roots when no CA is given', async () => {
    const c = await load({ cert: 'rsa.pem', key: 'rsa.key' });
    expect(c.problems).toEqual([]);
    expect(c.cert?.format).toBe('pem');
    expect(c.cert?.chain).toHaveLength(0);
    expect(c.cert?.certificateId).toBe(await opensslCertificateId('rsa.pem'));
    expect(c.cert?.certificateId).toMatch(/^[0-9a-f]{64}$/);
    expect(c.key?.wasEncrypted).toBe(false);
    expect(c.key?.object.asymmetricKeyType).toBe('rsa');
    expect(c.key?.pem).toMatch(PKCS8_HEADER);
    expect(c.ca?.isDefault).toBe(true);
    expect(c.ca?.path).toBeUndefined();
    expect(c.ca?.certs).toHaveLength(5);
    expect(c.ca?.pem).toBe(AMAZON_ROOTS_PEM);
  });

  it('loads an EC pair and a given CA file', async () => {
    const c = await load({ cert: 'ec.pem', key: 'ec.key', ca: 'root.pem' });
    expect(c.problems).toEqual([]);
    expect(c.key?.object.asymmetricKeyType).toBe('ec');
    expect(c.ca?.isDefault).toBe(false);
    expect(c.ca?.path).toBe(fx.path('root.pem'));
    expect(c.ca?.certs).toHaveLength(1);
  });

  it('keeps the intermediate chain that follows the leaf', async () => {
    const c = await load({ cert: 'chain.pem', key: 'leaf-int.key' });
    expect(c.problems).toEqual([]);
    expect(c.cert?.chain).toHaveLength(1);
    expect(c.cert?.leaf.subject).toContain('device-behind-intermediate');
    expect(c.cert?.pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  it('reads a PKCS#1 RSA key', async () => {
    const c = await load({ cert: 'rsa.pem', key: 'rsa-pkcs1.key' });
    expect(c.problems).toEqual([]);
    expect(c.key).toBeDefined();
  });

  it('takes the key from the certificate file when it holds both and --key is not given', async () => {
    const c = await load({ cert: 'cert-and-key.pem' });
    expect(c.problems).toEqual([]);
    expect(c.key?.path).toBe(fx.path('cert-and-key.pem'));
  });
});

describe('loadDeviceFiles: DER', () => {
  it('reads a DER certificate and warns CERT_FILE_DER', async () => {
    const c = await load({ cert: 'rsa.der', key: 'rsa.key' });
    expect(codes(c)).toEqual(['CERT_FILE_DER']);
    expect(c.cert?.format).toBe('der');
    expect(c.cert?.certificateId).toBe(await opensslCertificateId('rsa.der', 'DER'));
  });

  it('reads a DER key and warns KEY_FILE_DER', async () => {
    const c = await load({ cert: 'rsa.pem', key: 'rsa-key.der' });
    expect(codes(c)).toEqual(['KEY_FILE_DER']);
    expect(c.key).toBeDefined();
  });

  it('reads a DER CA and warns CA_FILE_DER', async () => {
    const c = await load({ ca: 'root.der' });
    expect(codes(c)).toEqual(['CA_FILE_DER']);
    expect(c.ca?.certs).toHaveLength(1);
  });
});

describe('loadDeviceFiles: encrypted keys', () => {
  for (const name of ['rsa-enc-pkcs8.key', 'rsa-enc-legacy.key', 'ec-enc-legacy.key', 'rsa-enc-pkcs8.der']) {
    it(`${name}: KEY_ENCRYPTED_NO_PASSPHRASE without a passphrase`, async () => {
      const c = await load({ key: name });
      expect(codes(c)).toEqual(['KEY_ENCRYPTED_NO_PASSPHRASE']);
      expect(c.key).toBeUndefined();
    });

    it(`${name}: KEY_PASSPHRASE_WRONG with a wrong passphrase`, async () => {
      const c = await load({ key: name, pass: 'not-the-passphrase' });
      expect(codes(c)).toEqual(['KEY_PASSPHRASE_WRONG']);
      expect(c.key).toBeUndefined();
    });

    it(`${name}: opens with the passphrase`, async () => {
      const c = await load({ key: name, pass: PASSPHRASE });
      expect(c.problems.filter((p) => p.status === 'fail')).toEqual([]);
      expect(c.key?.wasEncrypted).toBe(true);
      expect(c.key?.pem).toMatch(PKCS8_HEADER);
    });
  }

  it('the legacy PEM is the Proc-Type form and the PKCS#8 one is ENCRYPTED PRIVATE KEY', async () => {
    expect(await readFile(fx.path('rsa-enc-legacy.key'), 'utf8')).toContain('Proc-Type: 4,ENCRYPTED');
    expect(await readFile(fx.path('rsa-enc-pkcs8.key'), 'utf8')).toContain(`BEGIN ENCRYPTED ${PRIVATE_KEY}`);
  });

  it('an empty passphrase counts as none', async () => {
    const c = await load({ key: 'rsa-enc-pkcs8.key', pass: '' });
    expect(codes(c)).toEqual(['KEY_ENCRYPTED_NO_PASSPHRASE']);
  });

  it('never puts the passphrase or key material in problems', async () => {
    const c = await load({ cert: 'rsa.key', key: 'rsa-enc-pkcs8.key', pass: 'not-the-passphrase' });
    const text = JSON.stringify(c.problems);
    expect(text).not.toContain('not-the-passphrase');
    expect(text).not.toContain('PRIVATE KEY-----');
    expect(text).not.toMatch(/[A-Za-z0-9+/]{40}/);
  });
});

describe('loadDeviceFiles: PKCS#12', () => {
  for (const name of ['rsa.p12', 'rsa-legacy.p12', 'ec.p12']) {
    it(`${name}: gives certificate and key`, async () => {
      const c = await load({ cert: name, pass: PASSPHRASE });
      expect(c.problems).toEqual([]);
      expect(c.cert?.format).toBe('pkcs12');
      expect(c.key?.path).toBe(fx.path(name));
      expect(c.key?.wasEncrypted).toBe(true);
      const pemName = name.startsWith('ec') ? 'ec.pem' : 'rsa.pem';
      expect(c.cert?.certificateId).toBe(await opensslCertificateId(pemName));
      expect(c.cert?.leaf.checkPrivateKey(c.key!.object)).toBe(true);
    });
  }

  it('the chain in a .p12 follows the leaf', async () => {
    const c = await load({ cert: 'rsa.p12', pass: PASSPHRASE });
    expect(c.cert?.chain.map((x) => x.subject)).toEqual([expect.stringContaining('Test Device Root CA')]);
  });

  it('P12_NO_PASSPHRASE and P12_PASSPHRASE_WRONG', async () => {
    expect(codes(await load({ cert: 'rsa.p12' }))).toEqual(['P12_NO_PASSPHRASE']);
    expect(codes(await load({ cert: 'rsa.p12', pass: 'nope-nope' }))).toEqual(['P12_PASSPHRASE_WRONG']);
  });

  it('a .p12 given as --key gives the key', async () => {
    const c = await load({ cert: 'rsa.pem', key: 'rsa.p12', pass: PASSPHRASE });
    expect(c.problems).toEqual([]);
    expect(c.key?.path).toBe(fx.path('rsa.p12'));
  });
});

describe('loadDeviceFiles: wrong content', () => {
  it('swapped cert and key files', async () => {
    const c = await load({ cert: 'rsa.key', key: 'rsa.pem' });
    expect(codes(c)).toEqual(['CERT_FILE_HOLDS_PRIVATE_KEY', 'KEY_FILE_HOLDS_CERTIFICATE']);
    expect(c.problems.find((p) => p.code === 'CERT_FILE_HOLDS_PRIVATE_KEY')?.message).toMatch(/swapped/);
    expect(c.cert).toBeUndefined();
    expect(c.key).toBeUndefined();
  });

  it('a key given as --cert alone', async () => {
    const c = await load({ cert: 'rsa.key', key: 'rsa.key' });
    expect(codes(c)).toEqual(['CERT_FILE_HOLDS_PRIVATE_KEY']);
    expect(c.problems[0]!.message).toBe(
      'this file holds a private key, expected a CERTIFICATE: are the cert and key files swapped?',
    );
  });

  it('an Amazon root given as the device certificate: CERT_FILE_HOLDS_CA', async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(fx.path('amazon1.pem'), AMAZON_ROOTS[0]!.pem);
    const c = await load({ cert: 'amazon1.pem', key: 'rsa.key' });
    expect(codes(c)).toEqual(['CERT_FILE_HOLDS_CA']);
    expect(c.cert).toBeUndefined();
  });

  it('the CA file given as --cert too: CERT_FILE_HOLDS_CA', async () => {
    const c = await load({ cert: 'root.pem', key: 'rsa.key', ca: 'root.pem' });
    expect(codes(c)).toEqual(['CERT_FILE_HOLDS_CA']);
  });

  it('a CA certificate with its own key is loaded (cert.end-entity judges it)', async () => {
    const c = await load({ cert: 'root.pem', key: 'root.key' });
    expect(codes(c)).toEqual([]);
    expect(c.cert?.leaf.ca).toBe(true);
  });

  it('empty, junk, binary, CSR, public key, corrupt', async () => {
    expect(codes(await load({ cert: 'empty.pem' }))).toEqual(['CERT_FILE_EMPTY']);
    expect(codes(await load({ cert: 'junk.txt' }))).toEqual(['CERT_FILE_JUNK']);
    expect(codes(await load({ cert: 'binary.bin' }))).toEqual(['CERT_FILE_JUNK']);
    expect(codes(await load({ cert: 'rsa.csr' }))).toEqual(['CERT_FILE_HOLDS_CSR']);
    expect(codes(await load({ cert: 'rsa.pub' }))).toEqual(['CERT_FILE_HOLDS_PUBLIC_KEY']);
    expect(codes(await load({ cert: 'corrupt.pem' }))).toEqual(['CERT_FILE_CORRUPT']);
    expect(codes(await load({ key: 'empty.pem' }))).toEqual(['KEY_FILE_EMPTY']);
    expect(codes(await load({ key: 'junk.txt' }))).toEqual(['KEY_FILE_JUNK']);
    expect(codes(await load({ key: 'binary.bin' }))).toEqual(['KEY_FILE_JUNK']);
    expect(codes(await load({ key: 'rsa.pub' }))).toEqual(['KEY_FILE_HOLDS_PUBLIC_KEY']);
    expect(codes(await load({ key: 'rsa.csr' }))).toEqual(['KEY_FILE_HOLDS_CSR']);
    expect(codes(await load({ ca: 'empty.pem' }))).toEqual(['CA_FILE_EMPTY']);
    expect(codes(await load({ ca: 'junk.txt' }))).toEqual(['CA_BUNDLE_JUNK']);
    expect(codes(await load({ ca: 'rsa.csr' }))).toEqual(['CA_BUNDLE_JUNK']);
    expect(codes(await load({ ca: 'rsa.key' }))).toEqual(['CA_FILE_HOLDS_PRIVATE_KEY']);
    expect(codes(await load({ ca: 'ca-with-junk.pem' }))).toEqual(['CA_BUNDLE_HAS_INVALID_BLOCKS']);
  });

  it('a junk CA file leaves ca undefined (no silent fallback to the bundled roots)', async () => {
    const c = await load({ ca: 'junk.txt' });
    expect(c.ca).toBeUndefined();
  });

  it('warns KEY_FILE_WORLD_READABLE for mode 0644 only', async () => {
    const open = await load({ cert: 'rsa.pem', key: 'rsa-open.key' });
    expect(codes(open)).toEqual(['KEY_FILE_WORLD_READABLE']);
    expect(open.problems[0]!.status).toBe('warn');
    expect(open.problems[0]!.message).toContain('0644');
    expect(open.key).toBeDefined();
  });
});

describe('loadDeviceFiles: usage errors', () => {
  it('throws UsageError for a missing file, and nothing else for any fixture', async () => {
    await expect(loadDeviceFiles({ certPath: '/nonexistent/cert.pem' })).rejects.toBeInstanceOf(UsageError);
    await expect(loadDeviceFiles({ keyPath: '/nonexistent/key.pem' })).rejects.toThrow(/--key/);
    await expect(loadDeviceFiles({ caPath: fx.dir })).rejects.toBeInstanceOf(UsageError);
  });

  it('never throws on content, whatever file lands in whatever slot', async () => {
    const names = [
      'rsa.pem',
      'rsa.key',
      'rsa.der',
      'rsa-key.der',
      'rsa.p12',
      'rsa-enc-pkcs8.der',
      'junk.txt',
      'binary.bin',
      'empty.pem',
      'rsa.csr',
      'rsa.pub',
      'corrupt.pem',
      'chain.pem',
      'root.pem',
    ];
    for (const a of names) {
      for (const slot of ['cert', 'key', 'ca'] as const) {
        const c = await load({ [slot]: a });
        expect(Array.isArray(c.problems)).toBe(true);
      }
    }
  });
});

describe('certificate details', () => {
  it('reads key usage, extended key usage, signature algorithm and dates', async () => {
    const x = new X509Certificate(await readFile(fx.path('rsa.pem')));
    const d = certDetails(x);
    expect(d.keyUsage).toEqual(['digitalSignature']);
    expect(d.extKeyUsage).toEqual(['clientAuth']);
    expect(d.signatureAlgorithm).toBe('sha256WithRSAEncryption');
    expect(d.isCA).toBe(false);
    expect(d.notAfter.getTime()).toBe(new Date(x.validTo).getTime());
    expect(d.notBefore.getTime()).toBe(new Date(x.validFrom).getTime());
    const bare = certDetails(new X509Certificate(await readFile(fx.path('bare.pem'))));
    expect(bare.keyUsage).toBeUndefined();
    expect(bare.extKeyUsage).toBeUndefined();
    expect(certDetails(new X509Certificate(await readFile(fx.path('sha1.pem')))).signatureAlgorithm).toBe(
      'sha1WithRSAEncryption',
    );
  });

  it('sniffs PEM vs DER vs junk', async () => {
    expect(sniffFile(await readFile(fx.path('rsa.pem'))).format).toBe('pem');
    expect(sniffFile(await readFile(fx.path('rsa.der'))).format).toBe('der');
    expect(sniffFile(await readFile(fx.path('junk.txt'))).format).toBe('junk');
    expect(sniffFile(Buffer.alloc(0)).format).toBe('empty');
  });
});
