/**
 * The credential provider's 403 "Access Denied" (`CREDENTIALS_ACCESS_DENIED` in a `credentials-443` protocol cell,
 * field notes §6.3): the table reads it as a certificate policy without iot:AssumeRoleWithCertificate on the alias.
 * With AWS credentials cloud.role-alias evaluates the certificate's attached policies on the alias ARN (facts §7):
 * - denied → ASSUME_ROLE_DENIED, certain, naming the policies or the Deny statement, the ARN and the statement to add;
 * - allowed → ASSUME_ROLE_DENIED is ruled out (and said so): CREDENTIALS_FORBIDDEN, the other readings as candidates
 *   (a certificate that is not ACTIVE, a policy change AWS has not applied yet: 6–8 minutes, facts §7);
 * - undecided or not asked → ASSUME_ROLE_DENIED, likely (the table alone), saying what could not be read.
 */
import type { CheckResult, Finding } from '../model/index.js';
import { finding, ids, isCode, str, type Facts } from './facts.js';

const ACTION = 'iot:AssumeRoleWithCertificate';

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function statement(arn: string): string {
  return JSON.stringify({ Effect: 'Allow', Action: ACTION, Resource: arn });
}

/** ASSUME_ROLE_DENIED, certain when cloud.role-alias's evaluation denies it, else likely. */
function denied(cells: CheckResult[], alias: string, cloud: CheckResult | undefined): Finding {
  const confirmed = cloud && isCode(cloud, 'ASSUME_ROLE_NOT_ALLOWED') ? cloud : undefined;
  const arn = str(cloud?.evidence['roleAliasArn']) ?? `arn:aws:iot:<region>:<account>:rolealias/${alias}`;
  const denyBy = strings(cloud?.evidence['deniedBy']);
  const notRead = str(cloud?.evidence['notRead']);
  const explanation =
    (cells.length
      ? 'The credential provider answered 403 "Access Denied": '
      : 'The credential provider will refuse the alias with 403 "Access Denied" (this run did not reach it): ') +
    (confirmed
      ? `the certificate's attached policies, evaluated for ${ACTION} on the alias ARN, do not allow it. AWS ` +
        `confirms it (cloud.role-alias): ${confirmed.summary}.`
      : `the reading of the error table is that no policy attached to the certificate allows ${ACTION} on ` +
        `rolealias/${alias} (a certificate that is not ACTIVE is refused the same way).` +
        (notRead ? ` Whether the policies allow it was not decided: ${notRead}.` : ''));
  return finding('ASSUME_ROLE_DENIED', {
    severity: 'error',
    confidence: confirmed ? 'certain' : 'likely',
    title: `The certificate may not assume role alias ${alias}`,
    explanation,
    remediation: denyBy.length
      ? [
          `Remove or narrow the Deny that matches ${arn} (${denyBy.join(', ')}): an explicit Deny wins over every Allow.`,
        ]
      : [`Add the statement ${statement(arn)} to a policy attached to the certificate.`],
    params: {
      roleAlias: alias,
      roleAliasArn: arn,
      status: cells[0]?.evidence['status'] ?? null,
      routes: cells.map((c) => c.route),
      ...(confirmed ? { confirmedBy: confirmed.code } : {}),
      ...(denyBy.length ? { deniedBy: denyBy } : {}),
      ...(notRead ? { notRead } : {}),
    },
    evidence: ids(confirmed ? [...cells, confirmed] : cells),
  });
}

/** The policies allow the alias: the 403 has another cause; ASSUME_ROLE_DENIED is ruled out. */
function forbidden(cells: CheckResult[], alias: string, cloud: CheckResult, facts: Facts): Finding {
  const arn = str(cloud.evidence['roleAliasArn']) ?? `rolealias/${alias}`;
  const allowedBy = strings(cloud.evidence['allowedBy']);
  const cert = facts.results.find((r) => r.id === 'cloud.certificate');
  const inactive = cert && isCode(cert, 'CERT_NOT_ACTIVE', 'CERT_NOT_REGISTERED') ? cert : undefined;
  return finding('CREDENTIALS_FORBIDDEN', {
    severity: 'error',
    confidence: inactive ? 'likely' : 'possible',
    title: 'The credential provider refuses the certificate (403 Access Denied) although its policies allow the alias',
    explanation:
      `The credential provider answered 403 "Access Denied", but ${allowedBy.join(', ') || 'a certificate policy'} ` +
      `allows ${ACTION} on ${arn} (cloud.role-alias): the policy is not the cause. ` +
      (inactive
        ? `cloud.certificate says: ${inactive.summary}; the provider refuses such a certificate the same way.`
        : 'Left: a certificate that is not ACTIVE, or a policy change AWS has not applied yet (policies are cached ' +
          'for 6–8 minutes).'),
    remediation: [
      inactive
        ? 'Activate the certificate: aws iot update-certificate --certificate-id <id> --new-status ACTIVE'
        : 'Check the certificate: aws iot describe-certificate --certificate-id <id> --query certificateDescription.status',
      'If a policy was changed in the last minutes, run again in 10 minutes.',
    ],
    params: { roleAlias: alias, roleAliasArn: arn, routes: cells.map((c) => c.route), policyAllows: true },
    evidence: ids([...cells, cloud, ...(inactive ? [inactive] : [])]),
    ruledOut: [
      {
        code: 'ASSUME_ROLE_DENIED',
        title: `The certificate may not assume role alias ${alias}`,
        ruledOutBy: `cloud.role-alias evaluates the attached policies: ${cloud.summary}`,
        evidence: [cloud.id],
      },
    ],
    candidates: [
      { code: 'CERT_NOT_ACTIVE', title: 'The certificate is not ACTIVE', decidedBy: 'cloud.certificate' },
      {
        code: 'ASSUME_ROLE_DENIED',
        title: 'A policy change not yet in effect (AWS caches policies for 6–8 minutes)',
        decidedBy: 'a run 10 minutes after the last policy change',
      },
    ],
  });
}

/** The finding for the 403 "Access Denied" cells of `credentials-443` (see the file comment); none without them. */
export function assumeRoleFindings(facts: Facts): Finding[] {
  const cells = facts.results.filter(
    (r) => r.route && r.stage === 'protocol' && isCode(r, 'CREDENTIALS_ACCESS_DENIED'),
  );
  const cloud = facts.results.find((r) => r.id === 'cloud.role-alias');
  if (cells.length === 0) {
    // No 403 seen (the route was skipped or not in the run), but AWS's side already says the alias is not allowed.
    if (!cloud || !isCode(cloud, 'ASSUME_ROLE_NOT_ALLOWED')) return [];
    return [denied([], str(cloud.evidence['roleAlias']) ?? 'the role alias', cloud)];
  }
  const alias = str(cells[0]!.evidence['roleAlias']) ?? 'the role alias';
  if (cloud && cloud.evidence['assumeRole'] === 'allowed') return [forbidden(cells, alias, cloud, facts)];
  return [denied(cells, alias, cloud)];
}
