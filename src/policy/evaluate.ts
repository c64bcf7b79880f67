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
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

// ---------------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------------

export type IotAction =
  | 'iot:Connect'
  | 'iot:Publish'
  | 'iot:Subscribe'
  | 'iot:Receive'
  | 'iot:RetainPublish'
  | (string & {});

export interface PolicyDocumentInput {
  policyName: string;
  /** The policy JSON as text or as a parsed object, or the result of `parsePolicy`. */
  document: string | object;
}

export interface EvalContext {
  /** `${iot:ClientId}` */
  clientId?: string;
  /** `${iot:Connection.Thing.ThingName}`: set only when a thing named like the client id is attached to the principal. */
  thingName?: string;
  /** `${iot:Connection.Thing.ThingTypeName}` */
  thingTypeName?: string;
  /** `${iot:Connection.Thing.Attributes[name]}` */
  thingAttributes?: Record<string, string>;
  /**
   * `${iot:Connection.Thing.IsAttached}`. Undefined means "unknown" (reported as missing), except that a set
   * `thingName` implies `true`. The lab should always pass true or false, as AWS always knows it on MQTT.
   */
  isAttached?: boolean;
  /** `${iot:CertificateId}` */
  certificateId?: string;
  /** Subject fields by AWS name, e.g. `CommonName` -> `${iot:Certificate.Subject.CommonName}`. */
  certificateSubject?: Record<string, string>;
  /** Issuer fields by AWS name, e.g. `Organization` -> `${iot:Certificate.Issuer.Organization}`. */
  certificateIssuer?: Record<string, string>;
  /** `aws:SourceIp` (IPv4, IPv6 or IPv4-mapped IPv6 as Node reports it). */
  sourceIp?: string;
  /** Any other context key, by its policy name (`iot:Certificate.SerialNumber`, ...); matched case-insensitively. */
  extra?: Record<string, string | string[]>;
}

export type AuthDecision = 'ALLOWED' | 'IMPLICIT_DENY' | 'EXPLICIT_DENY';

export interface MatchedStatement {
  policyName: string;
  /** Index in the policy's Statement list (0 when Statement is a single object). */
  statementIndex: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
}

export interface Decision {
  decision: AuthDecision;
  /** Policy names with a matching Allow (in input order, no duplicates). */
  allowedBy: string[];
  /** Policy names with a matching explicit Deny. */
  deniedBy: string[];
  /** Policies that matched nothing (TestAuthorization lists these under denied.implicitDeny). */
  implicitDenyPolicies: string[];
  /** Variables / condition keys that could not be resolved, e.g. `iot:Connection.Thing.ThingName`. */
  missingContextValues: string[];
  /** Every statement that matched, Allow and Deny: the "why" behind the decision. */
  matchedStatements: MatchedStatement[];
  /** Condition operators this evaluator does not know; their statements were treated as not matching. */
  unsupportedConditionOperators: string[];
}

export class PolicySyntaxError extends Error {
  /** Where in the document the problem is, e.g. `Statement[1].Effect`; empty for whole-document problems. */
  readonly path: string;
  readonly policyName: string | undefined;
  constructor(message: string, path = '', policyName?: string) {
    const where = [policyName ? `policy "${policyName}"` : 'policy', path].filter(Boolean).join(' ');
    super(`${where}: ${message}`);
    this.name = 'PolicySyntaxError';
    this.path = path;
    this.policyName = policyName;
  }
}

/** A piece of a Resource / Condition value: literal text, a wildcard, or a policy variable. */
export type ValueSegment =
  | { t: 'lit'; s: string }
  | { t: 'wild'; c: '*' | '?' }
  | { t: 'var'; name: string; defaultValue?: string };

export interface ValueTemplate {
  raw: string;
  segments: ValueSegment[];
  hasVars: boolean;
}

export interface ParsedCondition {
  /** As written, e.g. `ForAnyValue:StringLikeIfExists`. */
  operator: string;
  key: string;
  values: ValueTemplate[];
}

export interface ParsedStatement {
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
  actions?: string[];
  notActions?: string[];
  resources?: ValueTemplate[];
  notResources?: ValueTemplate[];
  conditions: ParsedCondition[];
}

export interface ParsedPolicy {
  version: string | undefined;
  /** Policy variables are substituted only with Version 2012-10-17. */
  variablesEnabled: boolean;
  statements: ParsedStatement[];
  /** Non-fatal observations (no Version, unsupported condition operators ...). */
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Resource ARNs and action names
// ---------------------------------------------------------------------------------------------------------------

export type ResourceKind = 'client' | 'topic' | 'topicfilter' | 'thing';

export function resourceArn(kind: ResourceKind, name: string, region: string, account: string, partition = 'aws'): string {
  return `arn:${partition}:iot:${region}:${account}:${kind}/${name}`;
}

/** TestAuthorization `actionType` -> policy action and the resource kind it is checked on. */
export const TEST_AUTHORIZATION_ACTIONS: Readonly<
  Record<'CONNECT' | 'PUBLISH' | 'SUBSCRIBE' | 'RECEIVE', { action: IotAction; kind: ResourceKind }>
> = {
  CONNECT: { action: 'iot:Connect', kind: 'client' },
  PUBLISH: { action: 'iot:Publish', kind: 'topic' },
  SUBSCRIBE: { action: 'iot:Subscribe', kind: 'topicfilter' },
  RECEIVE: { action: 'iot:Receive', kind: 'topic' },
};

// ---------------------------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------------------------

const VERSION_CURRENT = '2012-10-17';
const VERSION_LEGACY = '2008-10-17';
const TOP_LEVEL_KEYS = new Set(['Version', 'Statement', 'Id']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);

const parsedObjects = new WeakSet<object>();
const objectCache = new WeakMap<object, ParsedPolicy>();
const textCache = new Map<string, ParsedPolicy>();
const TEXT_CACHE_MAX = 512;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}...` : v}"`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/**
 * Parse and validate a policy document. Throws `PolicySyntaxError` (message names the policy when `policyName` is
 * given, and the path inside the document) on bad JSON or a bad shape. Results are cached per text / per object, so
 * do not mutate a document object after it has been evaluated.
 */
export function parsePolicy(doc: string | object, policyName?: string): ParsedPolicy {
  if (typeof doc === 'object' && doc !== null && parsedObjects.has(doc)) return doc as ParsedPolicy;
  if (typeof doc === 'string') {
    const hit = textCache.get(doc);
    if (hit) return hit;
  } else if (typeof doc === 'object' && doc !== null) {
    const hit = objectCache.get(doc);
    if (hit) return hit;
  }

  let value: unknown = doc;
  if (typeof doc === 'string') {
    if (doc.trim() === '') throw new PolicySyntaxError('document is empty', '', policyName);
    try {
      value = JSON.parse(doc);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new PolicySyntaxError(`document is not valid JSON (${reason})`, '', policyName);
    }
  }
  const parsed = parseDocument(value, policyName);

  parsedObjects.add(parsed);
  if (typeof doc === 'string') {
    if (textCache.size >= TEXT_CACHE_MAX) {
      const oldest = textCache.keys().next().value;
      if (oldest !== undefined) textCache.delete(oldest);
    }
    textCache.set(doc, parsed);
  } else if (typeof doc === 'object' && doc !== null) {
    objectCache.set(doc, parsed);
  }
  return parsed;
}

function parseDocument(value: unknown, policyName: string | undefined): ParsedPolicy {
  const fail = (message: string, path = ''): never => {
    throw new PolicySyntaxError(message, path, policyName);
  };
  if (!isPlainObject(value)) return fail(`document must be a JSON object, got ${describe(value)}`);

  for (const key of Object.keys(value)) {
    if (!TOP_LEVEL_KEYS.has(key)) {
      fail(`unknown top-level element "${key}" (allowed: Version, Statement, Id)`);
    }
  }

  const warnings: string[] = [];
  const rawVersion = value['Version'];
  let version: string | undefined;
  if (rawVersion !== undefined) {
    if (rawVersion !== VERSION_CURRENT && rawVersion !== VERSION_LEGACY) {
      fail(`Version must be "${VERSION_CURRENT}" (or the legacy "${VERSION_LEGACY}"), got ${describe(rawVersion)}`);
    }
    version = rawVersion as string;
  }
  const variablesEnabled = version === VERSION_CURRENT;
  if (!variablesEnabled) {
    warnings.push(
      `Version is ${version ? `"${version}"` : 'missing'}: policy variables such as \${iot:ClientId} are not ` +
        `substituted (they are literal text); use "Version": "${VERSION_CURRENT}"`,
    );
  }

  if (!('Statement' in value)) fail('has no "Statement" element');
  const rawStatement = value['Statement'];
  let rawStatements: unknown[];
  if (Array.isArray(rawStatement)) {
    if (rawStatement.length === 0) fail('must have at least one statement', 'Statement');
    rawStatements = rawStatement;
  } else if (isPlainObject(rawStatement)) {
    rawStatements = [rawStatement];
  } else {
    return fail(`must be an object or an array of objects, got ${describe(rawStatement)}`, 'Statement');
  }

  const statements = rawStatements.map((s, i) =>
    parseStatement(s, i, Array.isArray(rawStatement) ? `Statement[${i}]` : 'Statement', variablesEnabled, warnings, fail),
  );
  return { version, variablesEnabled, statements, warnings };
}

function parseStatement(
  raw: unknown,
  index: number,
  path: string,
  variablesEnabled: boolean,
  warnings: string[],
  fail: (message: string, path?: string) => never,
): ParsedStatement {
  if (!isPlainObject(raw)) return fail(`must be a JSON object, got ${describe(raw)}`, path);
  for (const key of Object.keys(raw)) {
    if (key === 'Principal' || key === 'NotPrincipal') {
      fail(`"${key}" is not allowed in AWS IoT policies (the principal is whatever the policy is attached to)`, path);
    }
    if (!STATEMENT_KEYS.has(key)) {
      fail(`unknown element "${key}" (allowed: ${[...STATEMENT_KEYS].join(', ')})`, path);
    }
  }

  const sid = raw['Sid'];
  if (sid !== undefined && typeof sid !== 'string') fail(`must be a string, got ${describe(sid)}`, `${path}.Sid`);

  const effect = raw['Effect'];
  if (effect === undefined) fail('has no "Effect" (must be "Allow" or "Deny")', path);
  if (effect !== 'Allow' && effect !== 'Deny') {
    fail(`must be "Allow" or "Deny" (case-sensitive), got ${describe(effect)}`, `${path}.Effect`);
  }

  const stmt: ParsedStatement = { index, effect: effect as 'Allow' | 'Deny', conditions: [] };
  if (typeof sid === 'string') stmt.sid = sid;

  const hasAction = 'Action' in raw;
  const hasNotAction = 'NotAction' in raw;
  if (hasAction === hasNotAction) {
    fail(hasAction ? 'has both "Action" and "NotAction"; use one' : 'has neither "Action" nor "NotAction"', path);
  }
  if (hasAction) stmt.actions = stringList(raw['Action'], `${path}.Action`, fail);
  else stmt.notActions = stringList(raw['NotAction'], `${path}.NotAction`, fail);

  const hasResource = 'Resource' in raw;
  const hasNotResource = 'NotResource' in raw;
  if (hasResource === hasNotResource) {
    fail(hasResource ? 'has both "Resource" and "NotResource"; use one' : 'has neither "Resource" nor "NotResource"', path);
  }
  if (hasResource) {
    stmt.resources = stringList(raw['Resource'], `${path}.Resource`, fail).map((r) => parseTemplate(r, variablesEnabled));
  } else {
    stmt.notResources = stringList(raw['NotResource'], `${path}.NotResource`, fail).map((r) =>
      parseTemplate(r, variablesEnabled),
    );
  }

  const cond = raw['Condition'];
  if (cond !== undefined) {
    if (!isPlainObject(cond)) fail(`must be an object, got ${describe(cond)}`, `${path}.Condition`);
    for (const [operator, block] of Object.entries(cond as Record<string, unknown>)) {
      const opPath = `${path}.Condition.${operator}`;
      if (!isPlainObject(block)) fail(`must be an object of condition keys, got ${describe(block)}`, opPath);
      const op = parseOperator(operator);
      if (!op) {
        warnings.push(`${path}: condition operator "${operator}" is not supported here; the statement never matches`);
      }
      for (const [key, rawValues] of Object.entries(block as Record<string, unknown>)) {
        const values = conditionValues(rawValues, `${opPath}.${key}`, fail);
        if (op && op.base === 'IpAddress' && !op.set) {
          for (const v of values) {
            if (!v.includes('${') && !parseCidr(v)) fail(`"${v}" is not an IP address or CIDR block`, `${opPath}.${key}`);
          }
        }
        stmt.conditions.push({ operator, key, values: values.map((v) => parseTemplate(v, variablesEnabled)) });
      }
    }
  }
  return stmt;
}

function stringList(v: unknown, path: string, fail: (message: string, path?: string) => never): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) {
    if (v.length === 0) fail('must not be an empty list', path);
    v.forEach((item, i) => {
      if (typeof item !== 'string') fail(`must be a string, got ${describe(item)}`, `${path}[${i}]`);
    });
    return v as string[];
  }
  return fail(`must be a string or an array of strings, got ${describe(v)}`, path);
}

function conditionValues(v: unknown, path: string, fail: (message: string, path?: string) => never): string[] {
  const one = (x: unknown, p: string): string => {
    if (typeof x === 'string') return x;
    if (typeof x === 'boolean' || typeof x === 'number') return String(x);
    return fail(`must be a string, number or boolean, got ${describe(x)}`, p);
  };
  if (Array.isArray(v)) {
    if (v.length === 0) fail('must not be an empty list', path);
    return v.map((x, i) => one(x, `${path}[${i}]`));
  }
  return [one(v, path)];
}

/** Split a Resource / Condition value into literal text, wildcards and `${...}` variables. */
function parseTemplate(raw: string, variablesEnabled: boolean): ValueTemplate {
  const segments: ValueSegment[] = [];
  let lit = '';
  const flush = (): void => {
    if (lit) segments.push({ t: 'lit', s: lit });
    lit = '';
  };
  let i = 0;
  while (i < raw.length) {
    const ch = raw[i]!;
    if (variablesEnabled && ch === '$' && raw[i + 1] === '{') {
      const end = raw.indexOf('}', i + 2);
      if (end !== -1) {
        const inner = raw.slice(i + 2, end).trim();
        i = end + 1;
        if (inner === '*' || inner === '?' || inner === '$') {
          lit += inner; // escaped special character: literal, never a wildcard
          continue;
        }
        flush();
        const withDefault = /^(.*?)\s*,\s*'([^']*)'$/s.exec(inner);
        if (withDefault) segments.push({ t: 'var', name: withDefault[1]!, defaultValue: withDefault[2]! });
        else segments.push({ t: 'var', name: inner });
        continue;
      }
      // no closing brace: the rest is literal text
    }
    if (ch === '*' || ch === '?') {
      flush();
      segments.push({ t: 'wild', c: ch });
    } else {
      lit += ch;
    }
    i++;
  }
  flush();
  return { raw, segments, hasVars: segments.some((s) => s.t === 'var') };
}

// ---------------------------------------------------------------------------------------------------------------
// Context lookup
// ---------------------------------------------------------------------------------------------------------------

type ContextValue = string | string[] | undefined;

const THING_PREFIX = 'iot:connection.thing.';
const SUBJECT_PREFIX = 'iot:certificate.subject.';
const ISSUER_PREFIX = 'iot:certificate.issuer.';

const CANONICAL_KEYS: Record<string, string> = {
  'iot:clientid': 'iot:ClientId',
  'iot:connection.thing.thingname': 'iot:Connection.Thing.ThingName',
  'iot:connection.thing.thingtypename': 'iot:Connection.Thing.ThingTypeName',
  'iot:connection.thing.isattached': 'iot:Connection.Thing.IsAttached',
  'iot:certificateid': 'iot:CertificateId',
  'iot:certificate.subject.availablekeys': 'iot:Certificate.Subject.AvailableKeys',
  'iot:certificate.issuer.availablekeys': 'iot:Certificate.Issuer.AvailableKeys',
  'aws:sourceip': 'aws:SourceIp',
};

/** The key as reported in missingContextValues: AWS's spelling for known keys, otherwise as written. */
function canonicalKey(name: string): string {
  const lower = name.toLowerCase();
  const known = CANONICAL_KEYS[lower];
  if (known) return known;
  const attr = /^iot:connection\.thing\.attributes\[(.*)\]$/s.exec(name.toLowerCase());
  if (attr) return `iot:Connection.Thing.Attributes[${name.slice(name.indexOf('[') + 1, -1)}]`;
  if (lower.startsWith(SUBJECT_PREFIX)) return `iot:Certificate.Subject.${name.slice(SUBJECT_PREFIX.length)}`;
  if (lower.startsWith(ISSUER_PREFIX)) return `iot:Certificate.Issuer.${name.slice(ISSUER_PREFIX.length)}`;
  return name;
}

function lookupField(record: Record<string, string> | undefined, field: string): string | undefined {
  if (!record) return undefined;
  if (Object.prototype.hasOwnProperty.call(record, field)) return record[field];
  const lower = field.toLowerCase();
  for (const [k, v] of Object.entries(record)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function lookup(ctx: EvalContext, name: string): ContextValue {
  const lower = name.toLowerCase();
  switch (lower) {
    case 'iot:clientid':
      return ctx.clientId;
    case 'iot:connection.thing.thingname':
      return ctx.thingName;
    case 'iot:connection.thing.thingtypename':
      return ctx.thingTypeName;
    case 'iot:connection.thing.isattached': {
      const attached = ctx.isAttached ?? (ctx.thingName !== undefined ? true : undefined);
      return attached === undefined ? undefined : String(attached);
    }
    case 'iot:certificateid':
      return ctx.certificateId;
    case 'iot:certificate.subject.availablekeys':
      return ctx.certificateSubject ? Object.keys(ctx.certificateSubject) : undefined;
    case 'iot:certificate.issuer.availablekeys':
      return ctx.certificateIssuer ? Object.keys(ctx.certificateIssuer) : undefined;
    case 'aws:sourceip':
      return ctx.sourceIp;
    default:
      break;
  }
  if (lower.startsWith(`${THING_PREFIX}attributes[`) && lower.endsWith(']')) {
    const attrName = name.slice(name.indexOf('[') + 1, -1);
    const attrs = ctx.thingAttributes;
    // Attribute names are case-sensitive in AWS IoT.
    return attrs && Object.prototype.hasOwnProperty.call(attrs, attrName) ? attrs[attrName] : undefined;
  }
  if (lower.startsWith(SUBJECT_PREFIX)) {
    const hit = lookupField(ctx.certificateSubject, name.slice(SUBJECT_PREFIX.length));
    if (hit !== undefined) return hit;
  } else if (lower.startsWith(ISSUER_PREFIX)) {
    const hit = lookupField(ctx.certificateIssuer, name.slice(ISSUER_PREFIX.length));
    if (hit !== undefined) return hit;
  }
  if (ctx.extra) {
    if (Object.prototype.hasOwnProperty.call(ctx.extra, name)) return ctx.extra[name];
    for (const [k, v] of Object.entries(ctx.extra)) if (k.toLowerCase() === lower) return v;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------------------------

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Glob (`*` any run, `?` one character) to an anchored RegExp; everything else is literal. */
function globToRegExp(glob: string, ignoreCase: boolean): RegExp {
  let src = '';
  for (const ch of glob) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += escapeRegExp(ch);
  }
  return new RegExp(`^${src}$`, ignoreCase ? 'isu' : 'su');
}

const actionRegexCache = new Map<string, RegExp>();
function actionMatches(pattern: string, action: string): boolean {
  let re = actionRegexCache.get(pattern);
  if (!re) {
    re = globToRegExp(pattern, true);
    if (actionRegexCache.size > 1024) actionRegexCache.clear();
    actionRegexCache.set(pattern, re);
  }
  return re.test(action);
}

/** A segment after substitution: no variables left. */
type PlainSegment = Exclude<ValueSegment, { t: 'var' }>;
type Resolved = { ok: true; segments: PlainSegment[] } | { ok: false };

/** Substitute the variables of a template. Missing ones are added to `missing`. */
function resolveTemplate(tpl: ValueTemplate, ctx: EvalContext, missing: Set<string>): Resolved {
  if (!tpl.hasVars) return { ok: true, segments: tpl.segments as PlainSegment[] };
  const out: PlainSegment[] = [];
  let ok = true;
  for (const seg of tpl.segments) {
    if (seg.t !== 'var') {
      out.push(seg);
      continue;
    }
    let value = lookup(ctx, seg.name);
    // A multi-valued key cannot be substituted into a single string.
    if (Array.isArray(value)) value = undefined;
    if (value === undefined && seg.defaultValue !== undefined) value = seg.defaultValue;
    if (value === undefined) {
      missing.add(canonicalKey(seg.name));
      ok = false;
      continue;
    }
    out.push({ t: 'lit', s: value });
  }
  return ok ? { ok: true, segments: out } : { ok: false };
}

const templateRegexCache = new WeakMap<ValueTemplate, RegExp>();

function segmentsToRegExp(segments: Resolved & { ok: true }, ignoreCase: boolean): RegExp {
  let src = '';
  for (const seg of segments.segments) {
    if (seg.t === 'lit') src += escapeRegExp(seg.s);
    else src += seg.c === '*' ? '.*' : '.';
  }
  return new RegExp(`^${src}$`, ignoreCase ? 'isu' : 'su');
}

function templateRegExp(tpl: ValueTemplate, resolved: Resolved & { ok: true }, ignoreCase = false): RegExp {
  if (tpl.hasVars || ignoreCase) return segmentsToRegExp(resolved, ignoreCase);
  let re = templateRegexCache.get(tpl);
  if (!re) {
    re = segmentsToRegExp(resolved, false);
    templateRegexCache.set(tpl, re);
  }
  return re;
}

/** The resolved value as plain text (wildcard characters are literal for the non-`Like` operators). */
function templateText(resolved: Resolved & { ok: true }): string {
  return resolved.segments.map((s) => (s.t === 'lit' ? s.s : s.c)).join('');
}

// ---------------------------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------------------------

type BaseOperator =
  | 'StringEquals'
  | 'StringEqualsIgnoreCase'
  | 'StringLike'
  | 'Bool'
  | 'ArnEquals'
  | 'ArnLike'
  | 'IpAddress'
  | 'NumericEquals'
  | 'NumericLessThan'
  | 'NumericLessThanEquals'
  | 'NumericGreaterThan'
  | 'NumericGreaterThanEquals'
  | 'Null';

interface Operator {
  base: BaseOperator;
  negated: boolean;
  ifExists: boolean;
  set?: 'ForAnyValue' | 'ForAllValues';
}

const OPERATORS: Record<string, { base: BaseOperator; negated: boolean }> = {
  stringequals: { base: 'StringEquals', negated: false },
  stringnotequals: { base: 'StringEquals', negated: true },
  stringequalsignorecase: { base: 'StringEqualsIgnoreCase', negated: false },
  stringnotequalsignorecase: { base: 'StringEqualsIgnoreCase', negated: true },
  stringlike: { base: 'StringLike', negated: false },
  stringnotlike: { base: 'StringLike', negated: true },
  bool: { base: 'Bool', negated: false },
  arnequals: { base: 'ArnEquals', negated: false },
  arnnotequals: { base: 'ArnEquals', negated: true },
  arnlike: { base: 'ArnLike', negated: false },
  arnnotlike: { base: 'ArnLike', negated: true },
  ipaddress: { base: 'IpAddress', negated: false },
  notipaddress: { base: 'IpAddress', negated: true },
  numericequals: { base: 'NumericEquals', negated: false },
  numericnotequals: { base: 'NumericEquals', negated: true },
  numericlessthan: { base: 'NumericLessThan', negated: false },
  numericlessthanequals: { base: 'NumericLessThanEquals', negated: false },
  numericgreaterthan: { base: 'NumericGreaterThan', negated: false },
  numericgreaterthanequals: { base: 'NumericGreaterThanEquals', negated: false },
  null: { base: 'Null', negated: false },
};

const operatorCache = new Map<string, Operator | null>();

/** Operator names are matched case-insensitively; unknown ones give null. */
function parseOperator(name: string): Operator | null {
  const cached = operatorCache.get(name);
  if (cached !== undefined) return cached;
  let rest = name;
  let set: Operator['set'];
  const prefix = /^(ForAnyValue|ForAllValues):/i.exec(rest);
  if (prefix) {
    set = prefix[1]!.toLowerCase() === 'foranyvalue' ? 'ForAnyValue' : 'ForAllValues';
    rest = rest.slice(prefix[0].length);
  }
  let ifExists = false;
  if (/IfExists$/i.test(rest)) {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  const known = OPERATORS[rest.toLowerCase()];
  let op: Operator | null = null;
  if (known && !(known.base === 'Null' && (ifExists || set))) {
    op = { base: known.base, negated: known.negated, ifExists };
    if (set) op.set = set;
  }
  operatorCache.set(name, op);
  return op;
}

function normalizeIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1]! : ip;
}

function parseCidr(value: string): { address: string; prefix: number; type: 'ipv4' | 'ipv6' } | null {
  const [addrRaw, prefixRaw, ...extra] = value.trim().split('/');
  if (extra.length > 0 || addrRaw === undefined) return null;
  const address = normalizeIp(addrRaw);
  const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : null;
  if (!type) return null;
  const max = type === 'ipv4' ? 32 : 128;
  if (prefixRaw === undefined) return { address, prefix: max, type };
  if (!/^\d{1,3}$/.test(prefixRaw)) return null;
  const prefix = Number(prefixRaw);
  return prefix <= max ? { address, prefix, type } : null;
}

function ipInCidr(ip: string, cidr: string): boolean {
  const block = parseCidr(cidr);
  const addr = normalizeIp(ip.trim());
  const type = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : null;
  if (!block || !type || type !== block.type) return false;
  const list = new BlockList();
  list.addSubnet(block.address, block.prefix, block.type);
  return list.check(addr, type);
}

function compareNumbers(base: BaseOperator, a: number, b: number): boolean {
  switch (base) {
    case 'NumericEquals':
      return a === b;
    case 'NumericLessThan':
      return a < b;
    case 'NumericLessThanEquals':
      return a <= b;
    case 'NumericGreaterThan':
      return a > b;
    case 'NumericGreaterThanEquals':
      return a >= b;
    default:
      return false;
  }
}

/** Does one context value satisfy one (already substituted) policy value, for the positive form of the operator? */
function valueMatches(base: BaseOperator, ctxValue: string, tpl: ValueTemplate, resolved: Resolved & { ok: true }): boolean {
  switch (base) {
    case 'StringEquals':
      return ctxValue === templateText(resolved);
    case 'StringEqualsIgnoreCase':
      return ctxValue.toLowerCase() === templateText(resolved).toLowerCase();
    case 'StringLike':
    case 'ArnLike':
    case 'ArnEquals': // IAM treats ArnEquals like ArnLike: wildcards are allowed in both.
      return templateRegExp(tpl, resolved).test(ctxValue);
    case 'Bool':
      return ctxValue.toLowerCase() === templateText(resolved).toLowerCase();
    case 'IpAddress':
      return ipInCidr(ctxValue, templateText(resolved));
    default: {
      const a = Number(ctxValue);
      const b = Number(templateText(resolved));
      if (ctxValue.trim() === '' || Number.isNaN(a) || Number.isNaN(b)) return false;
      return compareNumbers(base, a, b);
    }
  }
}

interface StatementScratch {
  missing: Set<string>;
  unsupported: Set<string>;
}

function conditionHolds(cond: ParsedCondition, ctx: EvalContext, scratch: StatementScratch): boolean {
  const op = parseOperator(cond.operator);
  if (!op) {
    scratch.unsupported.add(cond.operator);
    return false;
  }

  const raw = lookup(ctx, cond.key);
  const ctxValues = raw === undefined ? undefined : Array.isArray(raw) ? raw : [raw];

  if (op.base === 'Null') {
    // {"Null": {"key": "true"}} holds when the key is absent; "false" when it is present.
    const resolvedNull = cond.values.map((v) => resolveTemplate(v, ctx, scratch.missing));
    if (resolvedNull.some((r) => !r.ok)) return false;
    const absent = ctxValues === undefined;
    return resolvedNull.some((r) => {
      const want = templateText(r as Resolved & { ok: true }).toLowerCase();
      return want === 'true' ? absent : want === 'false' ? !absent : false;
    });
  }

  if (ctxValues === undefined) {
    scratch.missing.add(canonicalKey(cond.key));
    return op.ifExists || op.negated || op.set === 'ForAllValues';
  }

  const resolved: Array<{ tpl: ValueTemplate; r: Resolved & { ok: true } }> = [];
  for (const tpl of cond.values) {
    const r = resolveTemplate(tpl, ctx, scratch.missing);
    if (!r.ok) return false; // unresolved variable in a condition value: the statement does not match
    resolved.push({ tpl, r });
  }

  const elementOk = (v: string): boolean => {
    const any = resolved.some(({ tpl, r }) => valueMatches(op.base, v, tpl, r));
    return op.negated ? !any : any;
  };
  if (op.set === 'ForAllValues') return ctxValues.every(elementOk);
  if (op.set === 'ForAnyValue') return ctxValues.some(elementOk);
  return op.negated ? ctxValues.every(elementOk) : ctxValues.some(elementOk);
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------------------------

function statementMatches(
  stmt: ParsedStatement,
  action: string,
  resource: string,
  ctx: EvalContext,
  scratch: StatementScratch,
): boolean {
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
  for (const tpl of templates) {
    const r = resolveTemplate(tpl, ctx, scratch.missing);
    if (r.ok) resolved.push({ tpl, r });
    else allResolved = false;
  }
  if (!allResolved) return false;
  const anyResource = resolved.some(({ tpl, r }) => templateRegExp(tpl, r).test(resource));
  if (stmt.resources ? !anyResource : anyResource) return false;

  // 3. Conditions: all must hold. Evaluate all of them so every missing key is reported.
  let ok = true;
  for (const cond of stmt.conditions) {
    if (!conditionHolds(cond, ctx, scratch)) ok = false;
  }
  return ok;
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
  const scratch: StatementScratch = { missing: new Set(), unsupported: new Set() };

  for (const { policyName, document } of policies) {
    const policy = parsePolicy(document, policyName);
    let allowed = false;
    let denied = false;
    for (const stmt of policy.statements) {
      if (!statementMatches(stmt, action, resourceArn, ctx, scratch)) continue;
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

  const decision: AuthDecision = deniedBy.length > 0 ? 'EXPLICIT_DENY' : allowedBy.length > 0 ? 'ALLOWED' : 'IMPLICIT_DENY';
  return {
    decision,
    allowedBy,
    deniedBy,
    implicitDenyPolicies,
    missingContextValues: [...scratch.missing],
    matchedStatements,
    unsupportedConditionOperators: [...scratch.unsupported],
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
