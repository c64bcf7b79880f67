/**
 * Shared by the cloud checks: the run's API session, the certificate principal, the policy inventory, result
 * helpers and the `aws iot ...` reproduce commands. Derived data is memoized on the run's `IotApi`, so the checks
 * run concurrently and still make each AWS call once.
 */
import { X509Certificate } from 'node:crypto';
import { ROUTES, type CheckResult, type Evidence } from '../src/model/index.js';
import { certificateNameFields, type EvalContext } from '../src/policy/index.js';
import {
  iotApiFor,
  type ApiFailure,
  type ApiOutcome,
  type CertificateInfo,
  type CloudSession,
  type IotApi,
  type PolicyDocumentInfo,
  type PolicyRefInfo,
} from '../src/probes/iot-api.js';
import { shq } from '../src/probes/shell.js';
import type { Target } from '../src/target.js';
import { makeResult, problemsFor, type ResultFields } from './cert-util.js';
import { routeClientId } from './route-protocol.js';
import type { CheckContext, DoctorCheck } from './types.js';

export interface CloudMeta {
  id: string;
  title: string;
}

/** What the cloud checks read from the Target: `certificateId` stands in for the certificate file (`--from` a report). */
export type CloudTarget = Target & { certificateId?: string };

/** A result without its id and timing: checks with several result ids reuse one outcome. */
export type Outcome = Omit<ResultFields, 'id'>;

export function result(meta: CloudMeta, started: number, outcome: Outcome, id?: string): CheckResult {
  return makeResult(meta, started, { ...outcome, ...(id ? { id } : {}) });
}

// ---------------------------------------------------------------------------------------------------------------
// Reproduce commands
// ---------------------------------------------------------------------------------------------------------------

/** `aws iot <sub> <args> --region R [--profile P] [--endpoint-url U]`, every value shell-quoted. */
export function awsIot(target: Target, session: CloudSession | undefined, sub: string, args: (string | [string, string])[]): string {
  const parts = ['aws', 'iot', sub];
  for (const a of args) {
    if (Array.isArray(a)) parts.push(a[0], shq(a[1]));
    else parts.push(a);
  }
  const region = session?.region ?? target.region;
  if (region) parts.push('--region', shq(region));
  if (target.profile) parts.push('--profile', shq(target.profile));
  if (target.apiEndpoint) parts.push('--endpoint-url', shq(target.apiEndpoint));
  return parts.join(' ');
}

export function awsConfigureList(target: Target): string {
  return `aws configure list${target.profile ? ` --profile ${shq(target.profile)}` : ''}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Failures as results
// ---------------------------------------------------------------------------------------------------------------

const CREDENTIALS_HINT =
  'Give the cloud checks read-only AWS IoT access: `aws configure`, or `aws sso login --profile NAME` and --profile NAME, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN). ' +
  'Without access, hand the JSON report to someone who has it: they can run the cloud checks from the report (--from report.json).';

/** Why the session could not be set up, as the result of any cloud check. */
export function sessionFailureOutcome(failure: ApiFailure, target: Target, own: boolean): Outcome {
  const see = own ? '' : ' (see cloud.credentials)';
  switch (failure.kind) {
    case 'no-credentials':
      return {
        status: 'skip',
        code: 'CLOUD_NO_CREDENTIALS',
        summary: `skipped: ${failure.message}${see}`,
        evidence: { reason: failure.message, ...(target.profile ? { profile: target.profile } : {}) },
        hint: CREDENTIALS_HINT,
        reproduce: awsConfigureList(target),
      };
    case 'no-region':
      return {
        status: 'skip',
        code: 'CLOUD_NO_REGION',
        summary: `skipped: ${failure.message}${see}`,
        evidence: { reason: failure.message },
        hint: 'Pass --region (e.g. --region eu-west-1), or use the account endpoint name <prefix>-ats.iot.<region>.amazonaws.com, or set AWS_REGION.',
        reproduce: awsConfigureList(target),
      };
    case 'sdk-unavailable':
      return {
        status: 'skip',
        code: 'CLOUD_SDK_UNAVAILABLE',
        summary: `skipped: ${failure.message}${see}`,
        evidence: { reason: failure.message },
        hint: 'Reinstall iot-doctor with its dependencies (npm install): the cloud checks need @aws-sdk/client-iot.',
      };
    default:
      return failureOutcome(failure, 'the AWS session', undefined, target);
  }
}

/**
 * An API failure as an outcome: AccessDenied is a skip naming the permission; no answer is a warning; the other
 * kinds say what the service answered. `what` says what could not be checked.
 */
export function failureOutcome(failure: ApiFailure, what: string, reproduce: string | undefined, target: Target): Outcome {
  const base = { ...(reproduce ? { reproduce } : {}) };
  const evidence: Evidence = {
    operation: failure.operation,
    ...(failure.permission ? { permission: failure.permission } : {}),
    error: failure.errorName,
    message: failure.message,
    ...(failure.httpStatus ? { httpStatus: failure.httpStatus } : {}),
  };
  switch (failure.kind) {
    case 'no-credentials':
    case 'no-region':
    case 'sdk-unavailable':
      return sessionFailureOutcome(failure, target, false);
    case 'access-denied':
      return {
        ...base,
        status: 'skip',
        code: 'IAM_ACCESS_DENIED',
        summary: `skipped: these AWS credentials may not call ${failure.permission} (AccessDenied), so ${what} was not checked`,
        evidence,
        hint: `Allow ${failure.permission} for the IAM identity that runs iot-doctor (the README lists the minimal read-only policy), or run the cloud checks with credentials that have it.`,
      };
    case 'unreachable':
      return {
        ...base,
        status: 'warn',
        code: 'CLOUD_API_UNREACHABLE',
        summary: `the AWS IoT API did not answer ${failure.operation || 'the request'}: ${failure.message}; ${what} was not checked`,
        evidence: { ...evidence, timeoutMs: target.timeoutMs },
        hint: 'This machine cannot reach the AWS IoT API (iot.<region>.amazonaws.com, HTTPS 443): check the network, the proxy (HTTPS_PROXY) and the endpoint override (--api-endpoint, AWS_ENDPOINT_URL_IOT), or raise --timeout.',
      };
    case 'throttled':
      return {
        ...base,
        status: 'warn',
        code: 'CLOUD_API_THROTTLED',
        summary: `the AWS IoT API kept throttling ${failure.operation} after retries; ${what} was not checked`,
        evidence,
        hint: 'Other tools in the account are using the API quota: run the check again in a moment.',
      };
    case 'credentials-rejected':
      return {
        ...base,
        status: 'warn',
        code: 'CLOUD_CREDENTIALS_REJECTED',
        summary: `AWS rejected the credentials (${failure.errorName}); ${what} was not checked`,
        evidence,
        hint: 'The credentials are invalid or expired: refresh them (aws sso login, new session token) and check the clock of this machine.',
      };
    case 'not-found':
    case 'service-error':
    default:
      return {
        ...base,
        status: 'warn',
        code: 'CLOUD_API_ERROR',
        summary: `${failure.operation} failed: ${failure.errorName}: ${failure.message}; ${what} was not checked`,
        evidence,
      };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Session and certificate principal
// ---------------------------------------------------------------------------------------------------------------

export type Started = { ok: true; api: IotApi; session: CloudSession } | { ok: false; outcome: Outcome };

/**
 * A single-result cloud check: a deadline over all its API calls, and the common skip (no credentials, no region)
 * before `body` runs with the run's API client and session.
 */
export function cloudCheck(
  meta: CloudMeta,
  body: (ctx: CheckContext, started: number, cloud: Extract<Started, { ok: true }>) => Promise<CheckResult[]>,
): DoctorCheck {
  return {
    ...meta,
    family: 'cloud',
    run(ctx) {
      const started = performance.now();
      return withinBudget(ctx, [meta], started, async () => {
        const c = await startCloud(ctx);
        if (!c.ok) return [result(meta, started, c.outcome)];
        return body(ctx, started, c);
      });
    },
  };
}

/** A cloud check about the certificate's principal: also skips (with the reason) when the certificate is unknown. */
export function principalCheck(
  meta: CloudMeta,
  body: (ctx: CheckContext, started: number, cloud: Extract<Started, { ok: true }>, principal: Principal) => Promise<CheckResult[]>,
): DoctorCheck {
  return cloudCheck(meta, async (ctx, started, c) => {
    const p = await principalFor(ctx, c.api, c.session);
    if (!p.ok) return [result(meta, started, p.outcome)];
    return body(ctx, started, c, p.value);
  });
}

/** The run's API and session, or the skip every cloud check reports when there are no credentials / no region. */
export async function startCloud(ctx: CheckContext): Promise<Started> {
  const api = iotApiFor(ctx);
  const s = await api.session();
  if (!s.ok) return { ok: false, outcome: sessionFailureOutcome(s, ctx.target, false) };
  return { ok: true, api, session: s.value };
}

/** The AWS IoT certificate id to look up: from the certificate file, else given (`--certificate-id`, a report). */
export function certificateIdFor(ctx: CheckContext): { ok: true; id: string } | { ok: false; outcome: Outcome } {
  const fromFile = ctx.credentials.cert?.certificateId;
  const given = (ctx.target as CloudTarget).certificateId;
  const id = (fromFile ?? given)?.trim().replace(/^0x/i, '').toLowerCase();
  if (id) return { ok: true, id };
  const problem = problemsFor(ctx.credentials, 'cert').find((p) => p.status === 'fail');
  if (problem) {
    return {
      ok: false,
      outcome: {
        status: 'skip',
        code: 'BLOCKED',
        summary: `blocked by files.cert: ${problem.code}`,
        evidence: { blockedBy: 'files.cert', blockingCode: problem.code },
      },
    };
  }
  return {
    ok: false,
    outcome: {
      status: 'skip',
      code: 'INPUT_MISSING',
      summary: 'no device certificate (--cert) or certificate id (from a report) to look up',
      evidence: { missing: '--cert' },
    },
  };
}

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

export function parseCertArn(arn: string): { partition: string; region: string; accountId: string; certificateId: string } | undefined {
  const m = /^arn:([\w-]+):iot:([a-z0-9-]+):(\d{12}):cert\/([0-9a-fA-F]{64})$/.exec(arn);
  if (!m) return undefined;
  return { partition: m[1]!, region: m[2]!, accountId: m[3]!, certificateId: m[4]!.toLowerCase() };
}

/**
 * The certificate as an IAM principal (its ARN needs the account id): from DescribeCertificate, or, when that is
 * denied, from an account id the credentials already revealed.
 */
export function principalFor(ctx: CheckContext, api: IotApi, session: CloudSession): Promise<{ ok: true; value: Principal } | { ok: false; outcome: Outcome }> {
  const cid = certificateIdFor(ctx);
  if (!cid.ok) return Promise.resolve(cid);
  return api.memo(`principal:${cid.id}`, async () => {
    const dc = await api.describeCertificate(cid.id);
    if (dc.ok) {
      const parsed = parseCertArn(dc.value.certificateArn);
      const accountId = parsed?.accountId ?? api.knownAccountId(session) ?? dc.value.ownedBy ?? '';
      const region = parsed?.region ?? session.region;
      const partition = parsed?.partition ?? partitionOf(region);
      const certArn = dc.value.certificateArn || `arn:${partition}:iot:${region}:${accountId}:cert/${cid.id}`;
      return { ok: true as const, value: { certificateId: cid.id, certArn, accountId, region, partition, certificate: dc.value } };
    }
    if (dc.kind === 'not-found') {
      return {
        ok: false as const,
        outcome: {
          status: 'skip' as const,
          code: 'BLOCKED',
          summary: `blocked by cloud.certificate: CERT_NOT_REGISTERED (certificate ${cid.id} is not registered in ${session.region})`,
          evidence: { blockedBy: 'cloud.certificate', blockingCode: 'CERT_NOT_REGISTERED', certificateId: cid.id, region: session.region },
        },
      };
    }
    const accountId = api.knownAccountId(session);
    if (dc.kind === 'access-denied' && accountId) {
      const partition = partitionOf(session.region);
      return {
        ok: true as const,
        value: { certificateId: cid.id, certArn: `arn:${partition}:iot:${session.region}:${accountId}:cert/${cid.id}`, accountId, region: session.region, partition },
      };
    }
    return {
      ok: false as const,
      outcome: failureOutcome(dc, 'the certificate principal (its ARN)', awsIot(ctx.target, session, 'describe-certificate', [['--certificate-id', cid.id]]), ctx.target),
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Policies reaching the certificate
// ---------------------------------------------------------------------------------------------------------------

export interface GroupPolicy extends PolicyRefInfo {
  /** The attached thing whose groups carry the policy; it applies only when the client id equals this name. */
  thingName: string;
  /** The thing group, when ListThingGroupsForThing was allowed. */
  group?: string;
}

export interface Inventory {
  /** Attached to the certificate: apply to every connection with it. */
  direct: PolicyRefInfo[];
  /** From the thing groups of attached things. */
  viaGroups: GroupPolicy[];
  /** Things attached to the certificate; undefined when ListPrincipalThings failed. */
  things?: string[];
  thingsFailure?: ApiFailure;
  /** GetEffectivePolicies per thing failed: thing-group policies may be missing. */
  groupFailures: ApiFailure[];
  /** Documents from GetEffectivePolicies(principal, thing), per thing. */
  effectiveByThing: Map<string, PolicyDocumentInfo[]>;
  attempts: Record<string, number>;
}

const MAX_THINGS = 10;

export function countAttempts(into: Record<string, number>, ...outcomes: ApiOutcome<unknown>[]): void {
  for (const o of outcomes) {
    if (o.ok && o.attempts > 1) into[o.operation] = (into[o.operation] ?? 0) + o.attempts;
  }
}

export function inventoryFor(ctx: CheckContext, api: IotApi, session: CloudSession, principal: Principal): Promise<{ ok: true; value: Inventory } | { ok: false; outcome: Outcome }> {
  return api.memo(`inventory:${principal.certArn}`, async () => {
    const [attached, things] = await Promise.all([api.listAttachedPolicies(principal.certArn), api.listPrincipalThings(principal.certArn)]);
    if (!attached.ok) {
      return {
        ok: false as const,
        outcome: failureOutcome(attached, 'the policies attached to the certificate', awsIot(ctx.target, session, 'list-attached-policies', [['--target', principal.certArn]]), ctx.target),
      };
    }
    const inv: Inventory = { direct: attached.value, viaGroups: [], groupFailures: [], effectiveByThing: new Map(), attempts: {} };
    countAttempts(inv.attempts, attached, things);
    if (things.ok) inv.things = things.value;
    else inv.thingsFailure = things;
    const directNames = new Set(attached.value.map((p) => p.policyName));
    await Promise.all(
      (inv.things ?? []).slice(0, MAX_THINGS).map(async (thingName) => {
        const eff = await api.getEffectivePolicies(principal.certArn, thingName);
        countAttempts(inv.attempts, eff);
        if (!eff.ok) {
          inv.groupFailures.push(eff);
          return;
        }
        inv.effectiveByThing.set(thingName, eff.value);
        const fromGroups = eff.value.filter((p) => !directNames.has(p.policyName));
        if (fromGroups.length === 0) return;
        const groupOf = await groupNames(api, principal, thingName, new Set(fromGroups.map((p) => p.policyName)));
        for (const p of fromGroups) {
          const g: GroupPolicy = { policyName: p.policyName, thingName, ...(p.policyArn ? { policyArn: p.policyArn } : {}) };
          const group = groupOf.get(p.policyName);
          if (group) g.group = group;
          inv.viaGroups.push(g);
        }
      }),
    );
    return { ok: true as const, value: inv };
  });
}

/** Which thing group carries each policy (best effort: needs iot:ListThingGroupsForThing). */
async function groupNames(api: IotApi, principal: Principal, thingName: string, wanted: Set<string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const groups = await api.listThingGroupsForThing(thingName);
  if (!groups.ok) return out;
  await Promise.all(
    groups.value.map(async (g) => {
      const arn = g.groupArn ?? `arn:${principal.partition}:iot:${principal.region}:${principal.accountId}:thinggroup/${g.groupName}`;
      const attached = await api.listAttachedPolicies(arn, true);
      if (!attached.ok) return;
      for (const p of attached.value) if (wanted.has(p.policyName) && !out.has(p.policyName)) out.set(p.policyName, g.groupName);
    }),
  );
  return out;
}

/** Documents of the policies attached to the certificate: GetEffectivePolicies, else GetPolicy one by one. */
export function directDocuments(api: IotApi, principal: Principal, inv: Inventory): Promise<{ ok: true; docs: PolicyDocumentInfo[] } | { ok: false; failure: ApiFailure; permissions: string[] }> {
  return api.memo(`direct-docs:${principal.certArn}`, async () => {
    if (inv.direct.length === 0) return { ok: true as const, docs: [] };
    const wanted = inv.direct.map((p) => p.policyName);
    const found = new Map<string, PolicyDocumentInfo>();
    const permissions: string[] = [];
    const eff = await api.getEffectivePolicies(principal.certArn);
    if (eff.ok) {
      for (const p of eff.value) if (wanted.includes(p.policyName)) found.set(p.policyName, p);
    } else {
      permissions.push(eff.permission);
    }
    const missing = wanted.filter((n) => !found.has(n));
    const got = await Promise.all(missing.map((n) => api.getPolicy(n)));
    for (const g of got) {
      if (!g.ok) return { ok: false as const, failure: g, permissions: [...permissions, g.permission] };
      found.set(g.value.policyName, g.value);
    }
    return { ok: true as const, docs: wanted.map((n) => found.get(n)).filter((p): p is PolicyDocumentInfo => !!p) };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Client ids and the certificate's policy-variable context
// ---------------------------------------------------------------------------------------------------------------

/** The client ids the MQTT routes of this run really use (deduped); the Target's id when no MQTT route is selected. */
export function probeClientIds(target: Target): string[] {
  const ids = target.routes.filter((r) => ROUTES[r].protocol === 'mqtt').map((r) => routeClientId(target, ROUTES[r]));
  const unique = [...new Set(ids)];
  return unique.length > 0 ? unique : [target.clientId];
}

/** Certificate part of the policy context, from the local file or from the PEM AWS returned. */
export function certificateContext(ctx: CheckContext, principal: Principal): EvalContext {
  const out: EvalContext = { certificateId: principal.certificateId };
  let leaf: X509Certificate | undefined = ctx.credentials.cert?.leaf;
  if (!leaf && principal.certificate?.certificatePem) {
    try {
      leaf = new X509Certificate(principal.certificate.certificatePem);
    } catch {
      leaf = undefined;
    }
  }
  if (leaf) {
    out.certificateSubject = certificateNameFields(leaf.subject);
    out.certificateIssuer = certificateNameFields(leaf.issuer);
    out.extra = { 'iot:Certificate.SerialNumber': leaf.serialNumber };
  }
  return out;
}

export function iso(d: Date | undefined): string | undefined {
  return d ? d.toISOString().replace('.000Z', 'Z') : undefined;
}

/**
 * The most a cloud check may take: a slow API answering every call just before its deadline still ends here with a
 * warning, well inside the runner's guard (which would turn the check into an `error`).
 */
export function budgetMs(target: Target): number {
  return target.timeoutMs * 6;
}

export async function withinBudget(ctx: CheckContext, metas: CloudMeta[], started: number, work: () => Promise<CheckResult[]>): Promise<CheckResult[]> {
  const limit = budgetMs(ctx.target);
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<CheckResult[]>((resolve) => {
    timer = setTimeout(() => {
      resolve(
        metas.map((m) =>
          result(m, started, {
            status: 'warn',
            code: 'CLOUD_API_UNREACHABLE',
            summary: `the AWS IoT API calls of this check did not finish within ${limit} ms`,
            evidence: { budgetMs: limit, timeoutMs: ctx.target.timeoutMs },
            hint: 'The AWS IoT API answers very slowly from here: check the network and proxy, or raise --timeout.',
          }),
        ),
      );
    }, limit);
    timer.unref();
  });
  try {
    return await Promise.race([work(), overrun]);
  } finally {
    clearTimeout(timer);
  }
}
