/**
 * Credential-provider causes (`credentials-443`): the answer of `GET /role-aliases/<alias>/credentials`, classified by
 * the route per the error table of field notes §6.3, named as a root cause with what to change (field notes §6.2). With
 * AWS credentials, cloud.role-alias (DescribeRoleAlias, IAM GetRole) confirms the alias, role, trust and duration
 * causes: the finding then cites it and quotes what AWS holds. The 403 "Access Denied" (ASSUME_ROLE_DENIED, or ruled
 * out by the certificate's policies) is assume-role.ts.
 */
import type { RouteCode } from '../../checks/route-codes.js';
import type { Finding } from '../model/index.js';
import type { DiagnosisCode, ResultCode } from './codes.js';
import { assumeRoleFindings } from './assume-role.js';
import { finding, ids, isCode, str, type Facts } from './facts.js';

interface Rule {
  code: DiagnosisCode;
  routeCode: RouteCode;
  /** cloud.role-alias codes that confirm the cause from AWS's side (DescribeRoleAlias, IAM GetRole). */
  confirmedBy?: readonly ResultCode[];
  title: (alias: string, thing: string) => string;
  explanation: (alias: string, thing: string) => string;
  remediation: (alias: string, thing: string) => string[];
}

const RULES: readonly Rule[] = [
  {
    code: 'ROLE_ALIAS_NOT_FOUND',
    routeCode: 'CREDENTIALS_ROLE_ALIAS_NOT_FOUND',
    confirmedBy: ['ROLE_ALIAS_MISSING'],
    title: (a) => `Role alias ${a} does not exist`,
    explanation: (a) =>
      `The credential provider answered 404 "Role alias does not exist" for ${a}: role aliases are per account and ` +
      'region, so the name is misspelt, was never created, or lives in another region.',
    remediation: (a) => [
      'List the aliases: aws iot list-role-aliases',
      `Create it, or fix the device configuration: aws iot create-role-alias --role-alias ${a} --role-arn <role ARN>`,
    ],
  },
  {
    code: 'CREDENTIALS_THING_NAME_INVALID',
    routeCode: 'CREDENTIALS_THING_NAME_INVALID',
    title: (_a, t) => `The thing name ${t} is refused by the credential provider`,
    explanation: (_a, t) =>
      `The credential provider answered 403 "Invalid thing name passed": the x-amzn-iot-thingname header names ${t}, ` +
      'which does not exist or is not attached to this certificate.',
    remediation: (_a, t) => [
      `Attach the certificate to the thing: aws iot attach-thing-principal --thing-name ${t} --principal <cert ARN>`,
      'Or send the name of the thing the certificate is attached to (aws iot list-principal-things).',
    ],
  },
  {
    code: 'ROLE_ASSUMPTION_FAILED',
    routeCode: 'CREDENTIALS_ROLE_NOT_ASSUMABLE',
    confirmedBy: ['ROLE_MISSING', 'ROLE_NOT_TRUSTING_CREDENTIALS'],
    title: (a) => `The role behind ${a} cannot be assumed`,
    explanation: () =>
      'The credential provider answered 400 "Unable to assume the role, or the role to assume does not exist": the ' +
      'role is gone, or its trust policy does not allow the principal credentials.iot.amazonaws.com.',
    remediation: (a) => [
      `See the role: aws iot describe-role-alias --role-alias ${a}, then aws iam get-role --role-name <role>`,
      'Its trust policy needs {"Effect":"Allow","Principal":{"Service":"credentials.iot.amazonaws.com"},"Action":"sts:AssumeRole"}.',
    ],
  },
  {
    code: 'ROLE_DURATION_TOO_LONG',
    routeCode: 'CREDENTIALS_DURATION_EXCEEDS_ROLE',
    confirmedBy: ['ROLE_DURATION_ABOVE_MAX'],
    title: (a) => `Role alias ${a} asks for longer credentials than the role allows`,
    explanation: () =>
      'The credential provider answered 400: the alias credentialDurationSeconds exceeds the MaxSessionDuration set ' +
      'for the role.',
    remediation: (a) => [
      `Lower it: aws iot update-role-alias --role-alias ${a} --credential-duration-seconds 3600`,
      'Or raise the role maximum: aws iam update-role --role-name <role> --max-session-duration <seconds>',
    ],
  },
];

/** One finding per credential-provider cause seen in a `credentials-443` protocol cell (field notes §6.3). */
export function credentialProviderFindings(facts: Facts): Finding[] {
  const out: Finding[] = assumeRoleFindings(facts);
  for (const rule of RULES) {
    const cells = facts.results.filter((r) => r.route && r.stage === 'protocol' && r.code === rule.routeCode);
    const first = cells[0];
    if (!first) continue;
    const alias = str(first.evidence['roleAlias']) ?? 'the role alias';
    const thing = str(first.evidence['thingName']) ?? 'the thing';
    const cloud = facts.results.find((r) => r.id === 'cloud.role-alias');
    const confirmed = cloud && rule.confirmedBy && isCode(cloud, ...rule.confirmedBy) ? cloud : undefined;
    out.push(
      finding(rule.code, {
        severity: 'error',
        confidence: 'certain',
        title: rule.title(alias, thing),
        explanation:
          rule.explanation(alias, thing) +
          (confirmed ? ` AWS confirms it (cloud.role-alias): ${confirmed.summary}.` : ''),
        remediation: rule.remediation(alias, thing),
        params: {
          roleAlias: alias,
          status: first.evidence['status'] ?? null,
          routes: cells.map((c) => c.route),
          ...(confirmed ? { confirmedBy: confirmed.code } : {}),
        },
        evidence: ids(confirmed ? [...cells, confirmed] : cells),
      }),
    );
  }
  return out;
}
