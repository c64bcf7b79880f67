/**
 * Parsing AWS IoT policy documents (IAM policy grammar, facts §7): validation with `PolicySyntaxError`, action and
 * resource lists, conditions, and `${…}` variable templates (only with `"Version": "2012-10-17"`). Cached.
 */
import { jsonSyntaxReason } from '../errors.js';
import { parseCidr, parseOperator } from './conditions.js';
import { PolicySyntaxError } from './types.js';
import type { ParsedCondition, ParsedPolicy, ParsedStatement, ValueSegment, ValueTemplate } from './types.js';

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
      throw new PolicySyntaxError(`document is not valid JSON (${jsonSyntaxReason(err, doc)})`, '', policyName);
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
    parseStatement(
      s,
      i,
      Array.isArray(rawStatement) ? `Statement[${i}]` : 'Statement',
      variablesEnabled,
      warnings,
      fail,
    ),
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
    fail(
      hasResource ? 'has both "Resource" and "NotResource"; use one' : 'has neither "Resource" nor "NotResource"',
      path,
    );
  }
  if (hasResource) {
    stmt.resources = stringList(raw['Resource'], `${path}.Resource`, fail).map((r) =>
      parseTemplate(r, variablesEnabled),
    );
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
            if (!v.includes('${') && !parseCidr(v))
              fail(`"${v}" is not an IP address or CIDR block`, `${opPath}.${key}`);
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
  // An empty list is a valid condition value: AWS documents
  // `"ForAllValues:StringEquals": {"iot:ConnectAttributes": []}` (connect-policy.html, persistent sessions).
  if (Array.isArray(v)) return v.map((x, i) => one(x, `${path}[${i}]`));
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
