/**
 * The wrong verdicts of issue 18 replayed against the lab with the built CLI: an unset clock (the CLI under
 * libfaketime at 1970), a thing name pasted as the endpoint prefix (NXDOMAIN from a real DNS server, the lab's
 * DescribeEndpoint naming the account's endpoint), every route refused, an expired server certificate, a key that is
 * not the certificate's. Each asserts the first finding's code, that the findings contradict neither each other nor
 * a cell (src/diagnose/consistency.ts), and that the first remedy fits the run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contradictions } from '../../src/diagnose/index.js';
import { createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import type { Report } from '../../src/model/index.js';
import { startDnsServer } from '../helpers/dns-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'dist/src/bin.js');
const work = mkdtempSync(join(tmpdir(), 'iot-doctor-verdicts-'));
const THING_NAME_ENDPOINT = 'MyDevices_-ats.iot.eu-west-1.amazonaws.com';

interface Running {
  lab: Lab;
  files: { ca: string; cert: string; key: string };
}
const labs = new Map<string, Running>();
let dns: Awaited<ReturnType<typeof startDnsServer>>;

beforeAll(async () => {
  const pki = createLabPki('ec');
  for (const scenario of ['healthy', 'server-cert-expired']) {
    const lab = await startLab({ pki, scenario });
    labs.set(scenario, { lab, files: await lab.writeFiles(join(work, scenario)) });
  }
  dns = await startDnsServer({ nxdomain: [THING_NAME_ENDPOINT.toLowerCase()] });
}, 60_000);

afterAll(async () => {
  await Promise.all([...labs.values()].map((r) => r.lab.close()));
  await dns?.close();
  rmSync(work, { recursive: true, force: true });
});

function running(scenario: string): Running {
  const r = labs.get(scenario);
  if (!r) throw new Error(`no lab for ${scenario}`);
  return r;
}

/** The lab's API with throw-away credentials; this machine's own AWS setup shut out. */
function cloudEnv(lab: Lab): Record<string, string> {
  const empty = join(work, 'empty');
  writeFileSync(empty, '');
  return {
    AWS_ENDPOINT_URL_IOT: lab.apiEndpoint,
    AWS_ACCESS_KEY_ID: 'AKIDIOTDOCTORLAB',
    AWS_SECRET_ACCESS_KEY: 'lab',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: empty,
    AWS_SHARED_CREDENTIALS_FILE: empty,
    NO_COLOR: '1',
  };
}

interface RunOptions {
  endpoint?: string;
  connectTo?: string[];
  key?: string;
  extra?: string[];
  /** Run the CLI under libfaketime with this start date (`faketime 'DATE' node …`). */
  fakeTime?: string;
}

/** `iot-doctor check` against a lab, JSON report on stdout; the report and the exit code. */
async function check(scenario: string, o: RunOptions = {}): Promise<{ report: Report; exitCode: number }> {
  const { lab, files } = running(scenario);
  const args = [
    bin,
    'check',
    '--endpoint',
    o.endpoint ?? lab.endpoint,
    '--cert',
    files.cert,
    '--key',
    o.key ?? files.key,
    '--ca',
    files.ca,
    '--region',
    lab.region,
    ...(o.connectTo ?? lab.connectTo).flatMap((c) => ['--connect-to', c]),
    '--routes',
    'mqtt-8883,mqtt-443,https-8443,https-443',
    '--timeout',
    '4000',
    '--format',
    'json',
    '--output',
    '',
    ...(o.extra ?? []),
  ];
  const [file, argv] = o.fakeTime ? ['faketime', [o.fakeTime, process.execPath, ...args]] : [process.execPath, args];
  const r = await execa(file, argv, { reject: false, env: cloudEnv(lab), cwd: work, timeout: 90_000 });
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return { report: JSON.parse(r.stdout) as Report, exitCode: r.exitCode ?? -1 };
}

/** The common assertions: exit 1, the first finding's code, no contradiction, and the first finding returned. */
function firstFinding(report: Report, exitCode: number, code: string): Report['diagnosis'][number] {
  expect(exitCode).toBe(1);
  const codes = report.diagnosis.map((f) => f.code);
  expect(codes[0], codes.join(', ')).toBe(code);
  expect(contradictions(report.diagnosis, report.results)).toEqual([]);
  return report.diagnosis[0]!;
}

describe('diagnosis verdicts against the lab', () => {
  it('the clock at 1970 (libfaketime): CLOCK_LOOKS_UNSET first, no re-issue advice, no interception', async () => {
    const { report, exitCode } = await check('healthy', { fakeTime: '1970-01-01 00:00:00' });
    const cert = report.results.find((r) => r.id === 'cert.validity');
    expect(cert?.evidence['clockLooksUnset']).toBe(true);
    const f = firstFinding(report, exitCode, 'CLOCK_LOOKS_UNSET');
    expect(f.confidence).toBe('certain');
    expect(f.title).toMatch(/^The clock reads 1970-01-01/);
    expect(f.remediation[0]).toMatch(/^Set the clock before connecting: enable time synchronisation \(NTP/);
    expect(f.evidence).toEqual(expect.arrayContaining(['cert.validity', 'route.mqtt-8883.tls', 'route.https-443.tls']));
    const codes = report.diagnosis.map((x) => x.code);
    for (const wrong of ['CERT_NOT_YET_VALID', 'TLS_INTERCEPTED', 'SERVER_CERT_OUT_OF_DATE', 'UNEXPLAINED_FAILURE']) {
      expect(codes).not.toContain(wrong);
    }
    expect(JSON.stringify(report.diagnosis)).not.toMatch(/clock looks right|earlier start date/);
  }, 120_000);

  it("a thing name pasted as the prefix: WRONG_ENDPOINT_NAME names the account's endpoint", async () => {
    const { lab } = running('healthy');
    const { report, exitCode } = await check('healthy', {
      endpoint: THING_NAME_ENDPOINT,
      connectTo: [],
      extra: ['--dns-server', dns.address],
    });
    expect(report.results.find((r) => r.id === 'route.mqtt-8883.dns')?.code).toBe('DNS_NXDOMAIN');
    expect(report.results.find((r) => r.id === 'cloud.endpoint')?.evidence['expected']).toBe(lab.endpoint);
    const f = firstFinding(report, exitCode, 'WRONG_ENDPOINT_NAME');
    expect(f.confidence).toBe('certain');
    expect(f.remediation[0]).toBe(`Configure the device with ${lab.endpoint}, the account's iot:Data-ATS endpoint.`);
    expect(f.evidence).toEqual(expect.arrayContaining(['cloud.endpoint', 'route.mqtt-8883.dns']));
    const codes = report.diagnosis.map((x) => x.code);
    expect(codes).not.toContain('ENDPOINT_OTHER_ACCOUNT');
    expect(codes).not.toContain('DNS_FAILURE');
    expect(JSON.stringify(report.diagnosis)).not.toMatch(/belongs to another AWS account/);
  }, 120_000);

  it('every route refused: ALL_ROUTES_BLOCKED first, and no first remedy reads "Or …"', async () => {
    const { lab } = running('healthy');
    const refused = ['8883', '443', '8443'].map((p) => `${lab.endpoint}:${p}:127.0.0.1:1`);
    const { report, exitCode } = await check('healthy', { connectTo: refused, extra: ['--no-cloud'] });
    const f = firstFinding(report, exitCode, 'ALL_ROUTES_BLOCKED');
    expect(f.remediation[0]).toMatch(/^Ask the network administrator which outbound ports are allowed/);
    const port = report.diagnosis.find((x) => x.code === 'PORT_BLOCKED');
    expect(port?.remediation[0]).toMatch(/^Ask the network administrator to allow outbound TCP 443, 8443 and 8883/);
  }, 120_000);

  it('an expired server certificate: headlined by the expiry, not as an interception', async () => {
    const { report, exitCode } = await check('server-cert-expired');
    const f = firstFinding(report, exitCode, 'SERVER_CERT_OUT_OF_DATE');
    expect(f.title).toMatch(/^The server certificate on mqtt-8883, mqtt-443, https-8443 and https-443 expired on /);
    expect(f.remediation[0]).toMatch(/^See who answers and the certificate's dates: openssl s_client -connect /);
    expect(f.candidates?.map((c) => c.code)).toEqual(['TLS_INTERCEPTED', 'CLOCK_SKEW']);
    expect(report.diagnosis.map((x) => x.code)).not.toContain('TLS_INTERCEPTED');
  }, 120_000);

  it("a key that is not the certificate's: KEY_CERT_MISMATCH cites the refused handshakes, nothing unexplained", async () => {
    const other = join(work, 'other-rsa.key');
    await execa('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', other]);
    const { report, exitCode } = await check('healthy', { key: other, extra: ['--no-cloud'] });
    const f = firstFinding(report, exitCode, 'KEY_CERT_MISMATCH');
    expect(f.remediation[0]).toMatch(/^Find the private key that was generated together with this certificate/);
    const failing = report.results.filter((r) => r.route && r.status === 'fail').map((r) => r.id);
    expect(failing.length).toBeGreaterThanOrEqual(4);
    expect(f.evidence).toEqual(expect.arrayContaining(failing));
    expect(report.diagnosis.map((x) => x.code)).not.toContain('UNEXPLAINED_FAILURE');
    expect(JSON.stringify(report)).not.toMatch(/PRIVATE KEY/);
  }, 120_000);
});
