/**
 * Report plumbing through the built binary: several formats at once, render from a saved report, redaction,
 * site profiles, and the technician → support engineer hand-over with --from.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import type { Report } from '../../src/model/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'dist/src/bin.js');
const work = mkdtempSync(join(tmpdir(), 'iot-doctor-cli-reports-'));
const baseEnv = {
  NO_COLOR: '1',
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_PROFILE: undefined,
  AWS_CONFIG_FILE: join(work, 'no-aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-aws-credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ENDPOINT_URL_IOT: undefined,
} as Record<string, string | undefined>;

function run(args: string[], env: Record<string, string | undefined> = {}) {
  return execa('node', [bin, ...args], {
    reject: false,
    env: { ...baseEnv, ...env },
    extendEnv: true,
    cwd: work,
    timeout: 60_000,
  });
}

const pki = createLabPki('rsa');
const labs: Lab[] = [];
async function labFor(scenario: string): Promise<{ lab: Lab; args: string[] }> {
  const lab = await startLab({ scenario, pki, mqtt5: 'off' });
  labs.push(lab);
  const f = await lab.writeFiles(join(work, scenario));
  return {
    lab,
    args: [
      '--endpoint',
      lab.endpoint,
      '--cert',
      f.cert,
      '--key',
      f.key,
      '--ca',
      f.ca,
      ...lab.connectTo.flatMap((c) => ['--connect-to', c]),
    ],
  };
}

let healthy: { lab: Lab; args: string[] };
beforeAll(async () => {
  writeFileSync(join(work, 'no-aws-config'), '');
  writeFileSync(join(work, 'no-aws-credentials'), '');
  healthy = await labFor('healthy');
});
afterAll(async () => {
  await Promise.all(labs.map((l) => l.close()));
  rmSync(work, { recursive: true, force: true });
});

describe('formats', () => {
  it('--format junit,html writes every format with one timestamped name; the first goes to stdout', async () => {
    const out = join(work, 'multi');
    const r = await run(['check', ...healthy.args, '--no-cloud', '--format', 'junit,html', '--output', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^<\?xml/);
    const files = readdirSync(out).sort();
    expect(files.map((f) => f.replace(/^iot-doctor-\d{8}T\d{6}Z-\d+/, 'X'))).toEqual(['X.html', 'X.json', 'X.xml']);
    expect(
      readFileSync(
        join(
          out,
          files.find((f) => f.endsWith('.html'))!,
        ),
        'utf8',
      ),
    ).toContain('<!DOCTYPE html>');
  });

  it('render turns a saved report into any format, with the same content as a live run', async () => {
    const live = await run(['check', ...healthy.args, '--no-cloud', '--format', 'json', '--output', '']);
    const path = join(work, 'saved.json');
    writeFileSync(path, live.stdout);
    const md = await run(['render', path, '--format', 'markdown']);
    expect(md.exitCode).toBe(0);
    expect(md.stdout).toContain('| dns |');
    expect(md.stdout).toContain('HEALTHY');
    const table = await run(['render', path]);
    expect(table.stdout).toMatch(/│ round-trip\s+│ ✔ pass/);
    const json = await run(['render', path, '--format', 'json']);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(live.stdout));
  });

  it('a report piped to a slow reader arrives whole: the process waits for the pipe before it exits', async () => {
    // Larger than a pipe holds (64 KiB), to a reader that starts only after the run is over.
    const quoted = ['node', bin, 'check', ...healthy.args, '--format', 'json', '--output', '']
      .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
      .join(' ');
    const r = await execa('bash', ['-c', `set -o pipefail; ${quoted} | (sleep 2; cat)`], {
      reject: false,
      env: { ...baseEnv },
      extendEnv: true,
      cwd: work,
      timeout: 60_000,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(65_536);
    expect((JSON.parse(r.stdout) as Report).summary.fail).toBe(0);
  });

  it('render: a file that is not a report is a usage error', async () => {
    const path = join(work, 'not-a-report.json');
    writeFileSync(path, '{"hello": 1}');
    const r = await run(['render', path]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/not-a-report\.json is not an iot-doctor report/);
  });

  it('--redact hides the endpoint prefix, the account and the addresses everywhere', async () => {
    const r = await run(['check', ...healthy.args, '--no-cloud', '--format', 'json', '--output', '', '--redact']);
    expect(r.exitCode).toBe(0);
    const prefix = healthy.lab.endpoint.split('-ats')[0]!;
    expect(r.stdout).not.toContain(prefix);
    expect(r.stdout).not.toContain('127.0.0.1');
    expect(r.stdout).toContain('-ats.iot.eu-west-1.amazonaws.com');
  });
});

describe('site profiles', () => {
  it('443-only: a refused 8883 is expected there, an open 8443 is a warning (fails under --strict)', async () => {
    const { args } = await labFor('port-8883-refused');
    const r = await run([
      'check',
      ...args,
      '--no-cloud',
      '--site-profile',
      '443-only',
      '--format',
      'json',
      '--output',
      '',
    ]);
    const report = JSON.parse(r.stdout) as Report;
    const tcp8883 = report.results.find((x) => x.id === 'route.mqtt-8883.tcp')!;
    expect(tcp8883).toMatchObject({ status: 'skip', code: 'EXPECTED_BLOCKED' });
    expect(tcp8883.evidence['originalCode']).toBe('TCP_REFUSED');
    expect(report.results.find((x) => x.id === 'route.https-8443.tcp')!.code).toBe('UNEXPECTEDLY_OPEN');
    // The lab stands behind --connect-to on other ports: messages name the route's AWS port and the redirect apart.
    const open8443 = report.results.find((x) => x.id === 'route.https-8443.tcp')!;
    const labPort = String(open8443.evidence['port']);
    expect(labPort).not.toBe('8443');
    expect(open8443.evidence['routePort']).toBe(8443);
    expect(open8443.hint).toContain(`says port 8443 (redirected to 127.0.0.1:${labPort}) is blocked here`);
    expect(open8443.summary).toContain(`connected to 127.0.0.1:${labPort} (port 8443 redirected by --connect-to)`);
    expect(tcp8883.summary).toMatch(/127\.0\.0\.1:\d+ \(port 8883 redirected by --connect-to\): /);
    expect(report.target.siteProfile).toBe('443-only');
    expect(report.target).not.toHaveProperty('profile');
    expect(r.exitCode).toBe(0);
    const strict = await run([
      'check',
      ...args,
      '--no-cloud',
      '--site-profile',
      '443-only',
      '--strict',
      '--output',
      '',
    ]);
    expect(strict.exitCode).toBe(1);
    expect(strict.stdout).toContain('- expected blocked');
    expect(strict.stdout).toContain('! unexpectedly open');
  });

  it('mqtt-only probes no HTTPS route: the clock checks say so, not "no HTTPS route got an answer"', async () => {
    const r = await run([
      'check',
      ...healthy.args,
      '--no-cloud',
      '--site-profile',
      'mqtt-only',
      '--format',
      'json',
      '--output',
      '',
    ]);
    const report = JSON.parse(r.stdout) as Report;
    const skew = report.results.find((x) => x.id === 'clock.skew')!;
    expect(skew).toMatchObject({ status: 'skip', code: 'CLOCK_UNKNOWN' });
    expect(skew.summary).toMatch(/^not checked: no HTTPS route was probed in this run .*this machine's clock reads 20/);
    expect(skew.evidence['httpsRoutes']).toEqual([]);
    const byServer = report.results.find((x) => x.id === 'clock.cert-validity')!;
    expect(byServer.summary).toContain('no HTTPS route was probed');
    expect(r.stdout).not.toContain('got an answer');
    // Probed but unanswered is the other sentence, naming what was probed: https-8443 stalls in TLS here.
    const { args } = await labFor('tls-stall-8443');
    const refused = await run([
      'check',
      ...args,
      '--no-cloud',
      '--routes',
      'https-8443',
      '--timeout',
      '1500',
      '--format',
      'json',
      '--output',
      '',
    ]);
    const unanswered = (JSON.parse(refused.stdout) as Report).results.find((x) => x.id === 'clock.skew')!;
    expect(unanswered.summary).toBe(
      'no HTTPS route got an answer (probed: https-8443), so the server clock could not be read',
    );
    expect(unanswered.evidence['httpsRoutes']).toEqual(['https-8443']);
  });

  it('an older report (target.profile) reads as target.siteProfile and renders the same', async () => {
    const sample = readFileSync(join(root, 'test/fixtures/report-sample.json'), 'utf8');
    expect(sample).toContain('"siteProfile": "factory-readonly"');
    const older = join(work, 'older-report.json');
    writeFileSync(older, sample.replace('"siteProfile": "factory-readonly"', '"profile": "factory-readonly"'));
    const md = await run(['render', older, '--format', 'markdown']);
    expect(md.exitCode, md.stderr).toBe(1);
    // The golden file is the same rendering with one more newline at its end.
    expect(md.stdout.trimEnd()).toBe(readFileSync(join(root, 'test/fixtures/golden/report.md'), 'utf8').trimEnd());
    expect(md.stdout).toContain('- **Profile:** factory-readonly\n');
    const json = await run(['render', older, '--format', 'json']);
    const target = (JSON.parse(json.stdout) as Report).target;
    expect(target.siteProfile).toBe('factory-readonly');
    expect(target).not.toHaveProperty('profile');
    expect(Object.keys(target).at(-1)).toBe('siteProfile');
  });

  it('an unknown profile is a usage error', async () => {
    const r = await run(['check', ...healthy.args, '--site-profile', 'moon-base']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/moon-base/);
  });
});

/** The support engineer's `check --from path` with AWS keys against `lab`'s control plane: exit 1, the merged report. */
async function supportEngineer(path: string, lab: Lab): Promise<{ merged: Report; stdout: string }> {
  const second = await run(['check', '--from', path, '--format', 'json', '--output', ''], {
    AWS_ENDPOINT_URL_IOT: lab.apiEndpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: lab.apiEndpoint,
    AWS_ACCESS_KEY_ID: 'AKIDSUPPORT',
    AWS_SECRET_ACCESS_KEY: 'support-secret',
  });
  expect(second.exitCode, second.stderr).toBe(1);
  return { merged: JSON.parse(second.stdout) as Report, stdout: second.stdout };
}

describe('split work: --from', () => {
  it('a technician without AWS credentials, then a support engineer with them, get one merged diagnosis', async () => {
    const { lab, args } = await labFor('cert-inactive');
    const first = await run(['check', ...args, '--format', 'json', '--output', '']);
    expect(first.exitCode).toBe(1);
    const technician = JSON.parse(first.stdout) as Report;
    expect(technician.results.find((x) => x.id === 'cloud.credentials')!.code).toBe('CLOUD_NO_CREDENTIALS');
    expect(technician.diagnosis.map((f) => f.code)).toContain('AUTH_REJECTED_UNEXPLAINED');
    const path = join(work, 'technician.json');
    writeFileSync(path, first.stdout);

    const { merged, stdout } = await supportEngineer(path, lab);
    expect(merged.results.find((x) => x.id === 'cloud.certificate')).toMatchObject({
      status: 'fail',
      code: 'CERT_NOT_ACTIVE',
    });
    expect(merged.results.find((x) => x.id === 'route.mqtt-8883.protocol')!.code).toBe('MQTT_CLOSED_AFTER_CONNECT');
    expect(merged.diagnosis[0]!.code).toBe('CERT_NOT_ACTIVE');
    expect(merged.diagnosis.map((f) => f.code)).not.toContain('AUTH_REJECTED_UNEXPLAINED');
    expect(stdout).not.toContain('support-secret');
  });

  it('a role alias recorded by the technician is checked by the support engineer: cloud.role-alias confirms the 403', async () => {
    const { lab, args } = await labFor('assume-role-denied');
    const onSite = ['--role-alias', 'lab-device-role-alias', '--credentials-endpoint', lab.credentialsEndpoint];
    const first = await run(['check', ...args, ...onSite, '--no-cloud', '--format', 'json', '--output', '']);
    expect(first.exitCode, first.stderr).toBe(1);
    const technician = JSON.parse(first.stdout) as Report;
    expect(technician.target.roleAlias).toBe('lab-device-role-alias');
    expect(technician.results.find((x) => x.id === 'route.credentials-443.protocol')!.code).toBe(
      'CREDENTIALS_ACCESS_DENIED',
    );
    expect(technician.diagnosis[0]).toMatchObject({ code: 'ASSUME_ROLE_DENIED', confidence: 'likely' });
    const path = join(work, 'technician-role-alias.json');
    writeFileSync(path, first.stdout);

    const { merged } = await supportEngineer(path, lab);
    expect(merged.results.find((x) => x.id === 'cloud.role-alias')).toMatchObject({
      status: 'fail',
      code: 'ASSUME_ROLE_NOT_ALLOWED',
    });
    expect(merged.diagnosis[0]).toMatchObject({ code: 'ASSUME_ROLE_DENIED', confidence: 'certain' });
    expect(merged.diagnosis.map((f) => f.code)).not.toContain('UNEXPLAINED_FAILURE');
    expect(merged.target.roleAlias).toBe('lab-device-role-alias');
  });

  it("the support engineer's cloud.logs reads AWS's records from the technician's run on", async () => {
    const { lab, args } = await labFor('connect-denied-logged');
    const first = await run(['check', ...args, '--no-cloud', '--format', 'json', '--output', '']);
    expect(first.exitCode, first.stderr).toBe(1);
    const path = join(work, 'technician-logged.json');
    writeFileSync(path, first.stdout);
    // The support engineer comes later: the records are older than their own run (whose window opens 1 s early).
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const { merged } = await supportEngineer(path, lab);
    // Only the log explains this refusal (TestAuthorization is denied to the caller in this scenario).
    expect(merged.results.find((x) => x.id === 'cloud.logs')).toMatchObject({
      status: 'fail',
      code: 'RECORDED_FAILURES',
    });
    expect(merged.diagnosis[0]).toMatchObject({ code: 'POLICY_DENIES_CONNECT', confidence: 'certain' });
  });

  it('a report whose role alias is no role alias name is refused in one line; a different --role-alias is said', async () => {
    const { lab, args } = await labFor('assume-role-denied');
    const onSite = ['--role-alias', 'lab-device-role-alias', '--credentials-endpoint', lab.credentialsEndpoint];
    const first = await run(['check', ...args, ...onSite, '--no-cloud', '--format', 'json', '--output', '']);
    const report = JSON.parse(first.stdout) as Report;
    const env = {
      AWS_ENDPOINT_URL_IOT: lab.apiEndpoint,
      AWS_ACCESS_KEY_ID: 'AKIDSUPPORT',
      AWS_SECRET_ACCESS_KEY: 'support-secret',
    };
    const edited = join(work, 'edited-role-alias.json');
    writeFileSync(edited, JSON.stringify({ ...report, target: { ...report.target, roleAlias: '../../x\nline' } }));
    const bad = await run(['check', '--from', edited, '--format', 'json', '--output', ''], env);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(
      /^iot-doctor: the report's target\.roleAlias "\.\.\/\.\.\/x\\nline" is not a role alias name/,
    );
    const probed = join(work, 'probed-role-alias.json');
    writeFileSync(probed, first.stdout);
    const other = await run(
      ['check', '--from', probed, '--role-alias', 'other-alias', '--format', 'json', '--output', ''],
      env,
    );
    expect(other.stderr).toContain(
      "--role-alias other-alias is checked in the cloud, but the report's credentials-443 route probed lab-device-role-alias",
    );
  });
});
