/**
 * The one way to build a `CheckResult`: a check (or route stage) describes what it saw as an `Outcome`, and
 * `buildResult` adds the check's metadata (id, title, route, stage) and the timing. Also the one set of skip codes
 * every check uses when it cannot run.
 */
import type { CheckResult, Evidence, RouteId, StageId, Status } from './index.js';

/**
 * The codes of a `skip` that is not a verdict of the check itself:
 * - `BLOCKED`: a check it reads failed (evidence `blockedBy` = that check id, `blockingCode` = its code);
 * - `INPUT_MISSING`: an input it needs was not given (evidence `missing` = the flag);
 * - `SKIPPED`: a route stage not reached because an earlier stage of the same connection failed.
 * The values are part of the JSON report (schemaVersion 1) and do not change.
 */
export const SKIP_CODES = {
  BLOCKED: 'BLOCKED',
  INPUT_MISSING: 'INPUT_MISSING',
  SKIPPED: 'SKIPPED',
} as const;
export type SkipCode = (typeof SKIP_CODES)[keyof typeof SKIP_CODES];

/** What a check or stage saw, without its id, title or timing. `code` is the check's stable SCREAMING_SNAKE code. */
export interface Outcome<C extends string = string> {
  status: Status;
  code: C;
  /** One line: what was seen. */
  summary: string;
  /** Facts only; never key material. Defaults to `{}`. */
  evidence?: Evidence;
  /** What to do; left out of the result when empty. */
  hint?: string | undefined;
  /** The command that shows the same thing by hand; left out when empty. */
  reproduce?: string | undefined;
}

/** The check's identity: `id` and `title`, plus `route`/`stage` for route matrix cells (null elsewhere). */
export interface ResultMeta {
  id: string;
  title: string;
  route?: RouteId | null;
  stage?: StageId | null;
}

/** How long the result took: `startedAt` from `performance.now()` (ms), or a fixed `durationMs`. */
export type ResultTiming = { startedAt: number } | { durationMs: number };

/** Milliseconds since `startedAt` (a `performance.now()` reading), rounded to the microsecond. */
export function elapsedMs(startedAt: number): number {
  return Math.round((performance.now() - startedAt) * 1000) / 1000;
}

/**
 * An outcome plus the check's metadata as a `CheckResult`. `timing` is a `performance.now()` start in ms (a number
 * or `{ startedAt }`) or a fixed `{ durationMs }`. `id` overrides `meta.id` for checks with several results
 * (`<check id>:<CODE>`, `<check id>:<route>`). Pure apart from reading the monotonic clock; never throws.
 */
export function buildResult(
  meta: ResultMeta,
  timing: number | ResultTiming,
  outcome: Outcome,
  id?: string,
): CheckResult {
  const durationMs =
    typeof timing === 'number'
      ? elapsedMs(timing)
      : 'startedAt' in timing
        ? elapsedMs(timing.startedAt)
        : timing.durationMs;
  return {
    id: id ?? meta.id,
    route: meta.route ?? null,
    stage: meta.stage ?? null,
    title: meta.title,
    status: outcome.status,
    code: outcome.code,
    summary: outcome.summary,
    evidence: outcome.evidence ?? {},
    ...(outcome.hint ? { hint: outcome.hint } : {}),
    ...(outcome.reproduce ? { reproduce: outcome.reproduce } : {}),
    durationMs,
  };
}

/**
 * The `BLOCKED` skip: `blockedBy` (a check id such as `files.cert`) failed with `blockingCode`. The summary defaults
 * to `blocked by <blockedBy>: <blockingCode>`; `extra` evidence is added after `blockedBy`/`blockingCode`.
 */
export function blockedOutcome(
  blockedBy: string,
  blockingCode: string,
  summary = `blocked by ${blockedBy}: ${blockingCode}`,
  extra: Evidence = {},
): Outcome<typeof SKIP_CODES.BLOCKED> {
  return { status: 'skip', code: SKIP_CODES.BLOCKED, summary, evidence: { blockedBy, blockingCode, ...extra } };
}

/** The `INPUT_MISSING` skip: `flag` (e.g. `--cert`) was not given; `summary` says what is missing in words. */
export function inputMissingOutcome(flag: string, summary: string): Outcome<typeof SKIP_CODES.INPUT_MISSING> {
  return { status: 'skip', code: SKIP_CODES.INPUT_MISSING, summary, evidence: { missing: flag } };
}
