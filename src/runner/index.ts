/**
 * The runner: schedules checks as a dependency graph, gives each an AbortSignal and a deadline, and turns a check
 * that crashed or overran into an `error` result (a tool problem, not a network verdict).
 */
import type { Check, DependencyResults, RunnerEvent } from '../model/check.js';
import { isRouteCheckId, type CheckResult } from '../model/index.js';
import { errorMessage } from '../errors.js';
import { withDeadline } from './deadline.js';

/** Codes of the results the runner itself makes (status `error`). */
export const RUNNER_CODES = ['CHECK_TIMEOUT', 'CHECK_CRASHED'] as const;
/** A code of a result the runner makes. */
export type RunnerCode = (typeof RUNNER_CODES)[number];

/** Options of `runChecks`. */
export interface RunOptions {
  /** Hard ceiling per check, in milliseconds: a check still running then is aborted and becomes an `error` result. */
  guardMs: number;
  onEvent?: (event: RunnerEvent) => void;
  /**
   * Check ids that exist but may be absent from this run (a `needs` entry naming one is simply not waited for).
   * When given, every `needs` entry must be a check of the run, a route check of a registered route kind, or known
   * here (`CatalogueError` otherwise). Without it, a need absent from the run is not waited for (the whole catalogue
   * is validated once when checks/index.ts loads).
   */
  isKnownCheck?: (id: string) => boolean;
}

/** A catalogue that cannot run: a `needs` entry names no check (a typo, or a check that was renamed). */
export class CatalogueError extends Error {
  /** @param problems one line per bad entry: "<check id> needs <id>, which is no check" */
  constructor(readonly problems: readonly string[]) {
    super(`the check catalogue is inconsistent: ${problems.join('; ')}`);
    this.name = 'CatalogueError';
  }
}

/**
 * Throws `CatalogueError` when a `needs` entry of a check is neither a check of `checks`, nor a route check of a
 * registered route kind, nor accepted by `isKnownCheck`, or when two checks share an id.
 */
export function validateCatalogue(checks: readonly Check<unknown>[], isKnownCheck?: (id: string) => boolean): void {
  const ids = new Set<string>();
  const problems: string[] = [];
  for (const c of checks) {
    if (ids.has(c.id)) problems.push(`two checks have the id ${c.id}`);
    ids.add(c.id);
  }
  for (const c of checks) {
    for (const need of c.needs ?? []) {
      if (ids.has(need) || isRouteCheckId(need) || isKnownCheck?.(need)) continue;
      problems.push(`${c.id} needs ${need}, which is no check`);
    }
  }
  if (problems.length > 0) throw new CatalogueError(problems);
}

function errorResult(check: Check<unknown>, code: RunnerCode, summary: string, durationMs: number): CheckResult {
  return {
    id: check.id,
    route: null,
    stage: null,
    title: check.title,
    status: 'error',
    code,
    summary,
    evidence: {},
    durationMs,
    hint: 'This is a problem in iot-doctor itself, not a network verdict. Please report it with the JSON report.',
  };
}

/** Run one check with its deadline and its own AbortSignal (aborted at the deadline, so its sockets close). */
async function runOne<C>(check: Check<C>, ctx: C, deps: DependencyResults, opts: RunOptions): Promise<CheckResult[]> {
  const started = performance.now();
  const controller = new AbortController();
  try {
    return await withDeadline(check.run(ctx, deps, controller.signal), opts.guardMs, {
      controller,
      onTimeout: () => [errorResult(check, 'CHECK_TIMEOUT', `did not finish within ${opts.guardMs} ms`, opts.guardMs)],
    });
  } catch (err) {
    const ms = Math.round(performance.now() - started);
    return [errorResult(check, 'CHECK_CRASHED', `could not complete: ${errorMessage(err)}`, ms)];
  }
}

/**
 * Run checks as a dependency graph: each starts as soon as the checks it `needs` have finished, so independent
 * checks (the routes, the local and the cloud checks) run concurrently. Results come back in catalogue order.
 * With `opts.isKnownCheck`, throws `CatalogueError` (before any check starts) when a `needs` entry names no check.
 * Every check gets an AbortSignal, aborted when it overruns `opts.guardMs`; it then becomes a CHECK_TIMEOUT result.
 */
export async function runChecks<C>(checks: readonly Check<C>[], ctx: C, opts: RunOptions): Promise<CheckResult[]> {
  if (opts.isKnownCheck) validateCatalogue(checks as readonly Check<unknown>[], opts.isKnownCheck);
  const byId = new Map(checks.map((c) => [c.id, c]));
  const running = new Map<string, Promise<CheckResult[]>>();

  const start = (check: Check<C>): Promise<CheckResult[]> => {
    const existing = running.get(check.id);
    if (existing) return existing;
    const promise = (async (): Promise<CheckResult[]> => {
      const deps = new Map<string, readonly CheckResult[]>();
      for (const need of check.needs ?? []) {
        const dep = byId.get(need);
        if (dep) deps.set(need, await start(dep));
      }
      opts.onEvent?.({ type: 'start', checkId: check.id });
      const results = await runOne(check, ctx, deps, opts);
      opts.onEvent?.({ type: 'done', checkId: check.id, results });
      return results;
    })();
    running.set(check.id, promise);
    return promise;
  };

  const all = await Promise.all(checks.map((c) => start(c)));
  return all.flat();
}
