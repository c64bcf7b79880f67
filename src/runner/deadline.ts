/**
 * The one deadline helper of iot-doctor: every "wait at most N ms for this promise" goes through `withDeadline`, so
 * a timeout always clears its timer, always aborts what it cut off, and reads the same everywhere.
 */

/** Options of `withDeadline`. */
export interface DeadlineOptions<T> {
  /**
   * Cancels the wait early (the caller's own signal, e.g. the runner's per-check signal). When it aborts first,
   * `onAbort` decides the value; without `onAbort` the wait settles as a timeout.
   */
  signal?: AbortSignal;
  /** The value when the deadline passes first. Without it, the promise rejects with a `DeadlineError`. */
  onTimeout?: () => T;
  /** The value when `signal` aborts first. Defaults to `onTimeout` (or the `DeadlineError` rejection). */
  onAbort?: () => T;
  /**
   * Aborted when the deadline passes or `signal` aborts, so the work being waited for can stop (close its sockets).
   * Pass the controller whose signal the work listens to.
   */
  controller?: AbortController;
}

/** Rejection of `withDeadline` when the deadline passed (or the signal aborted) and no `onTimeout` was given. */
export class DeadlineError extends Error {
  /** `timeout` when the deadline passed, `aborted` when the caller's signal aborted first. */
  readonly reason: 'timeout' | 'aborted';

  /** @param ms the deadline that passed, in milliseconds; @param reason what ended the wait. */
  constructor(ms: number, reason: 'timeout' | 'aborted' = 'timeout') {
    super(reason === 'timeout' ? `no result within ${ms} ms` : 'aborted');
    this.name = 'DeadlineError';
    this.reason = reason;
  }
}

/**
 * Wait for `work` at most `ms` milliseconds.
 * - `work` settles first: its value (or rejection) is returned; the timer is cleared.
 * - the deadline passes first: `opts.onTimeout()` is returned, or a `DeadlineError` rejects; `opts.controller` is
 *   aborted with that error so the work can release its resources. A late result of `work` is ignored (and a late
 *   rejection never becomes an unhandled rejection).
 * - `opts.signal` aborts first: the same, with `opts.onAbort` (default `onTimeout`).
 * `ms` must be a finite number ≥ 0; `Infinity` means "no deadline" (only the signal ends the wait).
 */
export function withDeadline<T>(work: Promise<T>, ms: number, opts: DeadlineOptions<T> = {}): Promise<T> {
  const { signal, onTimeout, onAbort, controller } = opts;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', abortListener);
      settle();
    };
    const cut = (reason: 'timeout' | 'aborted'): void => {
      const error = new DeadlineError(ms, reason);
      const fallback = reason === 'aborted' ? (onAbort ?? onTimeout) : onTimeout;
      finish(() => {
        controller?.abort(error);
        if (fallback) {
          try {
            resolve(fallback());
          } catch (err) {
            reject(err);
          }
        } else reject(error);
      });
    };
    const abortListener = (): void => cut('aborted');
    if (signal?.aborted) {
      work.catch(() => undefined);
      cut('aborted');
      return;
    }
    signal?.addEventListener('abort', abortListener, { once: true });
    if (Number.isFinite(ms)) timer = setTimeout(() => cut('timeout'), Math.max(0, ms));
    work.then(
      (value) => finish(() => resolve(value)),
      (err: unknown) => finish(() => reject(err)),
    );
  });
}

/**
 * The one deadline of a whole run (issue 17: total wall time ≤ `--timeout` plus a small constant). Every network
 * step keeps its own deadline (`--timeout`, in ms) but never waits past the run's: `stepMs` cuts it to what remains.
 * Times from `performance.now()`, in milliseconds.
 */
export class RunDeadline {
  /** `performance.now()` at which the run must be over. */
  at: number;

  /** @param totalMs the whole run's budget in ms (`--timeout`); @param start when it began (`performance.now()`). */
  constructor(
    readonly totalMs: number,
    start = performance.now(),
  ) {
    this.at = start + totalMs;
  }

  /**
   * Start the budget again from now: the checks start after local work (loading code, planning the routes) that a
   * loaded machine may make long, and a step starved by it would call a refused port a silent one.
   */
  restart(): void {
    this.at = performance.now() + this.totalMs;
  }

  /** Milliseconds left before the run's deadline (0 once it passed). */
  remainingMs(): number {
    return Math.max(0, Math.floor(this.at - performance.now()));
  }

  /** The deadline of one step: `ownMs` (its own, in ms), cut to what remains of the run. */
  stepMs(ownMs: number): number {
    return Math.min(ownMs, this.remainingMs());
  }

  /** True once the run's deadline passed. */
  get passed(): boolean {
    return performance.now() >= this.at;
  }
}

/** The deadline of one network step of a run, in ms: `--timeout`, cut to what remains of the run. */
export function stepMs(ctx: { target: { timeoutMs: number }; deadline: RunDeadline }): number {
  return ctx.deadline.stepMs(ctx.target.timeoutMs);
}
