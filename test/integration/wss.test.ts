/**
 * The `mqtt-wss-443` route (MQTT over WebSocket signed with SigV4, field notes §4) against the lab, which checks the
 * signature with its own SigV4 implementation, its clock and region, and an IAM switch: every code from its scenario,
 * with the cells and the diagnosis asserted; the secret key and the session token never in any output.
 */
import { describe, expect, it } from 'vitest';
import { targetFromArgs } from '../../src/commands.js';
import type { Lab } from '../../src/lab/index.js';
import type { Report } from '../../src/model/index.js';
import { FORMATS } from '../../src/report/formats.js';
import { renderReport } from '../../src/report/index.js';
import { runDoctor } from '../../src/run.js';
import { scenarioLabs } from '../helpers/cloud-run.js';

const ROUTE = 'mqtt-wss-443';
const OK = { upgrade: 'pass UPGRADE_OK', protocol: 'pass MQTT_CONNACK_OK', 'round-trip': 'pass MQTT_ROUND_TRIP_OK' };
const FORBIDDEN = { upgrade: 'fail UPGRADE_FORBIDDEN', protocol: 'skip SKIPPED', 'round-trip': 'skip SKIPPED' };
const CASES = [
  { scenario: 'wss-ok', cells: OK, diagnosis: null, iam: 'IAM_NOT_ASKED' },
  // IAM allows these identities: the 403 has another cause, which the upgrade cell names.
  { scenario: 'wss-clock-skew', cells: FORBIDDEN, diagnosis: 'SIGV4_CLOCK_SKEW', iam: 'IAM_ALLOWS_CONNECT' },
  { scenario: 'wss-region-mismatch', cells: FORBIDDEN, diagnosis: 'SIGV4_REGION_MISMATCH', iam: 'IAM_ALLOWS_CONNECT' },
  { scenario: 'wss-denied-upgrade', cells: FORBIDDEN, diagnosis: 'SIGV4_DENIED', iam: 'IAM_DENIES_CONNECT' },
  {
    scenario: 'wss-denied-connect',
    cells: { upgrade: 'pass UPGRADE_OK', protocol: 'fail WSS_CONNECT_REFUSED', 'round-trip': 'skip SKIPPED' },
    diagnosis: 'SIGV4_DENIED',
    iam: 'IAM_DENIES_CONNECT',
  },
  {
    scenario: 'wss-denied-no-simulate',
    cells: FORBIDDEN,
    diagnosis: 'WSS_UPGRADE_FORBIDDEN',
    iam: 'IAM_ACCESS_DENIED',
  },
] as const;

const TOKEN = 'IQoJwssSessionToken0123456789SECRET';
const labs = scenarioLabs(
  CASES.map((c) => c.scenario),
  { tmpPrefix: 'iot-doctor-wss-', keyId: 'AKIDWSSTEST' },
);

/** STS and IAM at the lab's API address (as the lab's printed check command sets them), or left unset. */
async function run(lab: Lab, iamAtLab = true): Promise<Report> {
  if (iamAtLab) {
    process.env['AWS_ENDPOINT_URL_STS'] = lab.apiEndpoint;
    process.env['AWS_ENDPOINT_URL_IAM'] = lab.apiEndpoint;
  }
  try {
    return await runOnce(lab);
  } finally {
    delete process.env['AWS_ENDPOINT_URL_STS'];
    delete process.env['AWS_ENDPOINT_URL_IAM'];
  }
}

async function runOnce(lab: Lab): Promise<Report> {
  const files = await lab.writeFiles();
  const target = targetFromArgs({
    endpoint: lab.endpoint,
    cert: files.cert,
    key: files.key,
    ca: files.ca,
    'connect-to': lab.connectTo,
    region: lab.region,
    timeout: 4000,
    ...lab.scenario.checkFlags,
    routes: [ROUTE],
  });
  return runDoctor({ ...target, apiEndpoint: lab.apiEndpoint });
}

function cells(report: Report): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of report.results) if (r.route === ROUTE && r.stage) out[r.stage] = `${r.status} ${r.code}`;
  return out;
}

describe('mqtt-wss-443 against the lab', () => {
  for (const c of CASES) {
    it(`${c.scenario}: ${c.diagnosis ?? 'healthy'}`, async () => {
      const report = await run(labs.get(c.scenario)!);
      expect(cells(report)).toEqual({ dns: 'pass DNS_OVERRIDE', tcp: 'pass TCP_OK', tls: 'pass TLS_OK', ...c.cells });
      const upgrade = report.results.find((r) => r.id === `route.${ROUTE}.upgrade`)!;
      expect(upgrade.evidence['service']).toBe('iotdevicegateway');
      // The only route of the run completed TLS: its presented chain is verified against the CA file.
      expect(report.results.find((r) => r.id === 'ca.verifies-endpoint')).toMatchObject({
        status: 'pass',
        evidence: expect.objectContaining({ route: ROUTE }),
      });
      if (c.diagnosis === null) {
        expect(report.results.find((r) => r.id === 'cloud.wss-identity')?.code).toBe(c.iam);
        expect(upgrade.evidence['subprotocol']).toBe('mqtt');
        expect(report.diagnosis.filter((f) => f.severity === 'error' || f.severity === 'critical')).toEqual([]);
        return;
      }
      const f = report.diagnosis.find((x) => x.code === c.diagnosis);
      expect(f, JSON.stringify(report.diagnosis.map((x) => x.code))).toBeDefined();
      const iam = report.results.find((r) => r.id === 'cloud.wss-identity');
      expect(iam?.code).toBe(c.iam);
      expect(iam?.evidence['callerArn']).toBe(`arn:aws:iam::${labs.get(c.scenario)!.accountId}:user/lab-user`);
      if (c.diagnosis === 'SIGV4_DENIED') {
        expect(f!.confidence).toBe('certain');
        expect(f!.evidence).toContain('cloud.wss-identity');
        expect(iam!.evidence['decision']).toBe('implicitDeny');
        expect(iam!.evidence['resource']).toMatch(/^arn:aws:iot:eu-west-1:\d{12}:client\/iot-doctor-[0-9a-f]{8}$/);
        expect(f!.remediation[0]).toContain(String(iam!.evidence['resource']));
      }
      if (c.diagnosis === 'WSS_UPGRADE_FORBIDDEN') {
        expect(iam!.evidence['permission']).toBe('iam:SimulatePrincipalPolicy');
        expect(f!.explanation).toContain('may not call iam:SimulatePrincipalPolicy');
        expect(f!.candidates?.map((x) => x.code)).toContain('SIGV4_DENIED');
      }
      expect(report.diagnosis.map((x) => x.code)).not.toContain('UNEXPLAINED_FAILURE');
      if (c.diagnosis === 'SIGV4_CLOCK_SKEW') {
        expect(Math.abs(Number(upgrade.evidence['clockOffsetSeconds']))).toBeGreaterThan(590);
        expect(upgrade.evidence['errorType']).toBe('ForbiddenException:');
      }
      if (c.diagnosis === 'SIGV4_REGION_MISMATCH') {
        expect(upgrade.evidence['signingRegion']).toBe('us-west-2');
        expect(upgrade.evidence['endpointRegion']).toBe(labs.get(c.scenario)!.region);
      }
    }, 30_000);
  }

  it('without STS/IAM endpoints beside the overridden IoT one, IAM is not asked: a 403 stays undetermined', async () => {
    const report = await run(labs.get('wss-denied-upgrade')!, false);
    expect(cells(report)['upgrade']).toBe('fail UPGRADE_FORBIDDEN');
    const iam = report.results.find((r) => r.id === 'cloud.wss-identity')!;
    expect([iam.status, iam.code]).toEqual(['skip', 'IAM_NOT_ASKED']);
    expect(iam.hint).toContain('AWS_ENDPOINT_URL_STS');
    const top = report.diagnosis[0]!;
    expect(top.code).toBe('WSS_UPGRADE_FORBIDDEN');
    expect(top.candidates?.map((x) => x.code)).toContain('SIGV4_DENIED');
  }, 30_000);

  it('an assumed-role session is simulated as its role (SimulatePrincipalPolicy takes no session ARN)', async () => {
    const lab = labs.get('wss-denied-upgrade')!;
    process.env['AWS_SESSION_TOKEN'] = TOKEN;
    try {
      const report = await run(lab);
      const iam = report.results.find((r) => r.id === 'cloud.wss-identity')!;
      expect(iam.evidence['callerArn']).toBe(
        `arn:aws:sts::${lab.accountId}:assumed-role/lab-device-role/iot-doctor-session`,
      );
      expect(iam.evidence['policySourceArn']).toBe(`arn:aws:iam::${lab.accountId}:role/lab-device-role`);
      expect(iam.code).toBe('IAM_DENIES_CONNECT');
      const f = report.diagnosis.find((x) => x.code === 'SIGV4_DENIED')!;
      expect(f.confidence).toBe('certain');
      for (const format of [...FORMATS, 'json' as const]) {
        const text = renderReport(report, format, { color: false });
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain('AKIDWSSTEST');
        expect(text).not.toContain('AROALABROLE');
      }
    } finally {
      delete process.env['AWS_SESSION_TOKEN'];
    }
  }, 30_000);

  it('signs with temporary credentials (token appended after signing) and never shows the secrets', async () => {
    const lab = labs.get('wss-ok')!;
    process.env['AWS_SESSION_TOKEN'] = TOKEN;
    try {
      const report = await run(lab);
      // The lab leaves X-Amz-Security-Token out of the canonical query (field notes §4.1): had the signer signed it
      // into the query, the signatures would differ and the upgrade would be refused.
      expect(cells(report)['upgrade']).toBe('pass UPGRADE_OK');
      const upgrade = report.results.find((r) => r.id === `route.${ROUTE}.upgrade`)!;
      expect(upgrade.evidence['temporaryCredentials']).toBe(true);
      for (const format of [...FORMATS, 'json' as const]) {
        const text = renderReport(report, format, { color: false });
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain('AKIDWSSTEST');
      }
    } finally {
      delete process.env['AWS_SESSION_TOKEN'];
    }
  }, 30_000);
});
