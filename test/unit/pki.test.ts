import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { createCA, issueDeviceCertificate, issueServerCertificate, type KeyType } from '../../src/lab/pki.js';

const dir = mkdtempSync(join(tmpdir(), 'iot-doctor-pki-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pki', () => {
  for (const keyType of ['rsa', 'ec', 'ec384'] as KeyType[]) {
    it(`issues ${keyType} chains that openssl verifies for the right purpose and name`, async () => {
      const ca = createCA(`Test Root ${keyType}`, { keyType, organization: 'iot-doctor tests' });
      const server = issueServerCertificate(ca, ['abc-ats.iot.eu-west-1.amazonaws.com', '127.0.0.1']);
      const device = issueDeviceCertificate(ca, 'device-1');
      const files = {
        ca: join(dir, `${keyType}-ca.pem`),
        server: join(dir, `${keyType}-srv.pem`),
        device: join(dir, `${keyType}-dev.pem`),
      };
      writeFileSync(files.ca, ca.certPem);
      writeFileSync(files.server, server.certPem);
      writeFileSync(files.device, device.certPem);

      const srv = await execa(
        'openssl',
        [
          'verify',
          '-CAfile',
          files.ca,
          '-purpose',
          'sslserver',
          '-verify_hostname',
          'abc-ats.iot.eu-west-1.amazonaws.com',
          files.server,
        ],
        { reject: false },
      );
      expect(srv.stdout).toContain(': OK');
      const wrongName = await execa(
        'openssl',
        ['verify', '-CAfile', files.ca, '-verify_hostname', 'other.example.com', files.server],
        { reject: false },
      );
      expect(wrongName.exitCode).not.toBe(0);
      const dev = await execa('openssl', ['verify', '-CAfile', files.ca, '-purpose', 'sslclient', files.device], {
        reject: false,
      });
      expect(dev.stdout).toContain(': OK');
      const devAsServer = await execa(
        'openssl',
        ['verify', '-CAfile', files.ca, '-purpose', 'sslserver', files.device],
        { reject: false },
      );
      expect(devAsServer.exitCode).not.toBe(0);

      expect(device.cert.checkPrivateKey(device.privateKey)).toBe(true);
      expect(device.cert.ca).toBe(false);
      expect(ca.cert.ca).toBe(true);
      expect(server.cert.subjectAltName).toContain('IP Address:127.0.0.1');
      const fp = await execa('openssl', ['x509', '-in', files.device, '-noout', '-fingerprint', '-sha256']);
      expect(fp.stdout.split('=')[1]!.replaceAll(':', '').toLowerCase()).toBe(device.certificateId);
    });
  }

  it('honours an explicit validity window (expired certificate)', () => {
    const ca = createCA('Expiry Root');
    const old = issueDeviceCertificate(ca, 'old', {
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2021-01-01T00:00:00Z'),
    });
    expect(new Date(old.cert.validTo).toISOString()).toBe('2021-01-01T00:00:00.000Z');
    const far = issueDeviceCertificate(ca, 'far', { notAfter: new Date('2060-06-01T00:00:00Z') });
    expect(new Date(far.cert.validTo).getUTCFullYear()).toBe(2060);
  });
});
