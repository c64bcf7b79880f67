/**
 * The device certificate as an AWS IoT principal: its certificate id (from the file, `--certificate-id` or a
 * report) and its ARN. Memoized on the run's `IotApi`.
 */
import { blockedOutcome, inputMissingOutcome, type Outcome } from '../src/model/result.js';
import type { CertificateInfo, CloudSession, IotApi } from '../src/probes/iot-api.js';
import type { Target } from '../src/target.js';
import { awsIot } from './cloud-cli-util.js';
import { failureOutcome } from './cloud-failure-util.js';
import { inventoryFor, readAheadThingGroups } from './cloud-inventory-util.js';
import { problemsFor } from './local-util.js';
import type { CheckContext } from './types.js';

/** What the cloud checks read from the Target: `certificateId` stands in for the certificate file (`--from` a report). */
export type CloudTarget = Target & { certificateId?: string };

/**
 * The certificate id (SHA-256 of the DER, 64 lowercase hex; facts §5) to look up: from the certificate file, else
 * given (`--certificate-id`, a report). Otherwise the skip outcome: BLOCKED by files.cert, or INPUT_MISSING.
 */
export function certificateIdFor(ctx: CheckContext): { ok: true; id: string } | { ok: false; outcome: Outcome } {
  const fromFile = ctx.credentials.cert?.certificateId;
  const given = (ctx.target as CloudTarget).certificateId;
  const id = (fromFile ?? given)?.trim().replace(/^0x/i, '').toLowerCase();
  if (id) return { ok: true, id };
  const problem = problemsFor(ctx.credentials, 'cert').find((p) => p.status === 'fail');
  if (problem) return { ok: false, outcome: blockedOutcome('files.cert', problem.code) };
  const summary = 'no device certificate (--cert) or certificate id (from a report) to look up';
  return { ok: false, outcome: inputMissingOutcome('--cert', summary) };
}

/** The AWS partition of a region: `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  return 'aws';
}

export interface Principal {
  certificateId: string;
  certArn: string;
  accountId: string;
  region: string;
  partition: string;
  /** DescribeCertificate's answer, when it was allowed. */
  certificate?: CertificateInfo;
}

/** `arn:<partition>:iot:<region>:<account>:cert/<64 hex>` split into its parts; undefined for any other string. */
export function parseCertArn(
  arn: string,
): { partition: string; region: string; accountId: string; certificateId: string } | undefined {
  const m = /^arn:([\w-]+):iot:([a-z0-9-]+):(\d{12}):cert\/([0-9a-fA-F]{64})$/.exec(arn);
  if (!m) return undefined;
  return { partition: m[1]!, region: m[2]!, accountId: m[3]!, certificateId: m[4]!.toLowerCase() };
}

/**
 * The certificate as an IAM principal (its ARN needs the account id): from DescribeCertificate, or, when that is
 * denied, from an account id the credentials already revealed.
 */
export function principalFor(
  ctx: CheckContext,
  api: IotApi,
  session: CloudSession,
): Promise<{ ok: true; value: Principal } | { ok: false; outcome: Outcome }> {
  const cid = certificateIdFor(ctx);
  if (!cid.ok) return Promise.resolve(cid);
  return api.memo(`principal:${cid.id}`, async () => {
    const dc = api.describeCertificate(cid.id);
    readAheadThingGroups(ctx, api);
    readAhead(ctx, api, session, cid.id);
    return principalFrom(ctx, api, session, cid.id, await dc);
  });
}

/**
 * When the account id is known before any answer (the credential chain gave it: SSO, an assumed role,
 * `AWS_ACCOUNT_ID`, `aws_account_id`, a credential process's `AccountId`), the certificate's ARN is known too
 * (`arn:<partition>:iot:<region>:<account>:cert/<id>`, facts §5): its inventory (attached policies, things, their
 * groups) is read in the same round trip as DescribeCertificate instead of after it (issue 16). Every read is
 * memoized under that ARN, so the checks use it only when DescribeCertificate returns the same ARN; otherwise they
 * make their own calls with the ARN AWS returned, and the read-ahead's answers are never used.
 */
function readAhead(ctx: CheckContext, api: IotApi, session: CloudSession, certificateId: string): void {
  const accountId = api.knownAccountId(session);
  if (!accountId) return;
  const region = session.region;
  const partition = partitionOf(region);
  const certArn = `arn:${partition}:iot:${region}:${accountId}:cert/${certificateId}`;
  void inventoryFor(ctx, api, session, { certificateId, certArn, accountId, region, partition });
}

/** The principal from DescribeCertificate's outcome, or the outcome the checks report instead. */
function principalFrom(
  ctx: CheckContext,
  api: IotApi,
  session: CloudSession,
  certificateId: string,
  dc: Awaited<ReturnType<IotApi['describeCertificate']>>,
): { ok: true; value: Principal } | { ok: false; outcome: Outcome } {
  if (dc.ok) {
    const parsed = parseCertArn(dc.value.certificateArn);
    const accountId = parsed?.accountId ?? api.knownAccountId(session) ?? dc.value.ownedBy ?? '';
    const region = parsed?.region ?? session.region;
    const partition = parsed?.partition ?? partitionOf(region);
    const certArn = dc.value.certificateArn || `arn:${partition}:iot:${region}:${accountId}:cert/${certificateId}`;
    return {
      ok: true as const,
      value: { certificateId, certArn, accountId, region, partition, certificate: dc.value },
    };
  }
  if (dc.kind === 'not-found') {
    const summary = `blocked by cloud.certificate: CERT_NOT_REGISTERED (certificate ${certificateId} is not registered in ${session.region})`;
    const extra = { certificateId, region: session.region };
    return {
      ok: false as const,
      outcome: blockedOutcome('cloud.certificate', 'CERT_NOT_REGISTERED', summary, extra),
    };
  }
  const accountId = api.knownAccountId(session);
  if (dc.kind === 'access-denied' && accountId) {
    const partition = partitionOf(session.region);
    return {
      ok: true as const,
      value: {
        certificateId,
        certArn: `arn:${partition}:iot:${session.region}:${accountId}:cert/${certificateId}`,
        accountId,
        region: session.region,
        partition,
      },
    };
  }
  return {
    ok: false as const,
    outcome: failureOutcome(
      dc,
      'the certificate principal (its ARN)',
      awsIot(ctx.target, session, 'describe-certificate', [['--certificate-id', certificateId]]),
      ctx.target,
    ),
  };
}
