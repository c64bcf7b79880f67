/**
 * Matching actions and resources (facts §7): IAM-style globs (`*` any run, `?` one character), actions without case,
 * resources with case; `${…}` templates resolved from the context, a substituted value always literal.
 */
import { absenceIsKnown, canonicalKey, leftUnsubstituted, lookup } from './context.js';
import type { EvalContext, ValueSegment, ValueTemplate } from './types.js';

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
/**
 * True when an Action/NotAction pattern matches an action name (facts §7): case-insensitive, `*` and `?` wildcards,
 * no variable substitution. Patterns are compiled once and cached.
 */
export function actionMatches(pattern: string, action: string): boolean {
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
/** `unknown`: a variable the tool never receives (see `absenceIsKnown`), so whether it resolves at AWS is unknown. */
export type Resolved = { ok: true; segments: PlainSegment[] } | { ok: false; unknown: boolean };

/**
 * Substitute the variables of a template (facts §7). Missing ones are added to `missing`; those whose absence is not
 * known (keys the tool never receives) also to `undecidable`, and make the result `unknown`. A certificate field
 * holding `* $ + ? #` is left as its literal `${...}` text, as AWS IoT does (cert-policy-variables.html).
 */
export function resolveTemplate(
  tpl: ValueTemplate,
  ctx: EvalContext,
  missing: Set<string>,
  undecidable?: Set<string>,
): Resolved {
  if (!tpl.hasVars) return { ok: true, segments: tpl.segments as PlainSegment[] };
  const out: PlainSegment[] = [];
  let ok = true;
  let unknown = false;
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
      if (!absenceIsKnown(ctx, seg.name)) {
        undecidable?.add(canonicalKey(seg.name));
        unknown = true;
      }
      ok = false;
      continue;
    }
    out.push({ t: 'lit', s: leftUnsubstituted(seg.name, value) ? `\${${seg.name}}` : value });
  }
  return ok ? { ok: true, segments: out } : { ok: false, unknown };
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

/**
 * The anchored RegExp of a resolved Resource/Condition template (facts §7): literal text escaped, wildcards as IAM
 * globs (`*` any run including `/`, `?` one character), substituted values literal. Cached for variable-free templates.
 */
export function templateRegExp(tpl: ValueTemplate, resolved: Resolved & { ok: true }, ignoreCase = false): RegExp {
  if (tpl.hasVars || ignoreCase) return segmentsToRegExp(resolved, ignoreCase);
  let re = templateRegexCache.get(tpl);
  if (!re) {
    re = segmentsToRegExp(resolved, false);
    templateRegexCache.set(tpl, re);
  }
  return re;
}

/** The resolved value as plain text (wildcard characters are literal for the non-`Like` operators). */
export function templateText(resolved: Resolved & { ok: true }): string {
  return resolved.segments.map((s) => (s.t === 'lit' ? s.s : s.c)).join('');
}
