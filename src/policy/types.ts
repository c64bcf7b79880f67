/**
 * The shapes of local AWS IoT policy evaluation (facts §7): documents, the evaluation context, decisions, parsed
 * policies; the resource ARNs and the actions TestAuthorization knows.
 */

export type IotAction =
  'iot:Connect' | 'iot:Publish' | 'iot:Subscribe' | 'iot:Receive' | 'iot:RetainPublish' | (string & {});

export interface PolicyDocumentInput {
  policyName: string;
  /** The policy JSON as text or as a parsed object, or the result of `parsePolicy`. */
  document: string | object;
}

export interface EvalContext {
  /** `${iot:ClientId}` */
  clientId?: string;
  /**
   * `${iot:Connection.Thing.ThingName}`: set only when a thing named like the client id is attached to the
   * principal.
   */
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
  /**
   * True when the context holds everything AWS would know about the request (the lab, which sees the whole CONNECT):
   * an absent key is then really absent and IAM's absent-key rules apply. Otherwise (the default, the tool guessing
   * for a device it cannot see), a key outside the fields above and `extra` — `iot:ConnectAttributes`,
   * `iot:LastWillTopic`, `iot:DomainName`, ... — is unknown, and a statement that depends on it cannot be decided.
   */
  complete?: boolean;
}

/**
 * `CANNOT_DECIDE`: a statement that would change the answer depends on a value the tool does not have (see
 * `EvalContext.complete`); `undecidableKeys` names them. Callers must not treat it as ALLOWED or as a deny.
 */
export type AuthDecision = 'ALLOWED' | 'IMPLICIT_DENY' | 'EXPLICIT_DENY' | 'CANNOT_DECIDE';

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
  /** Context keys the tool does not receive that a deciding statement depends on (non-empty iff CANNOT_DECIDE). */
  undecidableKeys: string[];
}

/**
 * A policy document that AWS IoT would reject (IAM grammar, facts §7), with where (`path`) and in which policy.
 * Thrown by `parsePolicy`; its message names the policy and the path.
 */
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
  { t: 'lit'; s: string } | { t: 'wild'; c: '*' | '?' } | { t: 'var'; name: string; defaultValue?: string };

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

/**
 * The ARN of an AWS IoT resource (facts §7): `arn:<partition>:iot:<region>:<account>:<client|topic|topicfilter|
 * thing>/<name>`, the name verbatim (MQTT `+`/`#` and `/` are not escaped).
 */
export function resourceArn(
  kind: ResourceKind,
  name: string,
  region: string,
  account: string,
  partition = 'aws',
): string {
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
