/**
 * Does a policy attached to the device certificate allow `iot:AssumeRoleWithCertificate` on the role alias (field
 * notes §6.2, facts §7)? TestAuthorization knows only CONNECT/PUBLISH/SUBSCRIBE/RECEIVE (facts §6), so the policies
 * are read (the same memoized ListAttachedPolicies / GetEffectivePolicies / GetPolicy answers cloud.authorization and
 * cloud.policy-attached use: nothing is fetched twice) and evaluated with the project's IoT policy evaluator
 * (src/policy/). Used by cloud.role-alias to confirm or rule out ASSUME_ROLE_DENIED.
 *
 * Only the policies attached to the certificate are evaluated: the credential-provider request carries no client id,
 * so thing-group policies (which apply when the client id is the thing's name, facts §7) are not assumed to apply.
 * `${iot:Connection.Thing.*}` resolves only from the `--thing-name` sent in `x-amzn-iot-thingname` when that thing is
 * attached to the certificate (whether AWS resolves it there is unconfirmed; field notes §6.2); `${iot:ClientId}` never
 * resolves. A deny that rests on a variable that could not be resolved is "undecided", not "denied".
 */
import { evaluate, parsePolicy, type Decision, type EvalContext } from '../src/policy/index.js';
import type { CloudSession, IotApi, PolicyDocumentInfo } from '../src/probes/iot-api.js';
import { certificateContext } from './cloud-context-util.js';
import { directDocuments, inventoryFor } from './cloud-inventory-util.js';
import { principalFor } from './cloud-principal-util.js';
import type { CheckContext } from './types.js';

/** The IoT policy action the credential provider checks (field notes §6.2). */
export const ASSUME_ROLE_ACTION = 'iot:AssumeRoleWithCertificate';

/** A policy statement by name and position, as the evaluator matched it. */
export interface StatementRef {
  policyName: string;
  /** Index in the policy's Statement list (0 for a single statement object). */
  statementIndex: number;
  sid?: string;
}

/**
 * The verdict on `iot:AssumeRoleWithCertificate` for the role alias ARN:
 * - `denied`: certain: an explicit Deny matched (`denyStatements`), or no statement allows it and nothing was left
 *   unresolved (`decision` IMPLICIT_DENY);
 * - `allowed`: a statement allows it (`allowStatements`) and no Deny matched;
 * - `undecided`: `unread` says what could not be read or resolved (a permission, a variable, a policy that does not
 *   parse).
 */
export interface AssumeRoleVerdict {
  verdict: 'denied' | 'allowed' | 'undecided';
  roleAliasArn: string;
  /** The evaluator's answer (facts §7), when it ran. */
  decision?: Decision['decision'];
  /** Names of the policies evaluated (attached to the certificate). */
  policies: string[];
  allowStatements: StatementRef[];
  denyStatements: StatementRef[];
  /** One line: what could not be read or resolved (undecided only). */
  unread?: string;
  /** The IAM permission that was refused, when that is why it is undecided. */
  permission?: string;
  /** The certificate's ARN, when it was known (for the by-hand `aws iot list-attached-policies --target`). */
  certArn?: string;
  missingContextValues: string[];
}

function refs(d: Decision, effect: 'Allow' | 'Deny'): StatementRef[] {
  return d.matchedStatements
    .filter((m) => m.effect === effect)
    .map((m) => ({
      policyName: m.policyName,
      statementIndex: m.statementIndex,
      ...(m.sid !== undefined ? { sid: m.sid } : {}),
    }));
}

/** The evaluator's decision as a verdict (see `AssumeRoleVerdict`); pure. */
export function assumeRoleFromDecision(d: Decision, roleAliasArn: string, policies: string[]): AssumeRoleVerdict {
  const base = {
    roleAliasArn,
    decision: d.decision,
    policies,
    allowStatements: refs(d, 'Allow'),
    denyStatements: refs(d, 'Deny'),
    missingContextValues: d.missingContextValues,
  };
  if (d.decision === 'ALLOWED') return { ...base, verdict: 'allowed' };
  if (d.decision === 'EXPLICIT_DENY') return { ...base, verdict: 'denied' };
  const open = d.decision === 'CANNOT_DECIDE' ? d.undecidableKeys : d.missingContextValues;
  if (open.length === 0) return { ...base, verdict: 'denied' };
  const unread = `the policies use ${open.join(', ')}, which could not be resolved for this request`;
  return { ...base, verdict: 'undecided', unread };
}

/** Policy context of a credential-provider request: the certificate's fields, the thing of `x-amzn-iot-thingname`. */
function requestContext(ctx: CheckContext, base: EvalContext, things: string[] | undefined): EvalContext {
  const thing = ctx.target.credentials?.thingName;
  const out: EvalContext = { ...base };
  if (thing !== undefined && things?.includes(thing)) {
    out.thingName = thing;
    out.isAttached = true;
  }
  return out;
}

function undecided(roleAliasArn: string, unread: string, permission?: string): AssumeRoleVerdict {
  return {
    verdict: 'undecided',
    roleAliasArn,
    policies: [],
    allowStatements: [],
    denyStatements: [],
    unread,
    ...(permission ? { permission } : {}),
    missingContextValues: [],
  };
}

/** Parses each document; one that does not parse makes the verdict undecided (AWS would not have stored it). */
function parsed(docs: PolicyDocumentInfo[]): { ok: true } | { ok: false; unread: string } {
  for (const d of docs) {
    try {
      parsePolicy(d.policyDocument, d.policyName);
    } catch (err) {
      return { ok: false, unread: `policy ${d.policyName} could not be parsed (${(err as Error).message})` };
    }
  }
  return { ok: true };
}

/**
 * Reads the certificate's attached policies (memoized per run) and evaluates `iot:AssumeRoleWithCertificate` on
 * `roleAliasArn`. Never throws: a refused or failed read is an `undecided` verdict naming what was not read.
 */
export async function assumeRoleVerdict(
  ctx: CheckContext,
  api: IotApi,
  session: CloudSession,
  roleAliasArn: string,
): Promise<AssumeRoleVerdict> {
  const principal = await principalFor(ctx, api, session);
  if (!principal.ok)
    return undecided(roleAliasArn, `the certificate principal was not read (${principal.outcome.summary})`);
  const inv = await inventoryFor(ctx, api, session, principal.value);
  if (!inv.ok) {
    const perm = inv.outcome.evidence?.['permission'];
    const p = typeof perm === 'string' ? perm : undefined;
    return undecided(roleAliasArn, `the attached policies were not read (${inv.outcome.summary})`, p);
  }
  const direct = await directDocuments(api, principal.value, inv.value);
  if (!direct.ok) {
    const p = direct.failure.permission;
    return undecided(roleAliasArn, `the policy documents were not read (${p}: ${direct.failure.errorName})`, p);
  }
  const syntax = parsed(direct.docs);
  if (!syntax.ok) return undecided(roleAliasArn, syntax.unread);
  const policies = direct.docs.map((d) => ({ policyName: d.policyName, document: d.policyDocument }));
  const evalCtx = requestContext(ctx, certificateContext(ctx, principal.value), inv.value.things);
  const d = evaluate(policies, ASSUME_ROLE_ACTION, roleAliasArn, evalCtx);
  const names = policies.map((p) => p.policyName);
  return { ...assumeRoleFromDecision(d, roleAliasArn, names), certArn: principal.value.certArn };
}

/** `Statement[2] "sid"` of policy `name`: how a statement is named to the user. */
export function statementName(s: StatementRef): string {
  return `policy ${s.policyName} Statement[${s.statementIndex}]${s.sid ? ` (Sid ${s.sid})` : ''}`;
}

/** The statement that grants the alias, to add to a policy attached to the certificate (field notes §6.2). */
export function allowStatementFor(roleAliasArn: string): string {
  return JSON.stringify({ Effect: 'Allow', Action: ASSUME_ROLE_ACTION, Resource: roleAliasArn });
}
