/**
 * `cloud.role-alias`: with AWS credentials and `--role-alias`, the links of field notes §6.2 the credential provider
 * needs, read from AWS: DescribeRoleAlias (the alias exists, its role ARN and credentialDurationSeconds, §6.4), then
 * IAM GetRole of that role (it exists, its trust policy lets credentials.iot.amazonaws.com assume it, and its
 * MaxSessionDuration is at least the alias's duration). Its verdict confirms ROLE_ALIAS_NOT_FOUND,
 * ROLE_ASSUMPTION_FAILED and ROLE_DURATION_TOO_LONG with the evidence (src/diagnose/credential-provider.ts).
 */
import type { Evidence } from '../src/model/index.js';
import { buildResult, type Outcome } from '../src/model/result.js';
import type { RoleAliasInfo, RoleInfo } from '../src/probes/iot-api.js';
import { cloudCheck, CLOUD_COMMON_CODES } from './cloud-check-util.js';
import { awsIot } from './cloud-cli-util.js';
import { failureOutcome } from './cloud-failure-util.js';
import type { DoctorCheck } from './types.js';

const META = {
  id: 'cloud.role-alias',
  title: 'The role alias exists and its role can be assumed by the credential provider for the alias duration',
};

/** Every code cloud.role-alias reports. */
export const CLOUD_ROLE_ALIAS_CODES = [
  'ROLE_ALIAS_READY',
  'ROLE_ALIAS_MISSING',
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
  const evidence: Evidence = {
    roleAlias: alias.roleAlias,
    roleArn: alias.roleArn,
    credentialDurationSeconds: alias.credentialDurationSeconds,
  };
  const roleName = /:role\/(?:.*\/)?([^/]+)$/.exec(alias.roleArn)?.[1] ?? '';
  if (iamElsewhere(cloud.session.endpointUrl)) {
    // The IoT API is overridden (the lab, a VPC endpoint) and IAM's is not: IAM may belong to another environment.
    const summary = `role alias ${name} → ${alias.roleArn}; the role was not read: the AWS IoT API endpoint is overridden and IAM's is not`;
    const hint = 'Set AWS_ENDPOINT_URL_IAM to the IAM endpoint that belongs with it.';
    return result({ status: 'skip', code: 'ROLE_NOT_READ', summary, evidence, hint, reproduce });
  }
  const getRole = `aws iam get-role --role-name ${roleName}`;
  const role = await cloud.api.role(roleName);
  if (!role.ok) {
    if (role.kind !== 'not-found')
      return result(failureOutcome(role, 'the role behind the alias', getRole, ctx.target));
    const summary = `role ${alias.roleArn} behind alias ${name} does not exist`;
    return result({ status: 'fail', code: 'ROLE_MISSING', summary, evidence, reproduce: getRole });
  }
  return result({ ...roleVerdict(alias, role.value, evidence), reproduce: getRole });
});
