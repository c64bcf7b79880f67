/**
 * The policies that reach the certificate: attached directly, and through the thing groups of its attached things.
 * Memoized on the run's `IotApi`, so concurrent cloud checks make each AWS call once.
 */
import type { Outcome } from '../src/model/result.js';
import type {
  ApiFailure,
  ApiOutcome,
  CloudSession,
  IotApi,
  PolicyDocumentInfo,
  PolicyRefInfo,
} from '../src/probes/iot-api.js';
import { isThingName } from '../src/auth-target.js';
import { awsIot } from './cloud-cli-util.js';
import { failureOutcome } from './cloud-failure-util.js';
import type { Principal } from './cloud-principal-util.js';
import type { CheckContext } from './types.js';

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
/** Thing groups read ahead per likely thing name (a guessed name must not fan out into many calls). */
const MAX_GROUPS_AHEAD = 10;

/** The subject's common name (`CN=`) of a certificate, as Node prints the subject; undefined without one. */
function commonNameOf(subject: string | undefined): string | undefined {
  return subject
    ?.split('\n')
    .find((l) => l.startsWith('CN='))
    ?.slice(3);
}

/**
 * Names the certificate's thing probably has, known before any AWS answer, most likely first: `--thing-name`, the
 * client id the user gave (thing-group policies and `iot:Connection.Thing.*` apply only when the client id equals the
 * thing name, facts §7), the certificate's subject CN (what provisioning templates commonly name the thing after).
 * Only names AWS CreateThing accepts; at most three. They are guesses: reads made with them are used only for a
 * thing ListPrincipalThings returns.
 */
export function likelyThingNames(ctx: CheckContext): string[] {
  const t = ctx.target;
  const names = [
    t.thingName,
    t.clientIdFromUser ? t.clientId : undefined,
    commonNameOf(ctx.credentials.cert?.leaf.subject),
  ];
  return [...new Set(names.filter((n): n is string => n !== undefined && isThingName(n)))].slice(0, 3);
}

/**
 * Reads ahead, for each likely thing name, what the inventory asks about a thing that needs no certificate ARN: its
 * thing groups and each group's attached policies (issue 16: with the thing known, that chain no longer waits for
 * DescribeCertificate and ListPrincipalThings). Memoized reads, the same the inventory makes: unused for a wrong guess.
 */
export function readAheadThingGroups(ctx: CheckContext, api: IotApi): void {
  for (const thingName of likelyThingNames(ctx)) {
    void api.listThingGroupsForThing(thingName).then((groups) => {
      if (!groups.ok) return;
      for (const g of groups.value.slice(0, MAX_GROUPS_AHEAD))
        if (g.groupArn) void api.listAttachedPolicies(g.groupArn, true);
    });
  }
}

/** Adds to `into` (by operation name) the attempts of each successful call that needed retries. */
export function countAttempts(into: Record<string, number>, ...outcomes: ApiOutcome<unknown>[]): void {
  for (const o of outcomes) {
    if (o.ok && o.attempts > 1) into[o.operation] = (into[o.operation] ?? 0) + o.attempts;
  }
}

/**
 * The policies reaching the certificate: ListAttachedPolicies (direct) and, for up to 10 things from
 * ListPrincipalThings, GetEffectivePolicies (thing-group policies; facts §7). Memoized per certificate ARN.
 * Fails (with the outcome to report) only when ListAttachedPolicies fails; other failures are recorded.
 */
export function inventoryFor(
  ctx: CheckContext,
  api: IotApi,
  session: CloudSession,
  principal: Principal,
): Promise<{ ok: true; value: Inventory } | { ok: false; outcome: Outcome }> {
  return api.memo(`inventory:${principal.certArn}`, async () => {
    // Read ahead in the same round trip (memoized, answer used by directDocuments): the documents of the attached
    // policies no longer wait for the list of their names (issue 16: one round trip per call on the critical path).
    void api.getEffectivePolicies(principal.certArn);
    for (const thingName of likelyThingNames(ctx)) void api.getEffectivePolicies(principal.certArn, thingName);
    const [attached, things] = await Promise.all([
      api.listAttachedPolicies(principal.certArn),
      api.listPrincipalThings(principal.certArn).then((t) => {
        // Likewise each thing's groups, read while GetEffectivePolicies says whether a group policy reaches it.
        if (t.ok) for (const thingName of t.value.slice(0, MAX_THINGS)) void api.listThingGroupsForThing(thingName);
        return t;
      }),
    ]);
    if (!attached.ok) {
      return {
        ok: false as const,
        outcome: failureOutcome(
          attached,
          'the policies attached to the certificate',
          awsIot(ctx.target, session, 'list-attached-policies', [['--target', principal.certArn]]),
          ctx.target,
        ),
      };
    }
    const inv: Inventory = {
      direct: attached.value,
      viaGroups: [],
      groupFailures: [],
      effectiveByThing: new Map(),
      attempts: {},
    };
    countAttempts(inv.attempts, attached, things);
    if (things.ok) inv.things = things.value;
    else inv.thingsFailure = things;
    const directNames = new Set(attached.value.map((p) => p.policyName));
    // Read for every thing at once, recorded in the order of the things (not of the answers): the same account gives
    // the same report whichever call answered first.
    const asked = (inv.things ?? []).slice(0, MAX_THINGS);
    const perThing = await Promise.all(asked.map((thing) => groupPoliciesOf(api, principal, thing, directNames)));
    asked.forEach((thingName, i) => {
      const read = perThing[i]!;
      countAttempts(inv.attempts, read.effective);
      if (!read.effective.ok) {
        inv.groupFailures.push(read.effective);
        return;
      }
      inv.effectiveByThing.set(thingName, read.effective.value);
      inv.viaGroups.push(...read.viaGroups);
    });
    return { ok: true as const, value: inv };
  });
}

/**
 * GetEffectivePolicies for the certificate and `thingName`, and the policies in it that reach the certificate only
 * through the thing's groups (those not in `directNames`), each with its group when ListThingGroupsForThing allows.
 */
async function groupPoliciesOf(
  api: IotApi,
  principal: Principal,
  thingName: string,
  directNames: ReadonlySet<string>,
): Promise<{ effective: ApiOutcome<PolicyDocumentInfo[]>; viaGroups: GroupPolicy[] }> {
  const effective = await api.getEffectivePolicies(principal.certArn, thingName);
  if (!effective.ok) return { effective, viaGroups: [] };
  const fromGroups = effective.value.filter((p) => !directNames.has(p.policyName));
  if (fromGroups.length === 0) return { effective, viaGroups: [] };
  const groupOf = await groupNames(api, principal, thingName, new Set(fromGroups.map((p) => p.policyName)));
  const viaGroups = fromGroups.map((p): GroupPolicy => {
    const group = groupOf.get(p.policyName);
    return {
      policyName: p.policyName,
      thingName,
      ...(p.policyArn ? { policyArn: p.policyArn } : {}),
      ...(group ? { group } : {}),
    };
  });
  return { effective, viaGroups };
}

/** Which thing group carries each policy (best effort: needs iot:ListThingGroupsForThing). */
async function groupNames(
  api: IotApi,
  principal: Principal,
  thingName: string,
  wanted: Set<string>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const groups = await api.listThingGroupsForThing(thingName);
  if (!groups.ok) return out;
  await Promise.all(
    groups.value.map(async (g) => {
      const arn =
        g.groupArn ??
        `arn:${principal.partition}:iot:${principal.region}:${principal.accountId}:thinggroup/${g.groupName}`;
      const attached = await api.listAttachedPolicies(arn, true);
      if (!attached.ok) return;
      for (const p of attached.value)
        if (wanted.has(p.policyName) && !out.has(p.policyName)) out.set(p.policyName, g.groupName);
    }),
  );
  return out;
}

/** Documents of the policies attached to the certificate: GetEffectivePolicies, else GetPolicy one by one. */
export function directDocuments(
  api: IotApi,
  principal: Principal,
  inv: Inventory,
): Promise<{ ok: true; docs: PolicyDocumentInfo[] } | { ok: false; failure: ApiFailure; permissions: string[] }> {
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
