/**
 * The `mqtt-custom-auth-443` route against the lab's custom authorizers (field notes §5): every cause from its
 * scenario, with the matrix cells, the cloud.custom-authorizer verdict (DescribeAuthorizer, TestInvokeAuthorizer) and
 * the diagnosis asserted; the token signed from a key file; MQTT 5; the token, signature and password never in any
 * output format or report.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { targetFromArgs } from '../../src/commands.js';
import { customAuthOf } from '../../src/lab/custom-auth.js';
import type { Lab } from '../../src/lab/index.js';
import type { Report } from '../../src/model/index.js';
import { FORMATS } from '../../src/report/formats.js';
import { renderReport } from '../../src/report/index.js';
import { runDoctor } from '../../src/run.js';
import { scenarioLabs } from '../helpers/cloud-run.js';

const ROUTE = 'mqtt-custom-auth-443';
const REFUSED = { alpn: 'pass ALPN_SELECTED', protocol: 'fail CUSTOM_AUTH_REFUSED', 'round-trip': 'skip SKIPPED' };
const CASES = [
  { scenario: 'custom-auth-ok', cloud: 'AUTHORIZER_AUTHENTICATES', diagnosis: null, cells: {} },
  { scenario: 'custom-auth-denied', cloud: 'AUTHORIZER_REFUSES', diagnosis: 'CUSTOM_AUTH_DENIED', cells: REFUSED },
  {
    scenario: 'custom-authorizer-not-found',
    cloud: 'AUTHORIZER_MISSING',
    diagnosis: 'CUSTOM_AUTHORIZER_NOT_FOUND',
    cells: REFUSED,
  },
  {
    scenario: 'custom-authorizer-inactive',
    cloud: 'AUTHORIZER_INACTIVE',
    diagnosis: 'CUSTOM_AUTHORIZER_INACTIVE',
    cells: REFUSED,
  },
  {
    scenario: 'custom-auth-signature-invalid',
    cloud: 'AUTHORIZER_SIGNATURE_MISMATCH',
    diagnosis: 'CUSTOM_AUTH_SIGNATURE_INVALID',
    cells: REFUSED,
  },
  {
    scenario: 'custom-auth-token-key-mismatch',
    cloud: 'AUTHORIZER_TOKEN_KEY_MISMATCH',
    diagnosis: 'CUSTOM_AUTH_TOKEN_KEY_MISMATCH',
    cells: REFUSED,
  },
  {
    scenario: 'custom-auth-policy-no-connect',
    cloud: 'AUTHORIZER_DENIES_CONNECT',
    diagnosis: 'CUSTOM_AUTH_POLICY_DENIES_CONNECT',
    cells: REFUSED,
  },
  {
    scenario: 'custom-auth-request-altered',
    cloud: 'AUTHORIZER_AUTHENTICATES',
    diagnosis: 'CUSTOM_AUTH_REQUEST_ALTERED',
    cells: REFUSED,
  },
  {
    scenario: 'custom-auth-refused-no-api',
    cloud: 'IAM_ACCESS_DENIED',
    diagnosis: 'CUSTOM_AUTH_REFUSED',
    cells: REFUSED,
  },
  {
    scenario: 'custom-auth-alpn-stripped',
    cloud: 'AUTHORIZER_AUTHENTICATES',
    diagnosis: 'ALPN_STRIPPED',
    cells: { alpn: 'fail ALPN_NOT_SELECTED', protocol: 'skip SKIPPED', 'round-trip': 'skip SKIPPED' },
  },
] as const;

const labs = scenarioLabs(
  CASES.map((c) => c.scenario),
  { tmpPrefix: 'iot-doctor-customauth-', keyId: 'AKIDCUSTOMAUTHTEST', startTimeoutMs: 90_000 },
);

type CheckArgs = Parameters<typeof targetFromArgs>[0];

async function run(lab: Lab, extra: Partial<CheckArgs> = {}): Promise<Report> {
  const files = await lab.writeFiles();
  const target = targetFromArgs({
    endpoint: lab.endpoint,
    ca: files.ca,
    'connect-to': lab.connectTo,
    region: lab.region,
    routes: [ROUTE],
    timeout: 4000,
    ...lab.scenario.checkFlags,
    ...extra,
  });
  return runDoctor({ ...target, apiEndpoint: lab.apiEndpoint });
}

function cells(report: Report): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of report.results) if (r.route === ROUTE && r.stage) out[r.stage] = `${r.status} ${r.code}`;
  return out;
}

const cloudCode = (report: Report): string | undefined =>
  report.results.find((r) => r.id === 'cloud.custom-authorizer')?.code;

describe('mqtt-custom-auth-443 against the lab custom authorizer', () => {
  for (const c of CASES) {
    it(`${c.scenario}: cloud ${c.cloud}, diagnosis ${c.diagnosis}`, async () => {
      const report = await run(labs.get(c.scenario)!);
      expect(cells(report)).toEqual({
        dns: 'pass DNS_OVERRIDE',
        tcp: 'pass TCP_OK',
        tls: 'pass TLS_OK',
        alpn: 'pass ALPN_SELECTED',
        protocol: 'pass MQTT_CONNACK_OK',
        'round-trip': 'pass MQTT_ROUND_TRIP_OK',
        ...c.cells,
      });
      expect(cloudCode(report)).toBe(c.cloud);
      if (c.diagnosis === null) {
        expect(report.diagnosis.filter((f) => f.severity === 'error' || f.severity === 'critical')).toEqual([]);
        expect(report.exitCode).toBe(0);
        return;
      }
      const top = report.diagnosis[0]!;
      expect(top.code).toBe(c.diagnosis);
      const cell = c.diagnosis === 'ALPN_STRIPPED' ? 'alpn' : 'protocol';
      expect(top.evidence).toContain(`route.${ROUTE}.${cell}`);
      expect(report.diagnosis.map((f) => f.code)).not.toContain('UNEXPLAINED_FAILURE');
      expect(report.exitCode).toBe(1);
    }, 30_000);
  }

  it('without AWS credentials a refusal keeps its candidate causes (CUSTOM_AUTH_REFUSED)', async () => {
    const report = await run(labs.get('custom-auth-denied')!, { cloud: false });
    expect(cells(report)['protocol']).toBe('fail CUSTOM_AUTH_REFUSED');
    const top = report.diagnosis[0]!;
    expect(top.code).toBe('CUSTOM_AUTH_REFUSED');
    expect(top.candidates?.map((x) => x.code)).toContain('CUSTOM_AUTH_SIGNATURE_INVALID');
  }, 30_000);

  /** What the lab's authorizers received in one run: the live CONNECT's request and TestInvokeAuthorizer's. */
  async function authorizerRequests(lab: Lab, extra: Partial<CheckArgs> = {}) {
    const store = customAuthOf(lab.registry);
    store.requests.length = 0;
    const report = await run(lab, extra);
    const plain = (via: string) => {
      const hit = store.requests.filter((r) => r.via === via);
      expect(hit, `one ${via} request`).toHaveLength(1);
      const { password, ...rest } = hit[0]!.request;
      return { ...rest, password: password?.toString('utf8') };
    };
    return { report, connect: plain('connect'), testInvoke: plain('test-invoke') };
  }

  it('cross-check: TestInvokeAuthorizer gets the token, signature, client id, SNI and password of the live CONNECT', async () => {
    // The authorizer said no: the same request reached it both ways, so the refusal is the authorizer's own.
    const lab = labs.get('custom-auth-denied')!;
    const extra = { password: 'pw-crosscheck-1', username: 'device-user' };
    const { report, connect, testInvoke } = await authorizerRequests(lab, extra);
    const protocol = report.results.find((r) => r.id === `route.${ROUTE}.protocol`)!;
    expect(connect).toEqual({
      authorizerName: lab.scenario.checkFlags?.['authorizer'],
      token: lab.customAuth!.token,
      signature: lab.customAuth!.signature,
      password: 'pw-crosscheck-1',
      clientId: protocol.evidence['clientId'],
      serverName: lab.endpoint,
    });
    expect(testInvoke).toEqual(connect);
    expect(cloudCode(report)).toBe('AUTHORIZER_REFUSES');
    expect(report.diagnosis[0]?.code).toBe('CUSTOM_AUTH_DENIED');
  }, 30_000);

  it('cross-check: when the network changed the request, TestInvokeAuthorizer still sees what the probe sent', async () => {
    const lab = labs.get('custom-auth-request-altered')!;
    const { report, connect, testInvoke } = await authorizerRequests(lab);
    // The middlebox stripped the username's query: the live request lost token, signature and authorizer name...
    expect(connect.token).toBeUndefined();
    expect(connect.signature).toBeUndefined();
    // ...while the control plane was asked with the probe's own, for the same client id and SNI.
    expect(testInvoke).toMatchObject({
      token: lab.customAuth!.token,
      signature: lab.customAuth!.signature,
      clientId: connect.clientId,
      serverName: connect.serverName,
    });
    expect(connect.serverName).toBe(lab.endpoint);
    expect(cloudCode(report)).toBe('AUTHORIZER_AUTHENTICATES');
    expect(report.diagnosis[0]?.code).toBe('CUSTOM_AUTH_REQUEST_ALTERED');
  }, 30_000);

  it('signs the token with --token-signing-key FILE (RSA-SHA256) instead of --token-signature', async () => {
    const lab = labs.get('custom-auth-ok')!;
    const dir = mkdtempSync(join(tmpdir(), 'iot-doctor-signkey-'));
    const keyFile = join(dir, 'token-signing.pem');
    writeFileSync(keyFile, lab.customAuth!.signingKeyPem, { mode: 0o600 });
    const flags = { ...lab.scenario.checkFlags };
    delete flags['token-signature'];
    const files = await lab.writeFiles();
    const target = targetFromArgs({
      endpoint: lab.endpoint,
      ca: files.ca,
      'connect-to': lab.connectTo,
      region: lab.region,
      routes: [ROUTE],
      timeout: 4000,
      ...flags,
      'token-signing-key': keyFile,
    });
    expect(target.customAuth?.signature).toBe(lab.customAuth!.signature);
    const report = await runDoctor({ ...target, apiEndpoint: lab.apiEndpoint });
    expect(cells(report)['round-trip']).toBe('pass MQTT_ROUND_TRIP_OK');
    expect(report.results.find((r) => r.id === `route.${ROUTE}.protocol`)?.evidence['signatureFrom']).toBe(
      'signing-key',
    );
  }, 30_000);

  it('MQTT 5: a refused custom authentication is a CONNACK reason code, still CUSTOM_AUTH_REFUSED', async () => {
    const report = await run(labs.get('custom-auth-denied')!, { 'mqtt-version': '5' });
    const protocol = report.results.find((r) => r.id === `route.${ROUTE}.protocol`)!;
    expect(protocol.code).toBe('CUSTOM_AUTH_REFUSED');
    expect(protocol.evidence['reasonCode']).toBe(0x86);
    expect(report.diagnosis[0]?.code).toBe('CUSTOM_AUTH_DENIED');
  }, 30_000);

  it('never shows the token, its signature or the password in any output format', async () => {
    const lab = labs.get('custom-auth-denied')!;
    const password = 'pw-Secret-4711-custom';
    const report = await run(lab, { password, username: 'device-user' });
    const d = lab.customAuth!;
    const secrets = [d.token, d.signature, encodeURIComponent(d.signature), password];
    for (const format of [...FORMATS, 'json' as const]) {
      const text = renderReport(report, format, { color: false });
      for (const s of secrets) expect(text, `${format} holds a secret`).not.toContain(s);
    }
    expect(JSON.stringify(report)).not.toContain(d.token);
    // The reproduce command names the variables a technician fills in, not their values.
    const protocol = report.results.find((r) => r.id === `route.${ROUTE}.protocol`)!;
    expect(protocol.reproduce).toContain('--tls-alpn mqtt');
    expect(protocol.reproduce).toMatch(/x-amz-customauthorizer-signature=\$SIGNATURE&x-lab-token=\$TOKEN/);
    expect(protocol.reproduce).toContain('-P "$PASSWORD"');
  }, 30_000);

  it('takes the token, signature and password from IOT_DOCTOR_* when the flags are absent; a flag wins', async () => {
    const lab = labs.get('custom-auth-ok')!;
    const flags: Partial<CheckArgs> = { ...lab.scenario.checkFlags };
    const token = String(flags.token);
    const signature = String(flags['token-signature']);
    delete flags.token;
    delete flags['token-signature'];
    const files = await lab.writeFiles();
    const base = {
      endpoint: lab.endpoint,
      ca: files.ca,
      'connect-to': lab.connectTo,
      region: lab.region,
      routes: [ROUTE],
      timeout: 4000,
      ...flags,
    };
    process.env['IOT_DOCTOR_TOKEN'] = token;
    process.env['IOT_DOCTOR_TOKEN_SIGNATURE'] = signature;
    process.env['IOT_DOCTOR_PASSWORD'] = 'pw-from-env-0815';
    try {
      const target = targetFromArgs(base);
      expect(target.customAuth).toMatchObject({ token, signature, password: 'pw-from-env-0815' });
      const report = await runDoctor({ ...target, apiEndpoint: lab.apiEndpoint });
      expect(cells(report)['round-trip']).toBe('pass MQTT_ROUND_TRIP_OK');
      expect(cloudCode(report)).toBe('AUTHORIZER_AUTHENTICATES');
      for (const format of [...FORMATS, 'json' as const]) {
        const text = renderReport(report, format, { color: false });
        for (const s of [token, signature, 'pw-from-env-0815']) expect(text, format).not.toContain(s);
      }
      // The flag wins: a wrong token in the environment does not replace the right one on the command line.
      process.env['IOT_DOCTOR_TOKEN'] = 'not-the-token';
      process.env['IOT_DOCTOR_TOKEN_SIGNATURE'] = 'QUJD';
      const flagged = targetFromArgs({ ...base, token, 'token-signature': signature, password: 'pw-flag' });
      expect(flagged.customAuth).toMatchObject({ token, signature, password: 'pw-flag' });
      // A variable alone never adds the route: a run of the default routes ignores it.
      const plain = targetFromArgs({ endpoint: lab.endpoint });
      expect(plain.routes).not.toContain(ROUTE);
      expect(plain.customAuth).toBeUndefined();
    } finally {
      delete process.env['IOT_DOCTOR_TOKEN'];
      delete process.env['IOT_DOCTOR_TOKEN_SIGNATURE'];
      delete process.env['IOT_DOCTOR_PASSWORD'];
    }
  }, 30_000);

  it('refuses inconsistent flags with one line', () => {
    const base = { endpoint: 'abc123-ats.iot.eu-west-1.amazonaws.com' };
    expect(() => targetFromArgs({ ...base, token: 't' })).toThrow(/--token needs --token-key-name/);
    expect(() => targetFromArgs({ ...base, 'token-key-name': 'k' })).toThrow(
      /give --token \(or IOT_DOCTOR_TOKEN\) too/,
    );
    expect(() =>
      targetFromArgs({
        ...base,
        token: 't',
        'token-key-name': 'k',
        'token-signature': 'QQ==',
        'token-signing-key': 'x',
      }),
    ).toThrow(/not both/);
    expect(() =>
      targetFromArgs({ ...base, token: 't', 'token-key-name': 'k', 'token-signing-key': '/nonexistent' }),
    ).toThrow(/cannot read the token signing key given with --token-signing-key \(\/nonexistent\): no such file/);
    expect(() => targetFromArgs({ ...base, routes: [ROUTE] })).toThrow(/needs --authorizer/);
    expect(targetFromArgs({ ...base, authorizer: 'a' }).routes).toContain(ROUTE);
  });
});
