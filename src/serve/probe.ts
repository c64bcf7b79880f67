/**
 * One `/probe`: the same run as `check` (runDoctor), for the module's options and the target endpoint, within the
 * deadline Prometheus gives. Each network step gets at most the module's `timeout` and at most 80% of the deadline,
 * so a blocked port still ends in a complete report; if the run is not done at the deadline, the answer is built
 * from the checks that finished plus one `PROBE_DEADLINE` error, and the run's slot stays taken until it ends.
 */
import { UsageError } from '../errors.js';
import type { CheckResult, Report } from '../model/index.js';
import { finishReport, runDoctor, summarizeTarget } from '../run.js';
import { withDeadline } from '../runner/deadline.js';
import { parseEndpoint, type Target } from '../target.js';
import { targetFromArgs } from '../commands.js';
import type { ProbeModule } from './config.js';
import type { ProbeOutcome } from './self-metrics.js';

/** What a probe answers: the report, how it ended, and a promise that settles when its run has really stopped. */
export interface ProbeAnswer {
  report: Report;
  outcome: ProbeOutcome;
  settled: Promise<unknown>;
}

/** Default per-step timeout of `check`, ms. */
const DEFAULT_STEP_MS = 5000;
/** Shortest per-step timeout a deadline can impose, ms. */
const MIN_STEP_MS = 100;

/**
 * The endpoint from `target=`: a host name, as `check --endpoint` takes it. Throws UsageError with one line
 * (worded for the parameter) when it is missing, an address or a URL.
 */
export function parseTarget(raw: string | null): string {
  if (!raw) throw new UsageError('target parameter is missing (the endpoint host name)');
  return parseEndpoint(raw.slice(0, 300));
}

function deadlineResult(deadlineMs: number, pending: string[], durationMs: number): CheckResult {
  return {
    id: 'probe.deadline',
    route: null,
    stage: null,
    title: 'Probe finishes within the scrape timeout',
    status: 'error',
    code: 'PROBE_DEADLINE',
    summary: `the probe's deadline of ${deadlineMs} ms passed before ${pending.length ? pending.join(', ') : 'the run'} finished`,
    evidence: { deadlineMs, pending },
    hint: 'Raise scrape_timeout for this job (the deadline is the scrape timeout minus --timeout-offset), or lower the module timeout.',
    durationMs,
  };
}

/** The probe's target: the module's options with this endpoint and the step timeout bounded by the deadline. */
export function probeTarget(module: ProbeModule, endpoint: string, deadlineMs: number): Target {
  const step = Math.max(MIN_STEP_MS, Math.min(module.args.timeout ?? DEFAULT_STEP_MS, Math.floor(deadlineMs * 0.8)));
  // The step comes from the scrape deadline, not from a user: it may go below check's --timeout floor.
  return { ...targetFromArgs({ ...module.args, endpoint }), timeoutMs: step };
}

/**
 * Runs MODULE against ENDPOINT within DEADLINEMS. Resolves with the full report, or at the deadline with a partial
 * one (outcome `deadline`). Rejects when the run cannot start (a credential file unreadable now).
 */
export async function runProbe(module: ProbeModule, endpoint: string, deadlineMs: number): Promise<ProbeAnswer> {
  const target = probeTarget(module, endpoint, deadlineMs);
  const startedAt = new Date();
  const started = performance.now();
  const running = new Set<string>();
  const done = new Map<string, readonly CheckResult[]>();
  const options = {
    strict: module.strict,
    ...(module.siteProfile ? { siteProfile: module.siteProfile } : {}),
    ...(module.repeat ? { repeat: module.repeat } : {}),
  };
  const run = runDoctor(target, {
    ...options,
    onEvent: (e) => (e.type === 'start' ? running.add(e.checkId) : done.set(e.checkId, e.results)),
  });
  const first = await withDeadline<Report | 'deadline'>(run, deadlineMs, { onTimeout: () => 'deadline' });
  if (first !== 'deadline')
    return { report: first, outcome: first.exitCode === 0 ? 'success' : 'failure', settled: run };
  const durationMs = performance.now() - started;
  const pending = [...running].filter((id) => !done.has(id));
  const report = finishReport({
    target: summarizeTarget(target),
    startedAt,
    durationMs,
    results: [...[...done.values()].flat(), deadlineResult(deadlineMs, pending, durationMs)],
    ...options,
  });
  return { report, outcome: 'deadline', settled: run.catch(() => undefined) };
}

/** Bounded concurrency: at most MAX probes run; up to MAXWAITING wait for a slot, each no longer than it may. */
export class ProbeSlots {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  /** MAX running probes at once (≥ 1); MAXWAITING queued requests before answering busy at once. */
  constructor(
    readonly max: number,
    readonly maxWaiting: number,
  ) {}

  /** Probes running now. */
  get running(): number {
    return this.active;
  }

  /** Requests waiting now. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Takes a slot within WAITMS; false when none came free in time or too many already wait. */
  acquire(waitMs: number): Promise<boolean> {
    if (this.active < this.max) {
      this.active += 1;
      return Promise.resolve(true);
    }
    if (this.queue.length >= this.maxWaiting || waitMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const entry = (): void => {
        clearTimeout(timer);
        this.active += 1;
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.queue.splice(this.queue.indexOf(entry), 1);
        resolve(false);
      }, waitMs);
      this.queue.push(entry);
    });
  }

  /** Gives a slot back and hands it to the oldest waiting request. */
  release(): void {
    this.active -= 1;
    this.queue.shift()?.();
  }
}
