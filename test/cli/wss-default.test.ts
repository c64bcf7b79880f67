/**
 * `mqtt-wss-443` by default (issue 13 "Routes"): the built CLI against the lab adds it when AWS credentials are
 * available (environment keys, a default profile in the shared files) and not without them or with `--no-cloud`;
 * credentials that do not resolve make its upgrade cell say so, never a crash. Its by-hand line (curl's upgrade to
 * the URL `iot-doctor presign` signs when the line runs) is run as printed: 101 from a healthy lab, 403 with
 * `x-amzn-ErrorType` from a denying one; no signed URL is ever inside a report.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wssSessionCommands, wssUpgradeCommand } from '../../checks/route-reproduce.js';
import { createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import { ROUTES, type Report } from '../../src/model/index.js';
import { BIN, isolatedAwsEnv, labCheckArgs, runCli } from '../helpers/cli.js';
import { targetFor } from '../helpers/servers.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-wss-default-'));
const EMPTY = join(work, 'empty');
const MTLS = ['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443'];
const labs: Record<string, { lab: Lab; files: { ca: string; cert: string; key: string } }> = {};

/** No AWS setting of this machine leaks in: shared files empty, no metadata service, every AWS_* variable unset. */
function awsEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return isolatedAwsEnv(work, EMPTY, extra);
}
const KEYS = { AWS_ACCESS_KEY_ID: 'AKIDWSSDEFAULT', AWS_SECRET_ACCESS_KEY: 'lab' };

beforeAll(async () => {
  writeFileSync(EMPTY, '');
  const pki = createLabPki('ec');
  for (const scenario of ['healthy', 'wss-denied-upgrade']) {
    const lab = await startLab({ pki, scenario, mqtt5: 'off' });
    labs[scenario] = { lab, files: await lab.writeFiles(join(work, scenario)) };
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(Object.values(labs).map((l) => l.lab.close()));
  rmSync(work, { recursive: true, force: true });
});

async function check(
  scenario: string,
  env: Record<string, string | undefined>,
  extra: string[] = [],
): Promise<{ report: Report; stdout: string; stderr: string; exitCode: number | undefined }> {
  const { lab, files } = labs[scenario]!;
  const args = labCheckArgs(lab, files, ['--region', lab.region, '--format', 'json', '--timeout', '3000', ...extra]);
  const env2 = { ...env, AWS_ENDPOINT_URL_IOT: lab.apiEndpoint, AWS_ENDPOINT_URL_STS: lab.apiEndpoint };
  const r = await runCli(args, { cwd: work, env: { ...env2, AWS_ENDPOINT_URL_IAM: lab.apiEndpoint } });
  return { report: JSON.parse(r.stdout) as Report, stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
}

const routesOf = (report: Report): string[] => [...new Set(report.results.flatMap((r) => (r.route ? [r.route] : [])))];
const wssCells = (report: Report): Record<string, string> =>
  Object.fromEntries(
    report.results.filter((r) => r.route === 'mqtt-wss-443').map((r) => [r.stage, `${r.status} ${r.code}`]),
  );

describe('mqtt-wss-443 joins a run when AWS credentials are available', () => {
  it('environment keys: five routes, the WebSocket one signed and working, HEALTHY, exit 0', async () => {
    const { report, exitCode } = await check('healthy', awsEnv(KEYS));
    expect(routesOf(report)).toEqual([...MTLS, 'mqtt-wss-443']);
    expect(wssCells(report)).toEqual({
      dns: 'pass DNS_OVERRIDE',
      tcp: 'pass TCP_OK',
      tls: 'pass TLS_OK',
      upgrade: 'pass UPGRADE_OK',
      protocol: 'pass MQTT_CONNACK_OK',
      'round-trip': 'pass MQTT_ROUND_TRIP_OK',
    });
    expect(report.diagnosis[0]).toMatchObject({ code: 'HEALTHY', params: { routes: [...MTLS, 'mqtt-wss-443'] } });
    expect(exitCode).toBe(0);
  });

  it('a default profile in the shared credentials file counts too', async () => {
    const creds = join(work, 'credentials');
    writeFileSync(creds, '[default]\naws_access_key_id = AKIDWSSFILE\naws_secret_access_key = lab\n');
    const { report } = await check('healthy', awsEnv({ AWS_SHARED_CREDENTIALS_FILE: creds }));
    expect(wssCells(report)['upgrade']).toBe('pass UPGRADE_OK');
  });

  it('no credentials, or --no-cloud: the four mTLS routes only', async () => {
    const none = await check('healthy', awsEnv());
    expect(routesOf(none.report)).toEqual(MTLS);
    expect(none.exitCode).toBe(0);
    const noCloud = await check('healthy', awsEnv(KEYS), ['--no-cloud']);
    expect(routesOf(noCloud.report)).toEqual(MTLS);
  });

  it('a profile that holds no credentials: the upgrade cell says why, the session is skipped, exit 0', async () => {
    const { report, exitCode, stderr } = await check('healthy', awsEnv({ AWS_PROFILE: 'nosuch' }));
    expect(routesOf(report)).toEqual([...MTLS, 'mqtt-wss-443']);
    const upgrade = report.results.find((r) => r.id === 'route.mqtt-wss-443.upgrade')!;
    expect(upgrade).toMatchObject({ status: 'warn', code: 'UPGRADE_NO_SIGNING_INPUT' });
    expect(upgrade.summary).toMatch(/no AWS credentials to sign the WebSocket URL with: .*profile "nosuch"/);
    expect(wssCells(report)).toMatchObject({ protocol: 'skip SKIPPED', 'round-trip': 'skip SKIPPED' });
    expect(exitCode).toBe(0);
    expect(stderr).not.toMatch(/internal error|at \S+ \(/);
  });
});

describe('the by-hand line of the WebSocket upgrade, run as printed', () => {
  /** Runs a by-hand line in sh with `iot-doctor` on the PATH (this build) and the lab's credentials. */
  async function runLine(line: string, keys: Record<string, string>): Promise<string> {
    const bin = join(work, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'iot-doctor'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
    const env = { ...awsEnv(keys), PATH: `${bin}:${process.env['PATH'] ?? ''}` };
    const r = await execa('sh', ['-c', line], { reject: false, env, timeout: 30_000, cwd: work });
    return `${r.stdout}\n${r.stderr}`;
  }

  it('a healthy lab answers 101 Switching Protocols with subprotocol mqtt', async () => {
    const { lab, files } = labs['healthy']!;
    const target = targetFor({}, { endpoint: lab.endpoint, caPath: files.ca, timeoutMs: 2000 });
    const line = wssUpgradeCommand(target, ROUTES['mqtt-wss-443']!, { address: '127.0.0.1', port: lab.ports.tls443 });
    expect(line).toMatch(/^# .*iot-doctor presign/);
    expect(line).toContain('"$(iot-doctor presign --endpoint');
    // The protocol and round-trip cells: no mosquitto line with the device certificate (it signs nothing).
    const session = wssSessionCommands(target, ROUTES['mqtt-wss-443']!, { address: '127.0.0.1', port: 1 });
    expect(session.pub).toMatch(/^# no standard command-line MQTT client signs a WebSocket URL with SigV4/);
    expect(session.pub).not.toMatch(/^mosquitto/m);
    expect(session.sub).toMatch(/^# [^\n]*$/);
    const out = await runLine(line, KEYS);
    expect(out).toMatch(/^HTTP\/1\.1 101 Switching Protocols/m);
    expect(out).toMatch(/^Sec-WebSocket-Protocol: mqtt/im);
  });

  it('a denying lab: the report carries the line, never a signed URL; it answers 403 with x-amzn-ErrorType', async () => {
    const { report, stdout } = await check('wss-denied-upgrade', awsEnv(KEYS));
    const upgrade = report.results.find((r) => r.id === 'route.mqtt-wss-443.upgrade')!;
    expect(upgrade).toMatchObject({ status: 'fail', code: 'UPGRADE_FORBIDDEN' });
    expect(stdout).not.toMatch(/X-Amz-Signature|X-Amz-Credential|AKIDWSSDEFAULT/);
    const line = upgrade.reproduce!;
    expect(line).toContain(`--connect-to ${labs['wss-denied-upgrade']!.lab.endpoint}:443:127.0.0.1:`);
    const out = await runLine(line, KEYS);
    expect(out).toMatch(/^HTTP\/1\.1 403 Forbidden/m);
    expect(out).toMatch(/^x-amzn-ErrorType: ForbiddenException:/im);
  });
});
