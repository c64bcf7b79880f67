/**
 * AWS IoT policy evaluation, done locally.
 *
 * One implementation serves two callers: the lab (which enforces policies on CONNECT / PUBLISH / SUBSCRIBE / RECEIVE
 * and HTTPS publish, and answers TestAuthorization) and the cloud checks (as a fallback when the caller may not call
 * TestAuthorization). It is pure: no I/O, no clock, no globals besides a small parse cache.
 *
 * Semantics (AWS IoT follows IAM here, see aws-iot-facts.md section 7):
 *  - Default is an implicit deny; a matching Allow allows; any matching Deny wins over every Allow.
 *  - `Statement` is an object or an array; `Action`/`NotAction` and `Resource`/`NotResource` are a string or an array.
 *  - Actions match case-insensitively, with `*` and `?` wildcards. Variables in actions are NOT substituted.
 *  - Resources match case-sensitively, IAM-style: `*` is any run of characters (it crosses `/`), `?` exactly one.
 *    MQTT `+` and `#` are literal characters.
 *  - Policy variables `${...}` are substituted in Resource, NotResource and Condition values, only in policies with
 *    `"Version": "2012-10-17"` (as in IAM; without it, `${...}` is literal text). `${*}`, `${?}`, `${$}` give literal
 *    `*`, `?`, `$`. A substituted value is literal: a client id `a*` does not become a wildcard.
 *  - A variable that cannot be resolved makes its whole statement not match; its name is reported in
 *    `missingContextValues`. IAM's default-value form `${key, 'default'}` is honoured.
 *  - Conditions: every operator and every key in a Condition block must hold (AND); several values for one key are
 *    alternatives (OR), for negated operators "none of them". Supported operators: String(Not)Equals(IgnoreCase),
 *    String(Not)Like, Bool, Arn(Not)Equals, Arn(Not)Like, (Not)IpAddress (IPv4 and IPv6 CIDR), Numeric*, Null, each
 *    with the `IfExists` suffix and the `ForAnyValue:` / `ForAllValues:` prefixes. Any other operator makes its
 *    statement NOT match (conservative: an unknown Allow grants nothing, an unknown Deny denies nothing) and is
 *    reported in `unsupportedConditionOperators`.
 *  - A condition key absent from the context: the condition is false, except for negated operators (`StringNotEquals`,
 *    `NotIpAddress`, ...), `...IfExists`, `ForAllValues:` and `Null`, where it is true (IAM rules). The key is reported
 *    in `missingContextValues` either way (except for `Null`, which asks about absence on purpose).
 *  - Those absent-key rules apply only where absence is known (`EvalContext.complete`, or a key the tool models). A
 *    key the tool never receives (`iot:ConnectAttributes`, `iot:LastWillTopic`, `iot:DomainName`, ...) makes its
 *    statement undecided; an undecided Deny, or an undecided Allow with no certain Allow, gives `CANNOT_DECIDE`.
 *  - A certificate field holding `* $ + ? #` is not substituted: its `${...}` stays literal (cert-policy-variables).
 */
import { conditionHolds } from './conditions.js';
import type { StatementScratch, Tri } from './conditions.js';
import { canonicalKey, THING_PREFIX } from './context.js';
import { actionMatches, resolveTemplate, templateRegExp } from './match.js';
import type { Resolved } from './match.js';
import { parsePolicy } from './parse.js';
import type {
  AuthDecision,
  Decision,
  EvalContext,
  IotAction,
  MatchedStatement,
  ParsedStatement,
  PolicyDocumentInput,
  ValueTemplate,
} from './types.js';

export { parsePolicy } from './parse.js';
export { PolicySyntaxError, resourceArn, TEST_AUTHORIZATION_ACTIONS } from './types.js';
export type * from './types.js';

function statementMatches(
  stmt: ParsedStatement,
  action: string,
  resource: string,
  ctx: EvalContext,
  scratch: StatementScratch,
): Tri {
  // 1. Action (no variable substitution).
  if (stmt.actions) {
    if (!stmt.actions.some((a) => actionMatches(a, action))) return false;
  } else if (stmt.notActions) {
    if (stmt.notActions.some((a) => actionMatches(a, action))) return false;
  }

  // 2. Resource: every variable of the statement's resources must resolve, else the statement is void.
  const templates = stmt.resources ?? stmt.notResources ?? [];
  const resolved: Array<{ tpl: ValueTemplate; r: Resolved & { ok: true } }> = [];
  let allResolved = true;
  let unknown = false;
  for (const tpl of templates) {
    const r = resolveTemplate(tpl, ctx, scratch.missing, scratch.undecidable);
    if (r.ok) resolved.push({ tpl, r });
    else {
      allResolved = false;
      if (r.unknown) unknown = true;
    }
  }
  if (!allResolved) return unknown ? 'unknown' : false;
  const anyResource = resolved.some(({ tpl, r }) => templateRegExp(tpl, r).test(resource));
  if (stmt.resources ? !anyResource : anyResource) return false;

  // 3. Conditions: all must hold (a false one decides; else an unknown one leaves it open). Evaluate all of them so
  // every missing key is reported.
  let ok: Tri = true;
  for (const cond of stmt.conditions) {
    const held = conditionHolds(cond, ctx, scratch);
    if (held === false) ok = false;
    else if (held === 'unknown' && ok === true) ok = 'unknown';
  }
  return ok;
}

/** Deny wins, then an undecided Deny, then Allow, then an undecided Allow (facts §7, three-valued). */
function decide(denied: number, deniedOpen: number, allowed: number, allowedOpen: number): AuthDecision {
  if (denied > 0) return 'EXPLICIT_DENY';
  if (deniedOpen > 0) return 'CANNOT_DECIDE';
  if (allowed > 0) return 'ALLOWED';
  return allowedOpen > 0 ? 'CANNOT_DECIDE' : 'IMPLICIT_DENY';
}

function pushUnique(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

/**
 * Evaluate `action` on `resourceArn` against all `policies` (the policies attached to the principal), AWS IoT style.
 * Throws `PolicySyntaxError` if a document is malformed (a stored policy is expected to have been validated already).
 */
export function evaluate(
  policies: PolicyDocumentInput[],
  action: IotAction,
  resourceArn: string,
  ctx: EvalContext = {},
): Decision {
  const allowedBy: string[] = [];
  const deniedBy: string[] = [];
  const implicitDenyPolicies: string[] = [];
  const matchedStatements: MatchedStatement[] = [];
  const scratch: StatementScratch = { missing: new Set(), unsupported: new Set(), undecidable: new Set() };
  const open = { deny: 0, allow: 0 };
  const undecidable = new Set<string>();

  for (const { policyName, document } of policies) {
    const policy = parsePolicy(document, policyName);
    let allowed = false;
    let denied = false;
    for (const stmt of policy.statements) {
      scratch.undecidable = new Set();
      const matched = statementMatches(stmt, action, resourceArn, ctx, scratch);
      if (matched === 'unknown') {
        open[stmt.effect === 'Deny' ? 'deny' : 'allow']++;
        for (const k of scratch.undecidable) undecidable.add(k);
      }
      if (matched !== true) continue;
      const m: MatchedStatement = { policyName, statementIndex: stmt.index, effect: stmt.effect };
      if (stmt.sid !== undefined) m.sid = stmt.sid;
      matchedStatements.push(m);
      if (stmt.effect === 'Deny') denied = true;
      else allowed = true;
    }
    if (allowed) pushUnique(allowedBy, policyName);
    if (denied) pushUnique(deniedBy, policyName);
  }
  for (const { policyName } of policies) {
    if (!allowedBy.includes(policyName) && !deniedBy.includes(policyName)) pushUnique(implicitDenyPolicies, policyName);
  }

  const decision = decide(deniedBy.length, open.deny, allowedBy.length, open.allow);
  return {
    decision,
    allowedBy,
    deniedBy,
    implicitDenyPolicies,
    missingContextValues: [...scratch.missing],
    matchedStatements,
    unsupportedConditionOperators: [...scratch.unsupported],
    undecidableKeys: decision === 'CANNOT_DECIDE' ? [...undecidable] : [],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Introspection helpers
// ---------------------------------------------------------------------------------------------------------------

/**
 * The context keys a policy refers to: variables in Resource / NotResource / Condition values and condition keys,
 * in AWS spelling, without duplicates. Variables are listed only when the policy's Version enables them.
 */
export function policyVariables(doc: string | object): string[] {
  const policy = parsePolicy(doc);
  const out: string[] = [];
  const addTemplate = (tpl: ValueTemplate): void => {
    for (const seg of tpl.segments) if (seg.t === 'var') pushUnique(out, canonicalKey(seg.name));
  };
  for (const stmt of policy.statements) {
    for (const tpl of stmt.resources ?? stmt.notResources ?? []) addTemplate(tpl);
    for (const cond of stmt.conditions) {
      pushUnique(out, canonicalKey(cond.key));
      cond.values.forEach(addTemplate);
    }
  }
  return out;
}

/**
 * True if any statement depends on the thing attached to the connection: a `${iot:Connection.Thing.*}` variable
 * (in Resource, NotResource or a Condition value) or an `iot:Connection.Thing.*` condition key (e.g. IsAttached).
 */
export function policyUsesThingVariables(doc: string | object): boolean {
  return policyVariables(doc).some((k) => k.toLowerCase().startsWith(THING_PREFIX));
}
