/**
 * iot:AssumeRoleWithCertificate on a role alias ARN, evaluated with the project's IoT policy evaluator (facts §7) and
 * read as cloud.role-alias's verdict (checks/cloud-assume-role.ts): Deny wins, wildcard resources, `${iot:…}`
 * variables in the ARN, and what stays undecided. Then the diagnosis each verdict leads to.
 */
import { describe, expect, it } from 'vitest';
import { assumeRoleFromDecision, type AssumeRoleVerdict } from '../../checks/cloud-assume-role.js';
import { diagnose } from '../../src/diagnose/index.js';
import type { CheckResult } from '../../src/model/index.js';
import { evaluate, type EvalContext, type PolicyDocumentInput } from '../../src/policy/index.js';

const ALIAS_ARN = 'arn:aws:iot:eu-west-1:123456789012:rolealias/cam-role-alias';
const ACTION = 'iot:AssumeRoleWithCertificate';

function policy(name: string, ...statements: Record<string, unknown>[]): PolicyDocumentInput {
  return { policyName: name, document: { Version: '2012-10-17', Statement: statements } };
}

function verdict(policies: PolicyDocumentInput[], ctx: EvalContext = {}, arn = ALIAS_ARN): AssumeRoleVerdict {
  return assumeRoleFromDecision(
    evaluate(policies, ACTION, arn, ctx),
    arn,
    policies.map((p) => p.policyName),
  );
}

const CONNECT_ONLY = policy('connect', {
  Effect: 'Allow',
  Action: 'iot:Connect',
  Resource: 'arn:aws:iot:eu-west-1:123456789012:client/${iot:ClientId}',
});

describe('iot:AssumeRoleWithCertificate on the role alias ARN', () => {
  it('a policy without the action denies it (implicitly), and certainly: nothing was left unresolved', () => {
    const v = verdict([CONNECT_ONLY]);
    expect(v).toMatchObject({ verdict: 'denied', decision: 'IMPLICIT_DENY', allowStatements: [] });
    expect(v.unread).toBeUndefined();
  });

  it('no policy at all denies it', () => {
    expect(verdict([])).toMatchObject({ verdict: 'denied', decision: 'IMPLICIT_DENY', policies: [] });
  });

  it('an exact Allow allows it and names the statement', () => {
    const v = verdict([
      CONNECT_ONLY,
      policy('creds', { Sid: 'Cam', Effect: 'Allow', Action: ACTION, Resource: ALIAS_ARN }),
    ]);
    expect(v).toMatchObject({
      verdict: 'allowed',
      allowStatements: [{ policyName: 'creds', statementIndex: 0, sid: 'Cam' }],
    });
  });

  it('an explicit Deny wins over every Allow, in another policy too', () => {
    const v = verdict([
      policy('broad', { Effect: 'Allow', Action: 'iot:*', Resource: '*' }),
      policy(
        'guard',
        { Effect: 'Allow', Action: 'iot:Connect', Resource: '*' },
        {
          Effect: 'Deny',
          Action: ACTION,
          Resource: 'arn:aws:iot:*:*:rolealias/cam-*',
        },
      ),
    ]);
    expect(v).toMatchObject({
      verdict: 'denied',
      decision: 'EXPLICIT_DENY',
      denyStatements: [{ policyName: 'guard', statementIndex: 1 }],
      allowStatements: [{ policyName: 'broad', statementIndex: 0 }],
    });
  });

  it('wildcards: * crosses any characters, ? is exactly one, actions match case-insensitively', () => {
    expect(
      verdict([
        policy('p', { Effect: 'Allow', Action: ACTION, Resource: 'arn:aws:iot:eu-west-1:123456789012:rolealias/*' }),
      ]).verdict,
    ).toBe('allowed');
    expect(verdict([policy('p', { Effect: 'Allow', Action: 'iot:AssumeRole*', Resource: '*' })]).verdict).toBe(
      'allowed',
    );
    expect(
      verdict([policy('p', { Effect: 'Allow', Action: 'IOT:assumerolewithcertificate', Resource: '*' })]).verdict,
    ).toBe('allowed');
    expect(
      verdict([
        policy('p', {
          Effect: 'Allow',
          Action: ACTION,
          Resource: 'arn:aws:iot:eu-west-1:123456789012:rolealias/cam-role-alia?',
        }),
      ]).verdict,
    ).toBe('allowed');
    // Another alias, another region, another account: not this one.
    for (const r of [
      'arn:aws:iot:eu-west-1:123456789012:rolealias/other',
      'arn:aws:iot:us-east-1:123456789012:rolealias/cam-role-alias',
      'arn:aws:iot:eu-west-1:999999999999:rolealias/cam-role-alias',
      'arn:aws:iot:eu-west-1:123456789012:rolealias/cam-role-alias?x',
    ]) {
      expect(verdict([policy('p', { Effect: 'Allow', Action: ACTION, Resource: r })]).verdict, r).toBe('denied');
    }
    // NotResource that excludes the alias grants nothing for it.
    expect(verdict([policy('p', { Effect: 'Allow', Action: ACTION, NotResource: ALIAS_ARN })]).verdict).toBe('denied');
  });

  it('a certificate variable in the ARN resolves from the certificate', () => {
    const p = policy('p', {
      Effect: 'Allow',
      Action: ACTION,
      Resource: 'arn:aws:iot:eu-west-1:123456789012:rolealias/${iot:Certificate.Subject.CommonName}-role-alias',
    });
    expect(verdict([p], { certificateSubject: { CommonName: 'cam' } }).verdict).toBe('allowed');
    expect(verdict([p], { certificateSubject: { CommonName: 'door' } }).verdict).toBe('denied');
  });

  it('a thing variable resolves from the attached thing named in x-amzn-iot-thingname, else stays undecided', () => {
    const p = policy('p', {
      Effect: 'Allow',
      Action: ACTION,
      Resource: 'arn:aws:iot:eu-west-1:123456789012:rolealias/${iot:Connection.Thing.ThingName}-role-alias',
    });
    expect(verdict([p], { thingName: 'cam', isAttached: true }).verdict).toBe('allowed');
    expect(verdict([p], { thingName: 'door', isAttached: true }).verdict).toBe('denied');
    const open = verdict([p], { certificateSubject: { CommonName: 'cam' } });
    expect(open).toMatchObject({ verdict: 'undecided', missingContextValues: ['iot:Connection.Thing.ThingName'] });
    expect(open.unread).toContain('iot:Connection.Thing.ThingName');
  });

  it('${iot:ClientId} never resolves on the credential provider: undecided, unless another statement decides', () => {
    const byClient = policy('p', {
      Effect: 'Allow',
      Action: ACTION,
      Resource: 'arn:aws:iot:eu-west-1:123456789012:rolealias/${iot:ClientId}',
    });
    expect(verdict([byClient]).verdict).toBe('undecided');
    expect(verdict([byClient, policy('q', { Effect: 'Allow', Action: ACTION, Resource: ALIAS_ARN })]).verdict).toBe(
      'allowed',
    );
    expect(verdict([byClient, policy('q', { Effect: 'Deny', Action: ACTION, Resource: '*' })]).verdict).toBe('denied');
  });

  it('a condition on a key the tool never receives leaves an Allow undecided', () => {
    const p = policy('p', {
      Effect: 'Allow',
      Action: ACTION,
      Resource: ALIAS_ARN,
      Condition: { StringEquals: { 'iot:DomainName': 'x.example.com' } },
    });
    expect(verdict([p])).toMatchObject({ verdict: 'undecided', decision: 'CANNOT_DECIDE' });
  });
});

/** A credential-provider 403 cell and cloud.role-alias with `evidence`. */
function run(cloud: Partial<CheckResult> | undefined): ReturnType<typeof diagnose> {
  const cell: CheckResult = {
    id: 'route.credentials-443.protocol',
    title: 'protocol',
    status: 'fail',
    code: 'CREDENTIALS_ACCESS_DENIED',
    summary: 'HTTP 403 "Access Denied"',
    evidence: { status: 403, roleAlias: 'cam-role-alias' },
    durationMs: 5,
    route: 'credentials-443',
    stage: 'protocol',
  } as CheckResult;
  const results = [cell];
  if (cloud) {
    results.push({
      id: 'cloud.role-alias',
      title: 'role alias',
      durationMs: 5,
      ...cloud,
    } as CheckResult);
  }
  return diagnose(results);
}

describe('the diagnosis of a credential-provider 403 from each verdict', () => {
  it('denied: ASSUME_ROLE_DENIED certain, with the ARN and the statement to add', () => {
    const [f] = run({
      status: 'fail',
      code: 'ASSUME_ROLE_NOT_ALLOWED',
      summary: 'the certificate may not ...',
      evidence: { roleAliasArn: ALIAS_ARN, assumeRole: 'denied' },
    });
    expect([f?.code, f?.confidence]).toEqual(['ASSUME_ROLE_DENIED', 'certain']);
    expect(f?.remediation[0]).toContain(`"Resource":"${ALIAS_ARN}"`);
    expect(f?.evidence).toContain('cloud.role-alias');
  });

  it("denied with no 403 seen (the route skipped or not run): ASSUME_ROLE_DENIED from AWS's side, nothing unexplained", () => {
    const findings = diagnose([
      {
        id: 'cloud.role-alias',
        title: 'role alias',
        durationMs: 5,
        route: null,
        stage: null,
        status: 'fail',
        code: 'ASSUME_ROLE_NOT_ALLOWED',
        summary: 'the certificate may not iot:AssumeRoleWithCertificate on the alias',
        evidence: { roleAlias: 'cam-role-alias', roleAliasArn: ALIAS_ARN, assumeRole: 'denied' },
      } as CheckResult,
    ]);
    expect(findings.map((f) => f.code)).toEqual(['ASSUME_ROLE_DENIED']);
    expect(findings[0]).toMatchObject({ confidence: 'certain', evidence: ['cloud.role-alias'] });
    expect(findings[0]!.explanation).toContain('this run did not reach it');
    expect(findings[0]!.title).toContain('cam-role-alias');
  });

  it('denied by an explicit Deny: the remedy is the Deny, not another Allow', () => {
    const [f] = run({
      status: 'fail',
      code: 'ASSUME_ROLE_NOT_ALLOWED',
      summary: 'denied',
      evidence: { roleAliasArn: ALIAS_ARN, assumeRole: 'denied', deniedBy: ['policy guard Statement[1]'] },
    });
    expect(f?.remediation[0]).toContain('policy guard Statement[1]');
    expect(f?.remediation[0]).toContain('explicit Deny wins');
  });

  it('allowed: ASSUME_ROLE_DENIED is ruled out, not diagnosed', () => {
    const findings = run({
      status: 'pass',
      code: 'ROLE_ALIAS_READY',
      summary: 'ready; policy creds Statement[0] allows it',
      evidence: { roleAliasArn: ALIAS_ARN, assumeRole: 'allowed', allowedBy: ['policy creds Statement[0]'] },
    });
    expect(findings.map((f) => f.code)).not.toContain('ASSUME_ROLE_DENIED');
    const f = findings.find((x) => x.code === 'CREDENTIALS_FORBIDDEN')!;
    expect(f.confidence).toBe('possible');
    expect(f.ruledOut?.map((r) => r.code)).toEqual(['ASSUME_ROLE_DENIED']);
    expect(f.explanation).toContain('policy creds Statement[0]');
  });

  it('undecided: ASSUME_ROLE_DENIED likely, saying what could not be read', () => {
    const [f] = run({
      status: 'warn',
      code: 'ASSUME_ROLE_UNDECIDED',
      summary: 'undecided',
      evidence: {
        roleAliasArn: ALIAS_ARN,
        assumeRole: 'undecided',
        notRead: 'the policy documents were not read (iot:GetPolicy: AccessDeniedException)',
      },
    });
    expect([f?.code, f?.confidence]).toEqual(['ASSUME_ROLE_DENIED', 'likely']);
    expect(f?.explanation).toContain('was not decided: the policy documents were not read (iot:GetPolicy');
  });

  it('no cloud check: the table alone makes ASSUME_ROLE_DENIED likely', () => {
    const [f] = run(undefined);
    expect([f?.code, f?.confidence]).toEqual(['ASSUME_ROLE_DENIED', 'likely']);
  });
});
