/**
 * Fidelity of the lab's TLS surface to AWS IoT Core, checked with `openssl s_client` only. Each test names the fact
 * it imitates (aws-iot-facts.md / field-notes.md sections, or the AWS page).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, type LabPki } from '../../src/lab/index.js';
import { DEFAULT_POLICY_TLS12_SUITES, DEFAULT_POLICY_TLS13_SUITES } from '../../src/lab/tls-policy.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainSubjects, run, sClient, startFidelityLab, type FidelityLab } from './fidelity-tools.js';

let pki: LabPki;
let f: FidelityLab;

beforeAll(async () => {
  pki = createLabPki('rsa');
  f = await startFidelityLab({ pki });
});
afterAll(async () => {
  await f?.close();
});

const completed = (out: string): boolean =>
  /Verify return code: 0 \(ok\)/.test(out) && /Cipher is (?!\(NONE\))/.test(out);
const alertNumber = (out: string): number | undefined => {
  const m = /SSL alert number (\d+)/.exec(out);
  return m ? Number(m[1]) : undefined;
};

describe('SNI (facts §2.2)', () => {
  it('no SNI: a certificate in DEFAULT mode (registered with its CA) completes the handshake on every port', async () => {
    for (const port of [8883, 443, 8443] as const) {
      const out = await sClient(f, port, ['-noservername']);
      expect(completed(out.all), `port ${port}`).toBe(true);
    }
  });

  it('wrong SNI, default variant: the handshake fails with alert 40 (facts §2.2: "will fail", as seen in the field)', async () => {
    const out = await sClient(f, 8883, ['-servername', 'abcdefghijklmn-ats.iot.eu-west-1.amazonaws.com']);
    expect(completed(out.all)).toBe(false);
    expect(alertNumber(out.all)).toBe(40);
  });

  it('wrong SNI, the other selectable variants (facts §2.2: reaction unconfirmed): bare close, alert 112, completes', async () => {
    const wrong = ['-servername', 'abcdefghijklmn-ats.iot.eu-west-1.amazonaws.com'];
    const close = await startFidelityLab({ pki, scenario: 'wrong-sni-close', mqtt5: 'off' });
    const unrecognized = await startFidelityLab({ pki, scenario: 'wrong-sni-unrecognized-name', mqtt5: 'off' });
    const accepted = await startFidelityLab({ pki, scenario: 'wrong-sni-default-certificate', mqtt5: 'off' });
    try {
      const closed = await sClient(close, 8883, wrong);
      expect(completed(closed.all)).toBe(false);
      expect(alertNumber(closed.all)).toBeUndefined();
      expect(alertNumber((await sClient(unrecognized, 8883, wrong)).all)).toBe(112);
      const done = await sClient(accepted, 8883, [...wrong, '-verify_hostname', 'abcdefghijklmn-ats.example.com']);
      expect(done.all).toMatch(/Cipher is /);
      expect(done.all).toMatch(/Verify return code: 62 \(hostname mismatch\)/);
    } finally {
      await Promise.all([close.close(), unrecognized.close(), accepted.close()]);
    }
  });
});

describe('TLS versions and suites of the default policy IoTSecurityPolicy_TLS13_1_2_2022_10 (facts §2.1, §2.5; field notes §3.1 column B)', () => {
  it('every TLS 1.3 suite of the policy completes', async () => {
    for (const suite of DEFAULT_POLICY_TLS13_SUITES) {
      const out = await sClient(f, 8883, ['-servername', f.lab.endpoint, '-tls1_3', '-ciphersuites', suite]);
      expect(out.all, suite).toMatch(new RegExp(`Cipher is ${suite}`));
    }
  });

  it('every TLS 1.2 suite of the policy completes: ECDHE-RSA, ECDHE-ECDSA and static-RSA AES, GCM and CBC', async () => {
    expect(DEFAULT_POLICY_TLS12_SUITES).toHaveLength(18);
    for (const suite of DEFAULT_POLICY_TLS12_SUITES) {
      const out = await sClient(f, 8883, ['-servername', f.lab.endpoint, '-tls1_2', '-cipher', `${suite}:@SECLEVEL=0`]);
      expect(out.all, suite).toMatch(new RegExp(`Cipher is ${suite}\\b`));
    }
  });

  it('TLS 1.2 suites outside the policy (CHACHA20, ARIA, CCM, DHE) are refused; so are TLS 1.1 and 1.0', async () => {
    const outside = ['ECDHE-RSA-CHACHA20-POLY1305', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-ARIA128-GCM-SHA256'];
    for (const suite of [...outside, 'ECDHE-ECDSA-AES128-CCM', 'DHE-RSA-AES256-SHA']) {
      const out = await sClient(f, 8883, ['-servername', f.lab.endpoint, '-tls1_2', '-cipher', `${suite}:@SECLEVEL=0`]);
      expect(completed(out.all), suite).toBe(false);
    }
    for (const version of ['-tls1_1', '-tls1']) {
      const out = await sClient(f, 8883, ['-servername', f.lab.endpoint, version, '-cipher', 'ALL:@SECLEVEL=0']);
      expect(completed(out.all), version).toBe(false);
    }
  });
});

describe('server chains (facts §2.3; field notes §3.3)', () => {
  it('an ECDHE-ECDSA suite gets the ECC chain, an RSA suite the RSA chain; each is four certificates', async () => {
    const args = (suite: string): string[] => [
      '-servername',
      f.lab.endpoint,
      '-tls1_2',
      '-cipher',
      suite,
      '-showcerts',
    ];
    const ec = await sClient(f, 8883, args('ECDHE-ECDSA-AES128-GCM-SHA256'));
    expect(ec.all).toMatch(/Peer signature type: ECDSA/);
    expect(chainSubjects(ec.all).slice(1)).toEqual([
      'O = iot-doctor lab, CN = Lab ECDSA 256 M01',
      'O = iot-doctor lab, CN = Lab Root CA 3',
      'O = iot-doctor lab trust services, CN = Lab Services Root Certificate Authority - G2',
    ]);
    const rsa = await sClient(f, 8883, args('ECDHE-RSA-AES128-GCM-SHA256'));
    expect(rsa.all).toMatch(/Peer signature type: RSA/);
    expect(chainSubjects(rsa.all).slice(1)).toEqual([
      'O = iot-doctor lab, CN = Lab RSA 2048 M01',
      'O = iot-doctor lab, CN = Lab Root CA 1',
      'O = iot-doctor lab trust services, CN = Lab Services Root Certificate Authority - G2',
    ]);
  });

  it('the third certificate is the root cross-signed by the services root, the fourth that root cross-signed', async () => {
    const out = await sClient(f, 443, ['-servername', f.lab.endpoint, '-alpn', 'x-amzn-mqtt-ca', '-showcerts']);
    const issuers = [...out.all.matchAll(/^ {3}i:(.*)$/gm)].map((m) => m[1]!.trim());
    expect(issuers.slice(2)).toEqual([
      'O = iot-doctor lab trust services, CN = Lab Services Root Certificate Authority - G2',
      'O = iot-doctor lab trust services, CN = Lab Class 2 Certification Authority',
    ]);
    // A client that trusts Root CA 1 itself stops there (field notes §3.3).
    expect(out.all).toMatch(/Verify return code: 0 \(ok\)/);
  });
});

describe('session resumption (facts §2.1: session tickets are not supported)', () => {
  it('a session saved from a first handshake never resumes: the second is a full handshake, TLS 1.3 and 1.2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iot-doctor-fidelity-'));
    try {
      for (const version of ['-tls1_3', '-tls1_2']) {
        const session = join(dir, `session${version}`);
        const base = [
          'openssl s_client',
          `-connect ${f.lab.bind}:${f.lab.ports.mqtt8883} -servername ${f.lab.endpoint} ${version}`,
          `-CAfile ${f.files.ca} -cert ${f.files.cert} -key ${f.files.key}`,
        ].join(' ');
        // stdin stays open a moment, so that whatever the server sends after the handshake is read and saved.
        const first = await run('sh', ['-c', `sleep 1 | ${base} -sess_out ${session}`]);
        expect(first.all, version).toMatch(/^New, /m);
        const second = await run('sh', ['-c', `sleep 1 | ${base} -sess_in ${session}`]);
        expect(second.all, version).toMatch(/^New, /m);
        expect(second.all, version).not.toMatch(/^Reused, /m);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
