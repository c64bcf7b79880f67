/**
 * `check --repeat N [--interval MS]`: the credential files are read once, then the routes are probed N times. The
 * first attempt runs the whole catalogue; the later ones only the route checks, each with a fresh DNS answer and
 * route hub. The report keeps, per route, the first failed attempt (so its details and the diagnosis explain the
 * failure), or the last attempt when every one passed, and adds per-stage statistics (`report.repeat`).
 */
import type { DoctorCheck } from '../checks/types.js';
import type { CheckResult, RepeatSummary, RouteId, RouteRepeatStats, StageRepeatStats } from './model/index.js';
import { UsageError } from './errors.js';
import { STAGE_IDS, routesIn } from './model/index.js';
import { defaultClientId, type Target } from './target.js';

/** Most attempts a run may make; more is a usage error. */
export const MAX_REPEAT = 1000;
/** Longest pause between attempts, ms (one hour). */
export const MAX_INTERVAL_MS = 3_600_000;
/** Default pause between attempts, ms. */
export const DEFAULT_INTERVAL_MS = 1000;

/** How often and how far apart to probe. */
export interface RepeatOptions {
  /** Attempts, 1..MAX_REPEAT. */
  count: number;
  /** Pause after one attempt ends and before the next starts, ms. */
  intervalMs: number;
}

/** One attempt: its results and its wall time in ms. */
export interface Attempt {
  results: CheckResult[];
  durationMs: number;
}

const BAD = new Set(['fail', 'error']);

/**
 * `--repeat N` (1..MAX_REPEAT, default 1) and `--interval MS` (0..MAX_INTERVAL_MS, default 1000) as options;
 * undefined for a single run. Throws UsageError with one line for a value out of range or an interval without repeat.
 */
export function parseRepeat(count: number | undefined, intervalMs: number | undefined): RepeatOptions | undefined {
  const n = count ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > MAX_REPEAT)
    throw new UsageError(`--repeat must be a whole number 1..${MAX_REPEAT}, got ${n}`);
  const interval = intervalMs ?? DEFAULT_INTERVAL_MS;
  if (!Number.isFinite(interval) || interval < 0 || interval > MAX_INTERVAL_MS) {
    throw new UsageError(`--interval must be 0..${MAX_INTERVAL_MS} ms, got ${interval}`);
  }
  if (intervalMs !== undefined && n === 1) throw new UsageError('--interval needs --repeat N with N of 2 or more');
  return n > 1 ? { count: n, intervalMs: interval } : undefined;
}

/** Nearest-rank percentile (P in 0..100) of ascending VALUES; undefined for none. */
export function nearestRank(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

function routeFailed(results: readonly CheckResult[], route: RouteId): boolean {
  return results.some((r) => r.route === route && r.stage && BAD.has(r.status));
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function stageStats(attempts: readonly Attempt[], route: RouteId): StageRepeatStats[] {
  const out: StageRepeatStats[] = [];
  for (const stage of STAGE_IDS) {
    const cells = attempts
      .map((a) => a.results.find((r) => r.route === route && r.stage === stage))
      .filter((c): c is CheckResult => !!c);
    if (cells.length === 0) continue;
    const reached = cells.filter((c) => c.status !== 'skip');
    const failed = reached.filter((c) => BAD.has(c.status)).length;
    const times = reached.map((c) => c.durationMs).sort((a, b) => a - b);
    const stats: StageRepeatStats = {
      route,
      stage,
      attempts: reached.length,
      failed,
      failureRatio: reached.length ? failed / reached.length : 0,
    };
    if (times.length > 0) {
      stats.p50Ms = round(nearestRank(times, 50)!);
      stats.p95Ms = round(nearestRank(times, 95)!);
      stats.maxMs = round(times[times.length - 1]!);
    }
    out.push(stats);
  }
  return out;
}

/**
 * Statistics over ATTEMPTS (each attempt's route results; other results are ignored): per route the share of
 * attempts in which any stage failed, per stage its share of failures among the attempts that reached it and its
 * nearest-rank p50/p95 and maximum duration.
 */
export function summarizeAttempts(attempts: readonly Attempt[], intervalMs: number): RepeatSummary {
  // Every route instance the attempts probed (`mqtt-8883 via proxy`, `https-443 IPv6`), not only the default ids.
  const routes = routesIn(attempts.flatMap((a) => a.results));
  const routeStats: RouteRepeatStats[] = routes.map((route) => {
    const failed = attempts.filter((a) => routeFailed(a.results, route)).length;
    return { route, attempts: attempts.length, failed, failureRatio: attempts.length ? failed / attempts.length : 0 };
  });
  return {
    attempts: attempts.length,
    intervalMs,
    failedAttempts: attempts.filter((a) => routes.some((route) => routeFailed(a.results, route))).length,
    attemptDurationsMs: attempts.map((a) => Math.round(a.durationMs)),
    routes: routeStats,
    stages: routes.flatMap((route) => stageStats(attempts, route)),
  };
}

/**
 * The results a repeated run reports: the first attempt's non-route results, and per route the cells of its first
 * failed attempt, or of the last attempt when none failed. Order follows the first attempt.
 */
export function representativeResults(attempts: readonly Attempt[]): CheckResult[] {
  const first = attempts[0]?.results ?? [];
  const pick = new Map<string, readonly CheckResult[]>();
  for (const route of routesIn(attempts.flatMap((a) => a.results))) {
    const failed = attempts.find((a) => routeFailed(a.results, route));
    pick.set(route, (failed ?? attempts[attempts.length - 1]!).results);
  }
  return first.map((r) => {
    if (!r.route || !r.stage) return r;
    return pick.get(r.route)?.find((c) => c.id === r.id) ?? r;
  });
}

/**
 * The target of an attempt after the first. AWS IoT accepts 1 CONNECT per second per client id (facts §3.1), so
 * the probe's own random client id is renewed for every attempt; a client id the user chose is kept (and the
 * attempts are spaced by `attemptRepeat`).
 */
export function attemptTarget(target: Target): Target {
  return target.clientIdFromUser ? target : { ...target, clientId: defaultClientId() };
}

/**
 * REPEAT as the run applies it to TARGET: with a user-chosen client id on an MQTT route, the pause between attempts
 * is at least 1000 ms, so that the next attempt's CONNECT is not throttled by AWS IoT (facts §3.1: 1 CONNECT per
 * second per client id).
 */
export function attemptRepeat(repeat: RepeatOptions, target: Target): RepeatOptions {
  const mqtt = target.protocol && target.routes.some((r) => r.startsWith('mqtt'));
  return target.clientIdFromUser && mqtt ? { ...repeat, intervalMs: Math.max(repeat.intervalMs, 1000) } : repeat;
}

/** Only the route checks (ids `route.<route>`): what the attempts after the first re-run. */
export function routeChecksOnly(checks: readonly DoctorCheck[]): DoctorCheck[] {
  return checks.filter((c) => c.id.startsWith('route.'));
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs CHECKS once with FIRSTCTX, then the route checks COUNT-1 more times, each with a fresh context from
 * NEXTCTX (fresh DNS answer and route hub, same credentials), pausing INTERVALMS between attempts. RUN is the
 * catalogue runner (runChecks with the run's guard). Returns the representative results and the statistics.
 */
export async function runRepeated<C>(
  repeat: RepeatOptions,
  checks: readonly DoctorCheck[],
  firstCtx: C,
  nextCtx: () => C,
  run: (checks: readonly DoctorCheck[], ctx: C) => Promise<CheckResult[]>,
): Promise<{ results: CheckResult[]; summary: RepeatSummary }> {
  const attempts: Attempt[] = [];
  const routeChecks = routeChecksOnly(checks);
  for (let i = 0; i < repeat.count; i++) {
    if (i > 0) await pause(repeat.intervalMs);
    const started = performance.now();
    const results = await run(i === 0 ? checks : routeChecks, i === 0 ? firstCtx : nextCtx());
    attempts.push({ results, durationMs: performance.now() - started });
  }
  return { results: representativeResults(attempts), summary: summarizeAttempts(attempts, repeat.intervalMs) };
}
