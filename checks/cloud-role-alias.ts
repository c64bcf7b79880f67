/**
 * `cloud.role-alias`: with AWS credentials and `--role-alias`, the links of field notes §6.2 the credential provider
 * needs, read from AWS in the order the provider checks them: DescribeRoleAlias (the alias exists, its ARN, role ARN
 * and credentialDurationSeconds, §6.4); the certificate's attached policies evaluated for
 * iot:AssumeRoleWithCertificate on the alias ARN (cloud-assume-role.ts, facts §7); then IAM GetRole of the role (it
 * exists, its trust policy lets credentials.iot.amazonaws.com assume it, and its MaxSessionDuration is at least the
 * alias's duration). Its verdict confirms ROLE_ALIAS_NOT_FOUND, ASSUME_ROLE_DENIED, ROLE_ASSUMPTION_FAILED and
 * ROLE_DURATION_TOO_LONG with the evidence, or rules ASSUME_ROLE_DENIED out (src/diagnose/credential-provider.ts).
 */
import type { Evidence } from '../src/model/index.js';
import { buildResult, type Outcome } from '../src/model/result.js';
import type { RoleAliasInfo, RoleInfo } from '../src/probes/iot-api.js';
import {
  allowStatementFor,
  assumeRoleVerdict,
  statementName,
  ASSUME_ROLE_ACTION,
  type AssumeRoleVerdict,
} from './cloud-assume-role.js';
import { cloudCheck, CLOUD_COMMON_CODES } from './cloud-check-util.js';
import { awsIot } from './cloud-cli-util.js';
import { failureOutcome } from './cloud-failure-util.js';
import type { DoctorCheck } from './types.js';

const META = {
  id: 'cloud.role-alias',
  title:
    'The role alias exists, the certificate may assume it, and its role can be assumed by the credential provider ' +
    'for the alias duration',
};

/** Every code cloud.role-alias reports. */
export const CLOUD_ROLE_ALIAS_CODES = [
  'ROLE_ALIAS_READY',
  'ROLE_ALIAS_MISSING',
  'ASSUME_ROLE_NOT_ALLOWED',
  'ASSUME_ROLE_UNDECIDED',
  'ROLE_MISSING',
  'ROLE_NOT_TRUSTING_CREDENTIALS',
  'ROLE_DURATION_ABOVE_MAX',
  'ROLE_NOT_READ',
  ...CLOUD_COMMON_CODES,
] as const;

/** The verdict once both the alias and its role were read. */
function roleVerdict(alias: RoleAliasInfo, role: RoleInfo, evidence: Evidence): Outcome {
  const e = {
    ...evidence,
    maxSessionDuration: role.maxSessionDuration,
    trustsCredentialProvider: role.trustsCredentialProvider,
  };
  if (!role.trustsCredentialProvider) {
    return {
      status: 'fail',
      code: 'ROLE_NOT_TRUSTING_CREDENTIALS',
      summary: `role ${alias.roleArn} does not trust credentials.iot.amazonaws.com (its trust policy)`,
      evidence: e,
      hint: 'Add {"Effect":"Allow","Principal":{"Service":"credentials.iot.amazonaws.com"},"Action":"sts:AssumeRole"} to the trust policy.',
    };
  }
  if (alias.credentialDurationSeconds > role.maxSessionDuration) {
    return {
      status: 'fail',
      code: 'ROLE_DURATION_ABOVE_MAX',
      summary: `the alias asks for ${alias.credentialDurationSeconds} s, the role allows at most ${role.maxSessionDuration} s`,
      evidence: e,
      hint: 'Lower the alias credentialDurationSeconds or raise the role MaxSessionDuration.',
    };
  }
  return {
    status: 'pass',
    code: 'ROLE_ALIAS_READY',
    summary: `role alias ${alias.roleAlias} → ${alias.roleArn} (${alias.credentialDurationSeconds} s, role maximum ${role.maxSessionDuration} s, trusts credentials.iot.amazonaws.com)`,
    evidence: e,
  };
}

/** The policy verdict as evidence (statement names, never documents). */
function policyEvidence(v: AssumeRoleVerdict): Evidence {
  return {
    roleAliasArn: v.roleAliasArn,
    assumeRole: v.verdict,
    ...(v.decision ? { assumeRoleDecision: v.decision } : {}),
    policiesEvaluated: v.policies,
    ...(v.allowStatements.length ? { allowedBy: v.allowStatements.map(statementName) } : {}),
    ...(v.denyStatements.length ? { deniedBy: v.denyStatements.map(statementName) } : {}),
    ...(v.missingContextValues.length ? { missingContextValues: v.missingContextValues } : {}),
    ...(v.unread ? { notRead: v.unread } : {}),
    ...(v.permission ? { permission: v.permission } : {}),
  };
}

/** The certificate's policies do not allow iot:AssumeRoleWithCertificate on the alias: the provider's 403. */
function policyDenied(v: AssumeRoleVerdict, evidence: Evidence): Outcome {
  const why = v.denyStatements.length
    ? `${v.denyStatements.map(statementName).join(', ')} explicitly denies it`
    : v.policies.length
      ? `no statement of ${v.policies.join(', ')} allows it`
      : 'no policy is attached to the certificate';
  return {
    status: 'fail',
    code: 'ASSUME_ROLE_NOT_ALLOWED',
    summary: `the certificate may not ${ASSUME_ROLE_ACTION} on ${v.roleAliasArn}: ${why}`,
    evidence,
    hint: v.denyStatements.length
      ? `Remove or narrow the Deny (${v.denyStatements.map(statementName).join(', ')}); an explicit Deny wins over every Allow.`
      : `Add ${allowStatementFor(v.roleAliasArn)} to a policy attached to the certificate.`,
  };
}

/** A ready alias whose policy verdict is open: a warning that says what could not be read. */
function withPolicy(o: Outcome, v: AssumeRoleVerdict): Outcome {
  if (v.verdict === 'allowed') {
    const by = v.allowStatements[0] ? statementName(v.allowStatements[0]) : 'a policy';
    return { ...o, summary: `${o.summary}; ${by} allows ${ASSUME_ROLE_ACTION} on it` };
  }
  if (o.status !== 'pass') return o;
  return {
    ...o,
    status: 'warn',
    code: 'ASSUME_ROLE_UNDECIDED',
    summary: `${o.summary}; whether the certificate may ${ASSUME_ROLE_ACTION} on it is not decided: ${v.unread ?? 'unknown'}`,
    hint: v.permission
      ? `Allow ${v.permission} for the IAM identity that runs iot-doctor so the certificate's policies can be read.`
      : `Check that a policy attached to the certificate allows ${ASSUME_ROLE_ACTION} on ${v.roleAliasArn}.`,
  };
}

/** The alias ARN: DescribeRoleAlias's, else built from the role's account and this run's region (facts §7). */
function aliasArnOf(alias: RoleAliasInfo, region: string): string {
  if (alias.roleAliasArn) return alias.roleAliasArn;
  const m = /^arn:([\w-]+):iam::(\d{12}):/.exec(alias.roleArn);
  return `arn:${m?.[1] ?? 'aws'}:iot:${region}:${m?.[2] ?? ''}:rolealias/${alias.roleAlias}`;
}

/** True when the IoT API endpoint is overridden but IAM's is not (AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL). */
function iamElsewhere(iotEndpoint: string | undefined): boolean {
  if (!iotEndpoint || process.env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'] === 'true') return false;
  return !process.env['AWS_ENDPOINT_URL_IAM'] && !process.env['AWS_ENDPOINT_URL'];
}

/** cloud.role-alias (see the file comment); in the catalogue only with `--role-alias`. */
export const cloudRoleAliasCheck: DoctorCheck = cloudCheck(META, async (ctx, started, cloud) => {
  const name = ctx.target.credentials!.roleAlias;
  const reproduce = awsIot(ctx.target, cloud.session, 'describe-role-alias', [['--role-alias', name]]);
  const described = await cloud.api.describeRoleAlias(name);
  const result = (o: Outcome) => [buildResult(META, started, o)];
  if (!described.ok) {
    if (described.kind !== 'not-found')
      return result(failureOutcome(described, 'the role alias', reproduce, ctx.target));
    const summary = `role alias ${name} does not exist in this account and region`;
    return result({ status: 'fail', code: 'ROLE_ALIAS_MISSING', summary, evidence: { roleAlias: name }, reproduce });
  }
  const alias = described.value;
  const roleName = /:role\/(?:.*\/)?([^/]+)$/.exec(alias.roleArn)?.[1] ?? '';
  const readRole = !iamElsewhere(cloud.session.endpointUrl);
  // The policies and the role are read side by side (one chain less); a denied policy decides first, as AWS does.
  const [policy, role] = await Promise.all([
    assumeRoleVerdict(ctx, cloud.api, cloud.session, aliasArnOf(alias, cloud.session.region)),
    readRole ? cloud.api.role(roleName) : undefined,
  ]);
  const evidence: Evidence = {
    roleAlias: alias.roleAlias,
    roleArn: alias.roleArn,
    credentialDurationSeconds: alias.credentialDurationSeconds,
    ...policyEvidence(policy),
  };
  if (policy.verdict === 'denied') {
    const listed = policy.certArn
      ? awsIot(ctx.target, cloud.session, 'list-attached-policies', [['--target', policy.certArn]])
      : reproduce;
    return result({ ...policyDenied(policy, evidence), reproduce: listed });
  }
  if (!role) {
    // The IoT API is overridden (the lab, a VPC endpoint) and IAM's is not: IAM may belong to another environment.
    const summary = `role alias ${name} → ${alias.roleArn}; the role was not read: the AWS IoT API endpoint is overridden and IAM's is not`;
    const hint = 'Set AWS_ENDPOINT_URL_IAM to the IAM endpoint that belongs with it.';
    return result(withPolicy({ status: 'skip', code: 'ROLE_NOT_READ', summary, evidence, hint, reproduce }, policy));
  }
  const getRole = `aws iam get-role --role-name ${roleName}`;
  if (!role.ok) {
    if (role.kind !== 'not-found')
      return result(failureOutcome(role, 'the role behind the alias', getRole, ctx.target));
    const summary = `role ${alias.roleArn} behind alias ${name} does not exist`;
    return result(withPolicy({ status: 'fail', code: 'ROLE_MISSING', summary, evidence, reproduce: getRole }, policy));
  }
  return result(withPolicy({ ...roleVerdict(alias, role.value, evidence), reproduce: getRole }, policy));
});
