/**
 * The `openssl verify` line suggested when the CA file holds the device's own CA (CA_IS_DEVICE_ISSUER) works as
 * printed for a device certificate that travels with its intermediate (leaf+intermediate PEM, PKCS#12 with CA bags,
 * DER): the test runs the printed line with openssl and expects OK. `openssl verify FILE` alone reads only the
 * first certificate, so without `-untrusted` the intermediate would be missing and the line would fail.
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certChecks } from '../../checks/cert.js';
import { loadDeviceFiles } from '../../src/probes/pem.js';

const dir = mkdtempSync(join(tmpdir(), 'iot-doctor-verify-'));
const at = (name: string): string => join(dir, name);

async function openssl(...args: string[]): Promise<void> {
  await execa('openssl', args, { cwd: dir });
}

/** A CA certificate `name` signed by `issuer` (self-signed without one). */
async function ca(name: string, issuer?: string): Promise<void> {
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at(`${name}.key`),
    '-out',
    at(`${name}.csr`),
    '-subj',
    `/CN=${name}`,
  );
  writeFileSync(at('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  const signer = issuer
    ? ['-CA', at(`${issuer}.pem`), '-CAkey', at(`${issuer}.key`), '-CAcreateserial']
    : ['-signkey', at(`${name}.key`)];
  await openssl(
    'x509',
    '-req',
    '-in',
    at(`${name}.csr`),
    ...signer,
    '-out',
    at(`${name}.pem`),
    '-days',
    '30',
    '-extfile',
    at('ca.ext'),
  );
}

beforeAll(async () => {
  await ca('Device Root');
  await ca('Device Intermediate', 'Device Root');
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('leaf.key'),
    '-out',
    at('leaf.csr'),
    '-subj',
    '/CN=device-1',
  );
  writeFileSync(at('leaf.ext'), 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n');
  await openssl(
    'x509',
    '-req',
    '-in',
    at('leaf.csr'),
    '-CA',
    at('Device Intermediate.pem'),
    '-CAkey',
    at('Device Intermediate.key'),
    '-CAcreateserial',
    '-out',
    at('leaf.pem'),
    '-days',
    '30',
    '-extfile',
    at('leaf.ext'),
  );
  writeFileSync(
    at('leaf+intermediate.pem'),
    readFileSync(at('leaf.pem'), 'utf8') + readFileSync(at('Device Intermediate.pem'), 'utf8'),
  );
  await openssl(
    'pkcs12',
    '-export',
    '-in',
    at('leaf.pem'),
    '-inkey',
    at('leaf.key'),
    '-certfile',
    at('Device Intermediate.pem'),
    '-out',
    at('bundle.p12'),
    '-passout',
    'pass:',
  );
  await openssl('x509', '-in', at('leaf.pem'), '-outform', 'DER', '-out', at('leaf.der'));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function suggested(cert: string, caFile: string): Promise<string> {
  const credentials = await loadDeviceFiles({ certPath: at(cert), caPath: at(caFile) });
  const ctx = {
    credentials,
    target: { warnDays: 30, endpoint: 'abc123-ats.iot.eu-west-1.amazonaws.com' },
    now: () => new Date(),
  };
  const check = certChecks.find((c) => c.id === 'ca.contents')!;
  const [result] = await check.run(ctx, new Map());
  expect(result!.code).toBe('CA_IS_DEVICE_ISSUER');
  return result!.reproduce!;
}

describe('the suggested openssl verify line works as printed', () => {
  const cases: [string, string, string, RegExp][] = [
    [
      'leaf+intermediate PEM, root in the CA file',
      'leaf+intermediate.pem',
      'Device Root.pem',
      /^openssl verify -CAfile .* -untrusted /,
    ],
    [
      'PKCS#12 with the intermediate, root in the CA file',
      'bundle.p12',
      'Device Root.pem',
      /-untrusted <\(openssl pkcs12/,
    ],
    [
      'leaf alone, intermediate in the CA file',
      'leaf.pem',
      'Device Intermediate.pem',
      /^openssl verify -partial_chain -CAfile '?[^<]*leaf\.pem'?$/,
    ],
    ['DER leaf, intermediate in the CA file', 'leaf.der', 'Device Intermediate.pem', /leaf\.der'?$/],
  ];
  for (const [name, cert, caFile, shape] of cases) {
    it(name, async () => {
      const line = await suggested(cert, caFile);
      expect(line).toMatch(shape);
      const r = await execa('bash', ['-o', 'pipefail', '-c', line], {
        cwd: dir,
        reject: false,
        input: '',
        timeout: 20_000,
      });
      expect(r.exitCode, `${line}\n${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/: OK$/m);
    });
  }

  it('the line the product printed before (no -untrusted) fails for leaf+intermediate: the test can fail', async () => {
    const r = await execa('openssl', ['verify', '-CAfile', at('Device Root.pem'), at('leaf+intermediate.pem')], {
      reject: false,
    });
    expect(r.exitCode).not.toBe(0);
  });
});
