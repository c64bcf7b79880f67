import type { CheckResult } from './index.js';

/** Check families: the prefix of every check id (`files.cert`, `ca.contents`, `route.mqtt-8883`, `probe.client-id`). */
export const CHECK_FAMILIES = ['files', 'cert', 'ca', 'route', 'probe', 'clock', 'cloud'] as const;
export type CheckFamily = (typeof CHECK_FAMILIES)[number];

/**
 * A unit of work the runner schedules. `needs` names other checks whose results this one reads; the runner starts a
 * check as soon as everything it needs has finished, so independent checks run concurrently. A `needs` entry that
 * names no check is an error when the runner loads the catalogue (`CatalogueError`).
 */
export interface Check<Ctx> {
  /** `route.mqtt-8883`, `cert.key-match`, `cloud.certificate` ... */
  id: string;
  title: string;
  /** The id's prefix (`familyOf(id)` in checks/family-util.ts). */
  family: CheckFamily;
  needs?: readonly string[];
  /**
   * Run the check. `signal` (always given by the runner) aborts when the runner gives up on the check (its deadline
   * passed): stop waiting and close every socket. Network failures are results, not rejections; a rejection
   * becomes a CHECK_CRASHED `error` result.
   */
  run(ctx: Ctx, deps: DependencyResults, signal?: AbortSignal): Promise<CheckResult[]>;
}

/** Results of the checks named in `needs`, by check id. */
export type DependencyResults = ReadonlyMap<string, readonly CheckResult[]>;

/** Progress events for the live display (stderr, TTY only). */
export type RunnerEvent =
  { type: 'start'; checkId: string } | { type: 'done'; checkId: string; results: readonly CheckResult[] };
