/**
 * The product's diagnosis of a wrong endpoint name under every variant of AWS's unconfirmed reaction to a wrong SNI
 * (facts §2.2): alert 40 (the lab's default), a bare close, alert 112, or a handshake that completes. The device is
 * configured with another account's endpoint name; the built CLI runs against the lab with cloud credentials.
 */
import { execa } from 'execa';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, startLab, type LabPki } from '../../src/lab/index.js';

const bin = join(fileURLToPath(new URL('../..', import.meta.url)), 'dist/src/bin.js');
const WRONG = 'abcdefghijklmn-ats.iot.eu-west-1.amazonaws.com';

interface Report {
  exitCode: number;
  diagnosis: { code: string; confidence: string }[];
}

let pki: LabPki;
beforeAll(() => {
  pki = createLabPki('ec');
});

/** Runs `check` against a lab of `scenario` with the endpoint name replaced by another account's. */
async function checkWrongName(scenario: string): Promise<Report> {
  const lab = await startLab({ pki, scenario, mqtt5: 'off' });
  try {
    const files = await lab.writeFiles();
    const connectTo = lab.connectTo.flatMap((c) => ['--connect-to', c.replace(lab.endpoint, WRONG)]);
    const args = ['check', '--endpoint', WRONG, '--cert', files.cert, '--key', files.key, '--ca', files.ca];
    const run = await execa(
      'node',
      [bin, ...args, '--region', lab.region, ...connectTo, '--format', 'json', '--output', ''],
      {
        reject: false,
        timeout: 60_000,
        env: {
          AWS_ENDPOINT_URL_IOT: lab.apiEndpoint,
          AWS_ACCESS_KEY_ID: 'AKIDLAB',
          AWS_SECRET_ACCESS_KEY: 'lab',
          NO_COLOR: '1',
        },
      },
    );
    return JSON.parse(run.stdout) as Report;
  } finally {
    await lab.close();
  }
}

const codes = (r: Report): string[] => r.diagnosis.map((d) => d.code);

describe('a wrong endpoint name under each wrong-SNI variant of the lab (facts §2.2: unconfirmed)', () => {
  for (const [scenario, what] of [
    ['healthy', 'alert 40'],
    ['wrong-sni-close', 'a bare close'],
    ['wrong-sni-unrecognized-name', 'alert 112'],
  ] as const) {
    it(`${what}: the name, likely (never certain), and the account's endpoint; not a blocked network`, async () => {
      const report = await checkWrongName(scenario);
      expect(report.exitCode).toBe(1);
      const name = report.diagnosis.find((d) => d.code === 'ENDPOINT_NAME_MISMATCH');
      expect(name?.confidence, JSON.stringify(codes(report))).toBe('likely');
      expect(codes(report)).toContain('ENDPOINT_OTHER_ACCOUNT');
      expect(codes(report)).not.toContain('ALL_ROUTES_BLOCKED');
      expect(codes(report)).not.toContain('UNEXPLAINED_FAILURE');
    });
  }

  it('a handshake that completes: the account endpoint finding says it', async () => {
    const report = await checkWrongName('wrong-sni-default-certificate');
    expect(report.exitCode).toBe(1);
    expect(codes(report)[0]).toBe('ENDPOINT_OTHER_ACCOUNT');
  });
});
