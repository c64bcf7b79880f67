/**
 * The `credentials-443` route against the lab's credential-provider endpoint (field notes §6): every cause of the
 * error table (§6.3) from its scenario, with the matrix cells and the diagnosis asserted; the endpoint found through
 * DescribeEndpoint(iot:CredentialProvider) when not given; the returned temporary credentials never in any output.
 */
import { describe, expect, it } from 'vitest';
import { targetFromArgs } from '../../src/commands.js';
import type { Lab } from '../../src/lab/index.js';
import type { Report } from '../../src/model/index.js';
import { FORMATS } from '../../src/report/formats.js';
import { renderReport } from '../../src/report/index.js';
import { runDoctor } from '../../src/run.js';
import { scenarioLabs } from '../helpers/cloud-run.js';

/** `cloud`: cloud.role-alias (DescribeRoleAlias, IAM GetRole) with IAM at the lab's API address. */
const CASES = [
  { scenario: 'credentials-ok', code: 'CREDENTIALS_OK', diagnosis: null, cloud: 'ROLE_ALIAS_READY' },
  {
    scenario: 'role-alias-not-found',
    code: 'CREDENTIALS_ROLE_ALIAS_NOT_FOUND',
    diagnosis: 'ROLE_ALIAS_NOT_FOUND',
    cloud: 'ROLE_ALIAS_MISSING',
  },
  {
    scenario: 'assume-role-denied',
    code: 'CREDENTIALS_ACCESS_DENIED',
    diagnosis: 'ASSUME_ROLE_DENIED',
    cloud: 'ASSUME_ROLE_NOT_ALLOWED',
  },
  {
    scenario: 'role-assumption-failed',
    code: 'CREDENTIALS_ROLE_NOT_ASSUMABLE',
    diagnosis: 'ROLE_ASSUMPTION_FAILED',
    cloud: 'ROLE_NOT_TRUSTING_CREDENTIALS',
  },
  {
    scenario: 'role-duration-too-long',
    code: 'CREDENTIALS_DURATION_EXCEEDS_ROLE',
    diagnosis: 'ROLE_DURATION_TOO_LONG',
    cloud: 'ROLE_DURATION_ABOVE_MAX',
  },
  {
    scenario: 'credentials-thing-name-invalid',
    code: 'CREDENTIALS_THING_NAME_INVALID',
    diagnosis: 'CREDENTIALS_THING_NAME_INVALID',
    cloud: 'ROLE_ALIAS_READY',
  },
] as const;

const labs = scenarioLabs(
  [...CASES.map((c) => c.scenario), 'credentials-cert-inactive', 'assume-role-denied-no-policy-read'],
  {
    tmpPrefix: 'iot-doctor-credprov-',
    keyId: 'AKIDCREDPROVTEST',
  },
);

async function run(lab: Lab, extra: Record<string, string> = {}): Promise<Report> {
  const files = await lab.writeFiles();
  const target = targetFromArgs({
    endpoint: lab.endpoint,
    cert: files.cert,
    key: files.key,
    ca: files.ca,
    'connect-to': lab.connectTo,
    region: lab.region,
    routes: ['credentials-443'],
    timeout: 4000,
    ...lab.scenario.checkFlags,
    ...extra,
  });
  return runDoctor({ ...target, apiEndpoint: lab.apiEndpoint });
}

function cells(report: Report): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of report.results) if (r.route === 'credentials-443' && r.stage) out[r.stage] = `${r.status} ${r.code}`;
  return out;
}

describe('credentials-443 against the lab credential provider', () => {
  for (const c of CASES) {
    it(`${c.scenario}: protocol cell ${c.code}, cloud ${c.cloud}, diagnosis ${c.diagnosis}`, async () => {
      process.env['AWS_ENDPOINT_URL_IAM'] = labs.get(c.scenario)!.apiEndpoint;
      const report = await run(labs.get(c.scenario)!).finally(() => delete process.env['AWS_ENDPOINT_URL_IAM']);
      const cloud = report.results.find((r) => r.id === 'cloud.role-alias')!;
      expect(cloud.code, cloud.summary).toBe(c.cloud);
      const pass = c.code === 'CREDENTIALS_OK';
      expect(cells(report)).toEqual({
        dns: 'pass DNS_OVERRIDE',
        tcp: 'pass TCP_OK',
        tls: 'pass TLS_OK',
        protocol: `${pass ? 'pass' : 'fail'} ${c.code}`,
      });
      if (pass) {
        // Only the credentials route ran: the CA-file check cannot see an AWS chain, so a warning may remain.
        expect(report.diagnosis.filter((f) => f.severity === 'error' || f.severity === 'critical')).toEqual([]);
        expect(report.exitCode).toBe(0);
      } else {
        expect(report.diagnosis[0]?.code).toBe(c.diagnosis);
        expect(report.diagnosis[0]?.evidence).toContain('route.credentials-443.protocol');
        expect(report.diagnosis[0]?.confidence).toBe('certain');
        if (cloud.status === 'fail') {
          // Confirmed from AWS's side: the finding cites what DescribeRoleAlias / GetRole hold.
          expect(report.diagnosis[0]?.evidence).toContain('cloud.role-alias');
          expect(report.diagnosis[0]?.explanation).toContain(`AWS confirms it (cloud.role-alias): ${cloud.summary}`);
        }
        expect(report.diagnosis.map((f) => f.code)).not.toContain('UNEXPLAINED_FAILURE');
      }
      if (c.cloud === 'ROLE_DURATION_ABOVE_MAX') {
        expect(cloud.evidence).toMatchObject({ credentialDurationSeconds: 7200, maxSessionDuration: 3600 });
      }
    }, 30_000);
  }

  it('assume-role-denied: the attached policies are evaluated on the alias ARN and the finding names them', async () => {
    const lab = labs.get('assume-role-denied')!;
    // No IAM endpoint: the policy verdict needs only the IoT API (the certificate's policies), so it still decides.
    const report = await run(lab);
    const cloud = report.results.find((r) => r.id === 'cloud.role-alias')!;
    const arn = `arn:aws:iot:${lab.region}:${lab.registry.accountId}:rolealias/lab-device-role-alias`;
    const attached = lab.registry.listAttachedPolicies(lab.registry.listCertificates()[0]!.certificateArn);
    expect(attached.length).toBeGreaterThan(0); // a policy is attached: it lacks the action, it is not missing
    expect([cloud.status, cloud.code]).toEqual(['fail', 'ASSUME_ROLE_NOT_ALLOWED']);
    expect(cloud.evidence).toMatchObject({
      roleAliasArn: arn,
      assumeRole: 'denied',
      assumeRoleDecision: 'IMPLICIT_DENY',
      policiesEvaluated: attached.map((p) => p.policyName),
    });
    expect(cloud.summary).toContain(`no statement of ${attached.map((p) => p.policyName).join(', ')} allows it`);
    expect(cloud.reproduce).toMatch(
      /^aws iot list-attached-policies --target arn:aws:iot:eu-west-1:\d{12}:cert\/[0-9a-f]{64} /,
    );
    const f = report.diagnosis[0]!;
    expect([f.code, f.confidence]).toEqual(['ASSUME_ROLE_DENIED', 'certain']);
    expect(f.evidence).toEqual(expect.arrayContaining(['route.credentials-443.protocol', 'cloud.role-alias']));
    expect(f.explanation).toContain(`AWS confirms it (cloud.role-alias): ${cloud.summary}`);
    expect(f.explanation).toContain(arn);
    expect(f.remediation[0]).toBe(
      `Add the statement {"Effect":"Allow","Action":"iot:AssumeRoleWithCertificate","Resource":"${arn}"} to a policy attached to the certificate.`,
    );
    expect(f.params['confirmedBy']).toBe('ASSUME_ROLE_NOT_ALLOWED');
  }, 30_000);

  it('assume-role-denied without AWS credentials: the table alone makes it likely, not certain', async () => {
    const lab = labs.get('assume-role-denied')!;
    delete process.env['AWS_ACCESS_KEY_ID'];
    try {
      const report = await run(lab, { 'credentials-endpoint': lab.credentialsEndpoint });
      expect(cells(report)['protocol']).toBe('fail CREDENTIALS_ACCESS_DENIED');
      const f = report.diagnosis[0]!;
      expect([f.code, f.confidence]).toEqual(['ASSUME_ROLE_DENIED', 'likely']);
      expect(f.evidence).not.toContain('cloud.role-alias');
    } finally {
      process.env['AWS_ACCESS_KEY_ID'] = 'AKIDCREDPROVTEST';
    }
  }, 30_000);

  it('assume-role-denied-no-policy-read: not permitted to read the policies, the finding says what was not read', async () => {
    const lab = labs.get('assume-role-denied-no-policy-read')!;
    process.env['AWS_ENDPOINT_URL_IAM'] = lab.apiEndpoint;
    const report = await run(lab).finally(() => delete process.env['AWS_ENDPOINT_URL_IAM']);
    expect(cells(report)['protocol']).toBe('fail CREDENTIALS_ACCESS_DENIED');
    const cloud = report.results.find((r) => r.id === 'cloud.role-alias')!;
    // The alias and the role are fine; whether the certificate may assume the alias is open, and said so.
    expect([cloud.status, cloud.code]).toEqual(['warn', 'ASSUME_ROLE_UNDECIDED']);
    expect(cloud.evidence).toMatchObject({ assumeRole: 'undecided', permission: 'iot:GetPolicy' });
    expect(cloud.hint).toContain('Allow iot:GetPolicy');
    const f = report.diagnosis[0]!;
    expect([f.code, f.confidence]).toEqual(['ASSUME_ROLE_DENIED', 'likely']);
    expect(f.explanation).toContain(
      'Whether the policies allow it was not decided: the policy documents were not read',
    );
    expect(f.explanation).toContain('iot:GetPolicy');
    expect(report.diagnosis.map((x) => x.code)).not.toContain('UNEXPLAINED_FAILURE');
  }, 30_000);

  it('credentials-cert-inactive: a 403 whose policy allows the alias is not ASSUME_ROLE_DENIED (ruled out)', async () => {
    const lab = labs.get('credentials-cert-inactive')!;
    const report = await run(lab);
    expect(cells(report)).toEqual({
      dns: 'pass DNS_OVERRIDE',
      tcp: 'pass TCP_OK',
      tls: 'pass TLS_OK',
      protocol: 'fail CREDENTIALS_ACCESS_DENIED',
    });
    const cloud = report.results.find((r) => r.id === 'cloud.role-alias')!;
    expect(cloud.evidence).toMatchObject({ assumeRole: 'allowed', assumeRoleDecision: 'ALLOWED' });
    expect(cloud.evidence['allowedBy']).toEqual(['policy lab-credentials-policy Statement[0]']);
    const codes = report.diagnosis.map((f) => f.code);
    expect(codes).not.toContain('ASSUME_ROLE_DENIED');
    expect(codes).not.toContain('UNEXPLAINED_FAILURE');
    // The certificate's status is the cause AWS shows: certain, and it explains the 403 cell.
    expect([report.diagnosis[0]?.code, report.diagnosis[0]?.confidence]).toEqual(['CERT_NOT_ACTIVE', 'certain']);
    expect(report.diagnosis[0]?.evidence).toContain('route.credentials-443.protocol');
    const forbidden = report.diagnosis.find((f) => f.code === 'CREDENTIALS_FORBIDDEN')!;
    expect(forbidden.confidence).not.toBe('certain');
    expect(forbidden.ruledOut).toEqual([
      expect.objectContaining({ code: 'ASSUME_ROLE_DENIED', evidence: ['cloud.role-alias'] }),
    ]);
    expect(forbidden.ruledOut![0]!.ruledOutBy).toContain('lab-credentials-policy Statement[0]');
    expect(forbidden.evidence).toEqual(
      expect.arrayContaining(['route.credentials-443.protocol', 'cloud.role-alias', 'cloud.certificate']),
    );
  }, 30_000);

  it('without an IAM endpoint beside the overridden IoT one, the role is not read (nothing leaves for public IAM)', async () => {
    const report = await run(labs.get('role-assumption-failed')!);
    const cloud = report.results.find((r) => r.id === 'cloud.role-alias')!;
    expect([cloud.status, cloud.code]).toEqual(['skip', 'ROLE_NOT_READ']);
    expect(cloud.hint).toContain('AWS_ENDPOINT_URL_IAM');
    expect(report.diagnosis[0]?.code).toBe('ROLE_ASSUMPTION_FAILED');
  }, 30_000);

  it('finds the endpoint through DescribeEndpoint(iot:CredentialProvider) and names it in the TLS cell', async () => {
    const lab = labs.get('credentials-ok')!;
    const report = await run(lab);
    const tls = report.results.find((r) => r.id === 'route.credentials-443.tls')!;
    expect(tls.evidence['sni']).toBe(lab.credentialsEndpoint);
    const protocol = report.results.find((r) => r.id === 'route.credentials-443.protocol')!;
    expect(protocol.evidence['credentialsReturned']).toBe(true);
    expect(Date.parse(String(protocol.evidence['expiration']))).toBeGreaterThan(Date.now() + 3000_000);
  }, 30_000);

  it('says so when the endpoint is neither given nor discoverable (no AWS credentials)', async () => {
    const lab = labs.get('credentials-ok')!;
    delete process.env['AWS_ACCESS_KEY_ID'];
    try {
      const report = await run(lab);
      // Skipped for want of input, not a failure: nothing on the path failed, and the diagnosis has nothing unexplained.
      expect(cells(report)['dns']).toBe('skip CREDENTIALS_ENDPOINT_UNKNOWN');
      expect(report.results.find((r) => r.id === 'route.credentials-443.dns')!.summary).toContain(
        'give --credentials-endpoint',
      );
      expect(report.diagnosis.map((f) => f.code)).not.toContain('UNEXPLAINED_FAILURE');
    } finally {
      process.env['AWS_ACCESS_KEY_ID'] = 'AKIDCREDPROVTEST';
    }
  }, 30_000);

  it('never shows the temporary credentials in any output format', async () => {
    const lab = labs.get('credentials-ok')!;
    // Capture what the provider really returns, with the device's own mTLS (what the route received too).
    const { request } = await import('node:https');
    const files = await lab.writeFiles();
    const { readFileSync } = await import('node:fs');
    const port = Number(
      lab.connectTo
        .find((c) => c.startsWith(lab.credentialsEndpoint))!
        .split(':')
        .at(-1),
    );
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          servername: lab.credentialsEndpoint,
          path: '/role-aliases/lab-device-role-alias/credentials',
          cert: readFileSync(files.cert),
          key: readFileSync(files.key),
          ca: readFileSync(files.ca),
          headers: { host: lab.credentialsEndpoint },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    const creds = (JSON.parse(body) as { credentials: Record<string, string> }).credentials;
    expect(creds['sessionToken']).toBeTruthy();
    // The lab hands out fresh credentials per request: scan for the shape of every value as well as these.
    const report = await run(lab);
    for (const format of FORMATS) {
      const text = renderReport(report, format, { color: false });
      for (const secret of [creds['accessKeyId']!, creds['secretAccessKey']!, creds['sessionToken']!]) {
        expect(text).not.toContain(secret);
      }
      expect(text).not.toMatch(/ASIA[0-9A-F]{16}/);
      expect(text).not.toMatch(/IQoJb3JpZ2luX2VjE/);
      expect(text).not.toMatch(/secretAccessKey|sessionToken/);
    }
  }, 30_000);
});
