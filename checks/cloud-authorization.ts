import { topicForClientId } from './route-protocol.js';
import type { CheckResult, Evidence } from '../src/model/index.js';
import {
  evaluate,
  parsePolicy,
  policyUsesThingVariables,
  resourceArn,
  TEST_AUTHORIZATION_ACTIONS,
  type EvalContext,
  type PolicyDocumentInput,
} from '../src/policy/index.js';
import type {
  ApiFailure,
  AuthActionType,
  AuthInfoInput,
  CloudSession,
  IotApi,
  PolicyDocumentInfo,
} from '../src/probes/iot-api.js';
import { buildResult, type Outcome } from '../src/model/result.js';
import { startCloud, type CloudMeta, withinBudget, CLOUD_COMMON_CODES } from './cloud-check-util.js';
import { awsIot } from './cloud-cli-util.js';
import { certificateContext, probeClientIds } from './cloud-context-util.js';
import { failureOutcome } from './cloud-failure-util.js';
import { directDocuments, inventoryFor } from './cloud-inventory-util.js';
import { principalFor, type Principal } from './cloud-principal-util.js';
import type { CheckContext, DoctorCheck } from './types.js';

const META = {
  id: 'cloud.authorization',
  title: 'Policies allow the probe to connect, publish, subscribe and receive',
};

/** Every code cloud.authorization (and its per-action results) reports. */
export const CLOUD_AUTHORIZATION_CODES = [
  'AUTH_ALLOWED',
  'AUTH_EXPLICIT_DENY',
  'AUTH_IMPLICIT_DENY',
  'AUTH_UNDECIDED',
  ...CLOUD_COMMON_CODES,
] as const;

const ACTIONS: readonly AuthActionType[] = ['CONNECT', 'PUBLISH', 'SUBSCRIBE', 'RECEIVE'];

const ACTION_META: Record<AuthActionType, CloudMeta> = {
  CONNECT: { id: 'cloud.authorization.connect', title: 'Policy allows iot:Connect with the probe client id' },
  PUBLISH: { id: 'cloud.authorization.publish', title: 'Policy allows iot:Publish on the test topic' },
  SUBSCRIBE: { id: 'cloud.authorization.subscribe', title: 'Policy allows iot:Subscribe on the test topic filter' },
  RECEIVE: { id: 'cloud.authorization.receive', title: 'Policy allows iot:Receive on the test topic' },
};

type Decision = 'ALLOWED' | 'CANNOT_DECIDE' | 'IMPLICIT_DENY' | 'EXPLICIT_DENY';
/** Worst first: a certain deny outranks an undecided answer, which outranks a certain allow. */
const RANK: Record<Decision, number> = { ALLOWED: 0, CANNOT_DECIDE: 1, IMPLICIT_DENY: 2, EXPLICIT_DENY: 3 };

interface AuthRecord {
  clientId: string;
  resource: string;
  decision: Decision;
  allowedBy: string[];
  deniedBy: string[];
  implicitDenyBy: string[];
  missingContextValues: string[];
  unsupportedConditionOperators?: string[];
  /** Keys the tool never receives that the answer depends on (local evaluation only; CANNOT_DECIDE). */
  undecidableKeys?: string[];
}

function asDecision(value: string): Decision {
  return value === 'ALLOWED' || value === 'EXPLICIT_DENY' ? value : 'IMPLICIT_DENY';
}

function authInfos(principal: Principal, clientId: string, topic: string): AuthInfoInput[] {
  return ACTIONS.map((actionType) => {
    const { kind } = TEST_AUTHORIZATION_ACTIONS[actionType];
    const name = actionType === 'CONNECT' ? clientId : topic;
    return {
      actionType,
      resources: [resourceArn(kind, name, principal.region, principal.accountId, principal.partition)],
    };
  });
}

function reproduceFor(
  ctx: CheckContext,
  session: CloudSession,
  principal: Principal,
  clientId: string,
  infos: AuthInfoInput[],
): string {
  return awsIot(ctx.target, session, 'test-authorization', [
    ['--principal', principal.certArn],
    ['--client-id', clientId],
    ['--auth-infos', JSON.stringify(infos)],
  ]);
}

/** Thing type and attributes for the policy context, when a policy uses thing variables (iot:DescribeThing). */
async function describeThingInto(
  api: IotApi,
  clientId: string,
  policies: PolicyDocumentInput[],
  evalCtx: EvalContext,
  notes: string[],
): Promise<void> {
  if (policies.some((p) => safeUsesThing(p.document))) {
    const thing = await api.describeThing(clientId);
    if (thing.ok) {
      if (thing.value.thingTypeName) evalCtx.thingTypeName = thing.value.thingTypeName;
      evalCtx.thingAttributes = thing.value.attributes;
    } else {
      notes.push(
        `thing ${clientId} could not be described (${thing.permission}): its type and attributes are unresolved`,
      );
    }
  }
}

/** The local policy decision for each TestAuthorization action of the probe with `clientId`. */
function recordsFor(
  ctx: CheckContext,
  principal: Principal,
  clientId: string,
  policies: PolicyDocumentInput[],
  evalCtx: EvalContext,
): AuthRecord[] {
  const list: AuthRecord[] = [];
  for (const info of authInfos(principal, clientId, topicForClientId(ctx.target, clientId))) {
    const resource = info.resources[0]!;
    const d = evaluate(policies, TEST_AUTHORIZATION_ACTIONS[info.actionType].action, resource, evalCtx);
    list.push({
      clientId,
      resource,
      decision: d.decision,
      allowedBy: d.allowedBy,
      deniedBy: d.deniedBy,
      implicitDenyBy: d.decision === 'IMPLICIT_DENY' ? d.implicitDenyPolicies : [],
      missingContextValues: d.missingContextValues,
      ...(d.unsupportedConditionOperators.length
        ? { unsupportedConditionOperators: d.unsupportedConditionOperators }
        : {}),
      ...(d.undecidableKeys.length ? { undecidableKeys: d.undecidableKeys } : {}),
    });
  }
  return list;
}

/** Local evaluation with the shared policy evaluator, when TestAuthorization itself is denied. */
async function evaluateLocally(
  ctx: CheckContext,
  api: IotApi,
  session: CloudSession,
  principal: Principal,
  clientIds: string[],
  denied: ApiFailure,
): Promise<
  | { ok: true; records: Map<string, AuthRecord[]>; notes: string[]; policies: string[] }
  | { ok: false; outcome: Outcome }
> {
  const inv = await inventoryFor(ctx, api, session, principal);
  if (!inv.ok) {
    const o = inv.outcome;
    const perm =
      typeof o.evidence?.['permission'] === 'string'
        ? (o.evidence['permission'] as string)
        : 'iot:ListAttachedPolicies';
    return { ok: false, outcome: o.code === 'IAM_ACCESS_DENIED' ? deniedToo(o, denied, [perm]) : o };
  }
  const direct = await directDocuments(api, principal, inv.value);
  if (!direct.ok) {
    const o = failureOutcome(direct.failure, 'the policies', undefined, ctx.target);
    return {
      ok: false,
      outcome: direct.failure.kind === 'access-denied' ? deniedToo(o, denied, direct.permissions) : o,
    };
  }

  const notes: string[] = [];
  const valid = (docs: PolicyDocumentInfo[]): PolicyDocumentInput[] =>
    docs.flatMap((d) => {
      try {
        parsePolicy(d.policyDocument, d.policyName);
        return [{ policyName: d.policyName, document: d.policyDocument }];
      } catch (err) {
        notes.push(
          `policy ${d.policyName} could not be parsed and was left out: ${err instanceof Error ? err.message : String(err)}`,
        );
        return [];
      }
    });
  const things = inv.value.things;
  if (!things)
    notes.push(
      `things attached to the certificate unknown (${inv.value.thingsFailure?.permission ?? 'iot:ListPrincipalThings'} denied): thing variables treated as unresolved`,
    );
  const certCtx = certificateContext(ctx, principal);
  const records = new Map<string, AuthRecord[]>();
  const evaluated = new Set<string>();
  for (const clientId of clientIds) {
    const attached = things?.includes(clientId);
    let docs = direct.docs;
    if (attached) {
      const eff = inv.value.effectiveByThing.get(clientId);
      if (eff) docs = eff;
      else notes.push(`thing-group policies of ${clientId} unknown (GetEffectivePolicies failed)`);
    }
    const policies = valid(docs);
    policies.forEach((p) => evaluated.add(p.policyName));
    const evalCtx: EvalContext = { ...certCtx, clientId };
    if (attached !== undefined) evalCtx.isAttached = attached;
    if (attached) {
      evalCtx.thingName = clientId;
      await describeThingInto(api, clientId, policies, evalCtx, notes);
    }
    records.set(clientId, recordsFor(ctx, principal, clientId, policies, evalCtx));
  }
  return { ok: true, records, notes, policies: [...evaluated] };
}

/** TestAuthorization is denied and so is what local evaluation needs: one skip naming every permission involved. */
function deniedToo(o: Outcome, denied: ApiFailure, permissions: string[]): Outcome {
  const all = [...new Set([denied.permission, ...permissions])];
  return {
    ...o,
    summary: `skipped: these AWS credentials may not call ${all.join(' or ')} (AccessDenied), so the authorization was not checked`,
    evidence: { ...o.evidence, permission: denied.permission, permissions: all },
    hint: `Allow ${denied.permission} for the IAM identity that runs iot-doctor (or ${all.slice(1).join(' and ')}, to evaluate the policies locally).`,
  };
}

function safeUsesThing(doc: string | object): boolean {
  try {
    return policyUsesThingVariables(doc);
  } catch {
    return false;
  }
}

function shortResource(resource: string): string {
  return resource.replace(/^arn:[^:]+:iot:[^:]*:[^:]*:/, '');
}

/**
 * The local evaluator could not decide (facts §7): a statement that would change the answer depends on a value the
 * device sends and this tool never sees. Neither a pass nor a failure: it says which keys, and how to settle it.
 */
function undecidedOutcome(
  iamAction: string,
  res: string,
  forId: string,
  worst: AuthRecord,
  evidence: Evidence,
  reproduce: string,
): Outcome {
  const keys = worst.undecidableKeys ?? [];
  return {
    status: 'warn',
    code: 'AUTH_UNDECIDED',
    summary: `cannot decide whether ${iamAction} on ${res}${forId} is allowed: the policies depend on ${keys.join(', ') || 'values'} that iot-doctor does not receive (evaluated locally)`,
    evidence: { ...evidence, undecidableKeys: keys },
    hint: `Allow iot:TestAuthorization for the IAM identity that runs iot-doctor so that AWS decides, or check the statements that use ${keys.join(', ') || 'these keys'} against what the device sends.`,
    reproduce,
  };
}

/** The evidence of one action's result: the deciding record, every client id's decision, how it was decided. */
function authEvidence(
  action: AuthActionType,
  worst: AuthRecord,
  all: AuthRecord[],
  local: { policies: string[]; notes: string[] } | undefined,
): Evidence {
  const iamAction = TEST_AUTHORIZATION_ACTIONS[action].action;
  return {
    action,
    iamAction,
    resource: worst.resource,
    clientId: worst.clientId,
    decision: worst.decision,
    allowedBy: worst.allowedBy,
    deniedBy: worst.deniedBy,
    ...(worst.implicitDenyBy.length ? { implicitDenyBy: worst.implicitDenyBy } : {}),
    missingContextValues: worst.missingContextValues,
    source: local ? 'local-evaluation' : 'TestAuthorization',
    ...(worst.unsupportedConditionOperators
      ? { unsupportedConditionOperators: worst.unsupportedConditionOperators }
      : {}),
    ...(all.length > 1
      ? {
          clientIds: all.map((r) => r.clientId),
          decisions: Object.fromEntries(all.map((r) => [r.clientId, r.decision])),
        }
      : {}),
    ...(local ? { policiesEvaluated: local.policies, ...(local.notes.length ? { notes: local.notes } : {}) } : {}),
  };
}

/** The result of one action from its worst decision over the probe's client ids. */
function outcomeFor(
  action: AuthActionType,
  worst: AuthRecord,
  all: AuthRecord[],
  ctx: CheckContext,
  local: { policies: string[]; notes: string[] } | undefined,
  reproduce: string,
): Outcome {
  const iamAction = TEST_AUTHORIZATION_ACTIONS[action].action;
  const res = shortResource(worst.resource);
  const evidence = authEvidence(action, worst, all, local);
  const how = local ? ' (evaluated locally: these AWS credentials may not call iot:TestAuthorization)' : '';
  const forId = action === 'CONNECT' ? '' : ` for client id ${worst.clientId}`;
  if (worst.decision === 'ALLOWED') {
    return {
      status: 'pass',
      code: 'AUTH_ALLOWED',
      summary: `${iamAction} on ${res}${forId} is allowed by ${worst.allowedBy.join(', ') || 'a policy'}${how}`,
      evidence,
      reproduce,
    };
  }
  if (worst.decision === 'CANNOT_DECIDE') return undecidedOutcome(iamAction, res, forId, worst, evidence, reproduce);
  if (worst.decision === 'EXPLICIT_DENY') {
    const first = worst.deniedBy[0] ?? '<policy>';
    return {
      status: 'fail',
      code: 'AUTH_EXPLICIT_DENY',
      summary: `${iamAction} on ${res}${forId} is explicitly denied by ${worst.deniedBy.join(', ') || 'a policy'}${how}`,
      evidence,
      hint: `An explicit Deny wins over every Allow: remove or narrow the Deny statement in ${worst.deniedBy.join(', ') || 'the policy'} (aws iot get-policy --policy-name ${first}), or probe with a --topic the policy allows.`,
      reproduce,
    };
  }
  const missing = worst.missingContextValues;
  const thingVars = missing.filter((m) => /^iot:Connection\.Thing\./i.test(m));
  const checked = worst.implicitDenyBy.length
    ? ` (policies checked: ${worst.implicitDenyBy.join(', ')})`
    : ' (no policy reaches the certificate)';
  const statement = JSON.stringify({ Effect: 'Allow', Action: iamAction, Resource: worst.resource });
  const hints = [`Add to a policy attached to the certificate: ${statement}`];
  if (thingVars.length) {
    hints.push(
      `The policy uses ${thingVars.join(', ')}: these resolve only when the client id is the name of a thing attached to the certificate (probe with --client-id <thing-name>).`,
    );
  }
  if (action === 'CONNECT' && !ctx.target.clientIdFromUser && worst.implicitDenyBy.length) {
    hints.push(
      `The probe used its own client id (${worst.clientId}); if the policy allows only the device's id, probe with --client-id <device-id> (the device is disconnected while the probe runs).`,
    );
  }
  return {
    status: 'fail',
    code: 'AUTH_IMPLICIT_DENY',
    summary: `no policy allows ${iamAction} on ${res}${forId}${checked}${missing.length ? `; unresolved policy variables: ${missing.join(', ')}` : ''}${how}`,
    evidence,
    hint: hints.join(' '),
    reproduce,
  };
}

/**
 * cloud.authorization: TestAuthorization for the client id(s) and topic the route probes really use (CONNECT
 * client/<id>, PUBLISH topic/<topic>, SUBSCRIBE topicfilter/<topic>, RECEIVE topic/<topic>), one result per action.
 * When TestAuthorization is denied, the attached policies are read and evaluated locally with the same evaluator
 * the lab uses.
 */
export const cloudAuthorizationCheck: DoctorCheck = {
  ...META,
  family: 'cloud',
  run(ctx) {
    const started = performance.now();
    return withinBudget(
      ctx,
      ACTIONS.map((a) => ACTION_META[a]),
      started,
      async () => {
        const c = await startCloud(ctx);
        // Own duration from the shared session being ready (as cloudCheck does).
        const own = performance.now();
        const all = (o: Outcome): CheckResult[] => ACTIONS.map((a) => buildResult(ACTION_META[a], own, o));
        if (!c.ok) return all(c.outcome);
        const { api, session } = c;
        const p = await principalFor(ctx, api, session);
        if (!p.ok) return all(p.outcome);
        const principal = p.value;
        const clientIds = probeClientIds(ctx.target);
        const infos = new Map(clientIds.map((id) => [id, authInfos(principal, id, topicForClientId(ctx.target, id))]));
        const tested = await Promise.all(
          clientIds.map((id) => api.testAuthorization(principal.certArn, id, infos.get(id)!)),
        );

        const firstReproduce = reproduceFor(ctx, session, principal, clientIds[0]!, infos.get(clientIds[0]!)!);
        const other = tested.find((t) => !t.ok && t.kind !== 'access-denied');
        if (other && !other.ok)
          return all(failureOutcome(other, 'the authorization of the probe', firstReproduce, ctx.target));

        let records: Map<string, AuthRecord[]>;
        let local: { policies: string[]; notes: string[] } | undefined;
        const denied = tested.find((t) => !t.ok);
        if (denied && !denied.ok) {
          const l = await evaluateLocally(ctx, api, session, principal, clientIds, denied);
          if (!l.ok) return all({ ...l.outcome, reproduce: firstReproduce });
          records = l.records;
          local = { policies: l.policies, notes: l.notes };
        } else {
          records = new Map();
          tested.forEach((t, i) => {
            if (!t.ok) return;
            const id = clientIds[i]!;
            records.set(
              id,
              ACTIONS.map((a, j) => {
                const r = t.value.find((x) => x.actionType === a) ?? t.value[j];
                return {
                  clientId: id,
                  resource: r?.resources[0] ?? infos.get(id)![j]!.resources[0]!,
                  decision: asDecision(r?.decision ?? 'IMPLICIT_DENY'),
                  allowedBy: r?.allowedBy ?? [],
                  deniedBy: r?.explicitDenyBy ?? [],
                  implicitDenyBy: r?.implicitDenyBy ?? [],
                  missingContextValues: r?.missingContextValues ?? [],
                };
              }),
            );
          });
        }

        return ACTIONS.map((action, j) => {
          const perId = clientIds.map((id) => records.get(id)![j]!);
          const worst = perId.reduce((a, b) => (RANK[b.decision] > RANK[a.decision] ? b : a));
          const reproduce = reproduceFor(ctx, session, principal, worst.clientId, [infos.get(worst.clientId)![j]!]);
          return buildResult(ACTION_META[action], own, outcomeFor(action, worst, perId, ctx, local, reproduce));
        });
      },
    );
  },
};

export const AUTHORIZATION_RESULT_IDS = ACTIONS.map((a) => ACTION_META[a].id);
