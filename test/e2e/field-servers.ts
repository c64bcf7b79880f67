/**
 * TLS servers restricted the way AWS security policies and custom domains restrict them, made with `openssl
 * s_server` in the bed's server namespace: one version only, one cipher suite, a server certificate chosen by SNI,
 * a long chain. The PKI is made here with the openssl CLI (RSA 2048, test-time only).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execSync, type Bed, type Helper } from './bed.js';

/** Files of the test PKI: a root, a leaf for the endpoint, a leaf for another name, and a long chain. */
export interface FieldPki {
  ca: string;
  leaf: string;
  leafKey: string;
  other: string;
  otherKey: string;
  /** Leaf for the endpoint issued under five intermediates, and the intermediates (leaf first, root excluded). */
  deepLeaf: string;
  deepKey: string;
  deepChain: string;
}

function issue(
  dir: string,
  name: string,
  subject: string,
  issuer: { cert: string; key: string } | null,
  ext: string,
): { cert: string; key: string } {
  const p = (f: string): string => join(dir, f);
  const ossl = (...args: string[]): string => execSync('openssl', args, dir);
  ossl('genrsa', '-out', p(`${name}.key`), '2048');
  writeFileSync(p(`${name}.ext`), `${ext}\n`);
  if (!issuer) {
    ossl(
      'req',
      '-x509',
      '-new',
      '-key',
      p(`${name}.key`),
      '-sha256',
      '-days',
      '30',
      '-subj',
      subject,
      '-out',
      p(`${name}.pem`),
      '-extensions',
      'v3',
      '-config',
      cnf(dir, name, ext),
    );
  } else {
    ossl('req', '-new', '-key', p(`${name}.key`), '-subj', subject, '-out', p(`${name}.csr`));
    ossl(
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      issuer.cert,
      '-CAkey',
      issuer.key,
      '-CAcreateserial',
      '-days',
      '30',
      '-sha256',
      '-extfile',
      p(`${name}.ext`),
      '-out',
      p(`${name}.pem`),
    );
  }
  return { cert: p(`${name}.pem`), key: p(`${name}.key`) };
}

function cnf(dir: string, name: string, ext: string): string {
  const path = join(dir, `${name}.cnf`);
  writeFileSync(path, `[req]\ndistinguished_name=dn\n[dn]\n[v3]\n${ext}\n`);
  return path;
}

const CA_EXT = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign';
const leafExt = (name: string): string =>
  `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${name}`;

/** Make the PKI under `dir` for `endpoint`. */
export function makeFieldPki(dir: string, endpoint: string): FieldPki {
  mkdirSync(dir, { recursive: true });
  const root = issue(dir, 'root', '/O=Field Test Trust/CN=Field Test Root', null, CA_EXT);
  const leaf = issue(dir, 'leaf', `/CN=${endpoint}`, root, leafExt(endpoint));
  const other = issue(dir, 'other', '/CN=other.example.net', root, leafExt('other.example.net'));
  let parent = root;
  const intermediates: string[] = [];
  for (let i = 1; i <= 5; i++) {
    parent = issue(
      dir,
      `int${i}`,
      `/O=Field Test Trust/CN=Field Test Intermediate ${i} with a rather long common name`,
      parent,
      CA_EXT,
    );
    intermediates.unshift(parent.cert);
  }
  const deep = issue(dir, 'deep', `/CN=${endpoint}`, parent, leafExt(endpoint));
  writeFileSync(join(dir, 'deep-chain.pem'), intermediates.map((f) => readFileSync(f, 'utf8')).join(''));
  return {
    ca: root.cert,
    leaf: leaf.cert,
    leafKey: leaf.key,
    other: other.cert,
    otherKey: other.key,
    deepLeaf: deep.cert,
    deepKey: deep.key,
    deepChain: join(dir, 'deep-chain.pem'),
  };
}

/** Start `openssl s_server` in the server namespace on `address:port` with extra options; resolves when it accepts. */
export async function startSServer(
  bed: Bed,
  name: string,
  address: string,
  port: number,
  args: string[],
): Promise<Helper> {
  const helper = bed.spawnHelper(`s_server-${name}`, bed.ns.server, 'openssl', [
    's_server',
    '-accept',
    `${address}:${port}`,
    ...args,
  ]);
  await helper.waitFor(/ACCEPT/, 10_000);
  return helper;
}
