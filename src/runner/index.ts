import type { Check, DependencyResults, RunnerEvent } from '../model/check.js';
import type { CheckResult } from '../model/index.js';
import { errorMessage } from '../errors.js';

export interface RunOptions {
  /** Hard ceiling per check: a check still running then becomes an `error` result. */
  guardMs: number;
  onEvent?: (event: RunnerEvent) => void;
}

function errorResult(check: Check<unknown>, code: string, summary: string, durationMs: number): CheckResult {
  return {
    id: check.id, route: null, stage: null, title: check.title, status: 'error', code, summary, evidence: {}, durationMs,
    hint: 'This is a problem in iot-doctor itself, not a network verdict. Please report it with the JSON report.',
  };
}

/**
 * Run checks as a dependency graph: each starts as soon as the checks it `needs` have finished, so independent
 * checks (the four routes, the local and the cloud checks) run concurrently. Results come back in catalogue order.
 */
export async function runChecks<C>(checks: readonly Check<C>[], ctx: C, opts: RunOptions): Promise<CheckResult[]> {
  const known = new Set(checks.map((c) => c.id));
  const running = new Map<string, Promise<CheckResult[]>>();

  const start = (check: Check<C>): Promise<CheckResult[]> => {
    const existing = running.get(check.id);
    if (existing) return existing;
    const promise = (async (): Promise<CheckResult[]> => {
      const deps = new Map<string, readonly CheckResult[]>();
      for (const need of check.needs ?? []) {
        if (!known.has(need)) continue;
        deps.set(need, await start(checks.find((c) => c.id === need)!));
      }
      opts.onEvent?.({ type: 'start', checkId: check.id });
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const guard = new Promise<CheckResult[]>((resolve) => {
        timer = setTimeout(
          () => resolve([errorResult(check, 'CHECK_TIMEOUT', `did not finish within ${opts.guardMs} ms`, opts.guardMs)]),
          opts.guardMs,
        );
      });
      let results: CheckResult[];
      try {
        results = await Promise.race([check.run(ctx, deps as DependencyResults), guard]);
      } catch (err) {
        results = [errorResult(check, 'CHECK_CRASHED', `could not complete: ${errorMessage(err)}`, Math.round(performance.now() - started))];
      } finally {
        clearTimeout(timer);
      }
      opts.onEvent?.({ type: 'done', checkId: check.id, results });
      return results;
    })();
    running.set(check.id, promise);
    return promise;
  };

  const all = await Promise.all(checks.map((c) => start(c)));
  return all.flat();
}
