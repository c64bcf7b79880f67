/**
 * Credential fixtures made at test time with the `openssl` CLI (OpenSSL 3.0 is enough). Everything lands in a fresh
 * temp directory; call `cleanup()` in afterAll.
 */
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export const PASSPHRASE = 'fixture-pass-4821';

export interface Fixtures {
  dir: string;
  /** Absolute path of a fixture file by name. */
  path(name: string): string;
  cleanup(): Promise<void>;
}

const EXT_CONF = `
[ root_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ int_ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ dev_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ server_eku_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth

[ no_ds_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment
extendedKeyUsage = clientAuth

[ bare_ext ]
subjectKeyIdentifier = hash
`;

function caConf(dir: string): string {
  return `
[ ca ]
default_ca = ca_default

[ ca_default ]
dir = ${dir}
database = ${dir}/index.txt
new_certs_dir = ${dir}/new
serial = ${dir}/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
preserve = no

[ policy_any ]
commonName = supplied
organizationName = optional

${EXT_CONF}
`;
}

function stamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

export async function makeFixtures(): Promise<Fixtures> {
  const dir = await mkdtemp(join(tmpdir(), 'iot-doctor-pem-'));
  const path = (name: string) => join(dir, name);
  const ossl = (...args: string[]) => execa('openssl', args, { cwd: dir });
  await writeFile(path('ext.cnf'), EXT_CONF);

  const rsaKey = (name: string, bits = 2048) =>
    ossl('genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${bits}`, '-out', path(name));
  const ecKey = (name: string, curve = 'P-256') =>
    ossl(
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      `ec_paramgen_curve:${curve}`,
      '-pkeyopt',
      'ec_param_enc:named_curve',
      '-out',
      path(name),
    );
  const csr = (key: string, out: string, cn: string) =>
    ossl('req', '-new', '-key', path(key), '-subj', `/O=iot-doctor tests/CN=${cn}`, '-out', path(out));
  const sign = (csrName: string, out: string, caCert: string, caKey: string, ext: string, extra: string[] = []) =>
    ossl(
      'x509',
      '-req',
      '-in',
      path(csrName),
      '-CA',
      path(caCert),
      '-CAkey',
      path(caKey),
      '-set_serial',
      String(Math.floor(Math.random() * 1e9) + 1),
      '-days',
      '365',
      '-extfile',
      path('ext.cnf'),
      '-extensions',
      ext,
      '-out',
      path(out),
      ...extra,
    );

  // Keys, all at once.
  await Promise.all([
    rsaKey('root.key'),
    rsaKey('int.key'),
    rsaKey('rsa.key'),
    rsaKey('other.key'),
    rsaKey('leaf-int.key'),
    rsaKey('weak.key', 1024),
    ecKey('ec.key'),
    ecKey('ec384.key', 'P-384'),
    ecKey('other-root.key'),
  ]);

  // Roots.
  await Promise.all([
    ossl(
      'req',
      '-x509',
      '-new',
      '-key',
      path('root.key'),
      '-subj',
      '/O=iot-doctor tests/CN=Test Device Root CA',
      '-days',
      '3650',
      '-config',
      path('ext.cnf'),
      '-extensions',
      'root_ext',
      '-out',
      path('root.pem'),
    ),
    ossl(
      'req',
      '-x509',
      '-new',
      '-key',
      path('other-root.key'),
      '-subj',
      '/O=elsewhere/CN=Other Root CA',
      '-days',
      '3650',
      '-config',
      path('ext.cnf'),
      '-extensions',
      'root_ext',
      '-out',
      path('other-root.pem'),
    ),
  ]);

  // Requests.
  await Promise.all([
    csr('int.key', 'int.csr', 'Test Intermediate CA'),
    csr('rsa.key', 'rsa.csr', 'device-rsa'),
    csr('ec.key', 'ec.csr', 'device-ec'),
    csr('ec384.key', 'ec384.csr', 'device-ec384'),
    csr('leaf-int.key', 'leaf-int.csr', 'device-behind-intermediate'),
    csr('weak.key', 'weak.csr', 'device-weak'),
    csr('other.key', 'fake-int.csr', 'Test Intermediate CA'),
  ]);

  // Certificates signed by the root.
  await Promise.all([
    sign('int.csr', 'int.pem', 'root.pem', 'root.key', 'int_ext'),
    sign('rsa.csr', 'rsa.pem', 'root.pem', 'root.key', 'dev_ext'),
    sign('ec.csr', 'ec.pem', 'root.pem', 'root.key', 'dev_ext'),
    sign('ec384.csr', 'ec384.pem', 'root.pem', 'root.key', 'dev_ext'),
    sign('weak.csr', 'weak.pem', 'root.pem', 'root.key', 'dev_ext'),
    sign('rsa.csr', 'server-eku.pem', 'root.pem', 'root.key', 'server_eku_ext'),
    sign('rsa.csr', 'no-ds.pem', 'root.pem', 'root.key', 'no_ds_ext'),
    sign('rsa.csr', 'sha1.pem', 'root.pem', 'root.key', 'dev_ext', ['-sha1']),
    sign('rsa.csr', 'bare.pem', 'root.pem', 'root.key', 'bare_ext'),
    sign('fake-int.csr', 'fake-int.pem', 'root.pem', 'root.key', 'int_ext'),
  ]);
  await sign('leaf-int.csr', 'leaf-int.pem', 'int.pem', 'int.key', 'dev_ext');

  // Certificates with explicit dates (openssl ca; one at a time, it keeps a database).
  const db = path('ca-db');
  await mkdir(join(db, 'new'), { recursive: true });
  await writeFile(join(db, 'index.txt'), '');
  await writeFile(join(db, 'serial'), '1000\n');
  await writeFile(path('ca.cnf'), caConf(db));
  const dated = (out: string, start: Date, end: Date) =>
    ossl(
      'ca',
      '-batch',
      '-config',
      path('ca.cnf'),
      '-cert',
      path('root.pem'),
      '-keyfile',
      path('root.key'),
      '-in',
      path('rsa.csr'),
      '-out',
      path(out),
      '-notext',
      '-startdate',
      stamp(start),
      '-enddate',
      stamp(end),
      '-extensions',
      'dev_ext',
    );
  const now = Date.now();
  const day = 86_400_000;
  await dated('expired.pem', new Date(Date.UTC(2020, 0, 1)), new Date(Date.UTC(2021, 0, 1)));
  await dated('future.pem', new Date(now + 400 * day), new Date(now + 800 * day));
  await dated('soon.pem', new Date(now - 300 * day), new Date(now + 10 * day));

  // Derived forms.
  await Promise.all([
    ossl('x509', '-in', path('rsa.pem'), '-outform', 'DER', '-out', path('rsa.der')),
    ossl('pkey', '-in', path('rsa.key'), '-outform', 'DER', '-out', path('rsa-key.der')),
    ossl('x509', '-in', path('root.pem'), '-outform', 'DER', '-out', path('root.der')),
    ossl(
      'pkcs8',
      '-topk8',
      '-in',
      path('rsa.key'),
      '-v2',
      'aes-256-cbc',
      '-passout',
      `pass:${PASSPHRASE}`,
      '-out',
      path('rsa-enc-pkcs8.key'),
    ),
    ossl(
      'rsa',
      '-in',
      path('rsa.key'),
      '-aes256',
      '-traditional',
      '-passout',
      `pass:${PASSPHRASE}`,
      '-out',
      path('rsa-enc-legacy.key'),
    ),
    ossl('ec', '-in', path('ec.key'), '-aes256', '-passout', `pass:${PASSPHRASE}`, '-out', path('ec-enc-legacy.key')),
    ossl(
      'pkcs8',
      '-topk8',
      '-in',
      path('rsa.key'),
      '-v2',
      'aes-256-cbc',
      '-outform',
      'DER',
      '-passout',
      `pass:${PASSPHRASE}`,
      '-out',
      path('rsa-enc-pkcs8.der'),
    ),
    ossl('pkey', '-in', path('rsa.key'), '-pubout', '-out', path('rsa.pub')),
    ossl('rsa', '-in', path('rsa.key'), '-traditional', '-out', path('rsa-pkcs1.key')),
    ossl(
      'pkcs12',
      '-export',
      '-in',
      path('rsa.pem'),
      '-inkey',
      path('rsa.key'),
      '-certfile',
      path('root.pem'),
      '-passout',
      `pass:${PASSPHRASE}`,
      '-out',
      path('rsa.p12'),
    ),
    ossl(
      'pkcs12',
      '-export',
      '-legacy',
      '-in',
      path('rsa.pem'),
      '-inkey',
      path('rsa.key'),
      '-passout',
      `pass:${PASSPHRASE}`,
      '-out',
      path('rsa-legacy.p12'),
    ),
    ossl(
      'pkcs12',
      '-export',
      '-in',
      path('ec.pem'),
      '-inkey',
      path('ec.key'),
      '-passout',
      `pass:${PASSPHRASE}`,
      '-out',
      path('ec.p12'),
    ),
  ]);

  const read = (name: string) => readFile(path(name), 'utf8');
  await writeFile(path('chain.pem'), (await read('leaf-int.pem')) + (await read('int.pem')));
  await writeFile(path('cert-and-key.pem'), (await read('rsa.pem')) + (await read('rsa.key')));
  await writeFile(path('root-and-other.pem'), (await read('root.pem')) + (await read('other-root.pem')));
  await writeFile(
    path('ca-with-junk.pem'),
    (await read('root.pem')) + '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n',
  );
  await writeFile(path('corrupt.pem'), (await read('rsa.pem')).replace(/\n[A-Za-z0-9+/]{64}\n/, '\n!!!!\n'));
  await writeFile(path('junk.txt'), 'hello, this is not a certificate\n');
  await writeFile(path('binary.bin'), Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x10]));
  await writeFile(path('empty.pem'), '');
  await copyFile(path('rsa.key'), path('rsa-open.key'));

  // Keys are private to their owner except the one that tests the warning.
  for (const name of [
    'root.key',
    'int.key',
    'rsa.key',
    'other.key',
    'leaf-int.key',
    'weak.key',
    'ec.key',
    'ec384.key',
    'other-root.key',
    'rsa-key.der',
    'rsa-enc-pkcs8.key',
    'rsa-enc-legacy.key',
    'ec-enc-legacy.key',
    'rsa-enc-pkcs8.der',
    'rsa-pkcs1.key',
    'rsa.p12',
    'rsa-legacy.p12',
    'ec.p12',
    'cert-and-key.pem',
  ]) {
    await chmod(path(name), 0o600);
  }
  await chmod(path('rsa-open.key'), 0o644);

  return { dir, path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
