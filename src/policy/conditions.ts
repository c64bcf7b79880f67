/**
 * Condition blocks (facts §7, IAM condition operators): String*, Bool, Arn*, (Not)IpAddress, Numeric*, Null, with
 * `IfExists` and `ForAnyValue:` / `ForAllValues:`; unknown operators make their statement not match.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { absenceIsKnown, canonicalKey, lookup } from './context.js';
import { resolveTemplate, templateRegExp, templateText } from './match.js';
import type { Resolved } from './match.js';
import type { EvalContext, ParsedCondition, ValueTemplate } from './types.js';

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
export function parseOperator(name: string): Operator | null {
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

/**
 * A CIDR block for (Not)IpAddress (IAM condition operators, facts §7): IPv4 or IPv6 address, optional `/prefix`
 * (default: the full length), IPv4-mapped IPv6 reduced to IPv4. Null when it is not a valid block; never throws.
 */
export function parseCidr(value: string): { address: string; prefix: number; type: 'ipv4' | 'ipv6' } | null {
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
function valueMatches(
  base: BaseOperator,
  ctxValue: string,
  tpl: ValueTemplate,
  resolved: Resolved & { ok: true },
): boolean {
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

export interface StatementScratch {
  missing: Set<string>;
  unsupported: Set<string>;
  /** Keys the tool never receives that a condition or resource depended on. */
  undecidable: Set<string>;
}

/** A three-valued answer: `unknown` when it depends on a value the tool does not have. */
export type Tri = boolean | 'unknown';

/**
 * True when one condition (operator, key, values) holds in the context, by IAM rules (facts §7): values are
 * alternatives, negated operators mean "none of them", a missing key is false except for negated operators,
 * `IfExists`, `ForAllValues:` and `Null`. Unknown operators and missing keys are noted in `scratch`. Never throws.
 */
export function conditionHolds(cond: ParsedCondition, ctx: EvalContext, scratch: StatementScratch): Tri {
  const op = parseOperator(cond.operator);
  if (!op) {
    scratch.unsupported.add(cond.operator);
    return false;
  }

  const raw = lookup(ctx, cond.key);
  const ctxValues = raw === undefined ? undefined : Array.isArray(raw) ? raw : [raw];
  if (ctxValues === undefined && !absenceIsKnown(ctx, cond.key)) {
    // A key the tool never receives (iot:ConnectAttributes, iot:LastWillTopic, ...): IAM's absent-key rules
    // would guess; the honest answer is that this condition cannot be decided here.
    scratch.missing.add(canonicalKey(cond.key));
    scratch.undecidable.add(canonicalKey(cond.key));
    return 'unknown';
  }

  if (op.base === 'Null') {
    // {"Null": {"key": "true"}} holds when the key is absent; "false" when it is present.
    const resolvedNull = cond.values.map((v) => resolveTemplate(v, ctx, scratch.missing, scratch.undecidable));
    if (resolvedNull.some((r) => !r.ok && r.unknown)) return 'unknown';
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
    const r = resolveTemplate(tpl, ctx, scratch.missing, scratch.undecidable);
    // unresolved variable in a condition value: the statement does not match (or cannot be decided)
    if (!r.ok) return r.unknown ? 'unknown' : false;
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
