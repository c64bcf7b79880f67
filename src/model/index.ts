/**
 * The shared vocabulary of iot-doctor: routes, stages, statuses, results, findings and the report.
 * Everything else (checks, runner, diagnosis, reporters, lab) depends on this module and on nothing above it.
 */

export {
  ALPN_CUSTOM_AUTH,
  ALPN_HTTP,
  ALPN_MQTT,
  MTLS_STAGES,
  ROUTES,
  ROUTE_IDS,
  STAGE_IDS,
  STAGE_TITLES,
  isRouteCheckId,
  isRouteId,
  orderedStageUnion,
  routeCheckId,
  routeKindOf,
  routeResultId,
  routeSpecOf,
  routesIn,
  routeVariant,
  type RouteId,
  type RouteKindId,
  type RouteProtocol,
  type RouteSpec,
  type RouteVariant,
  type StageId,
  type TransportId,
} from './route.js';
import type { RouteId, StageId } from './route.js';

/** pass, warn, fail and skip are verdicts; error means the check itself could not complete. */
export const STATUSES = ['pass', 'warn', 'fail', 'skip', 'error'] as const;
export type Status = (typeof STATUSES)[number];

export const STATUS_SYMBOLS: Readonly<Record<Status, string>> = {
  pass: '✔',
  warn: '!',
  fail: '✖',
  skip: '-',
  error: '?',
};

/** Worst first: used to pick the status of a group of results. */
export const STATUS_RANK: Readonly<Record<Status, number>> = { error: 4, fail: 3, warn: 2, skip: 1, pass: 0 };

export type Evidence = Record<string, unknown>;

export interface CheckResult {
  /** Stable id: `route.<route>.<stage>` for matrix cells, `<family>.<name>` for the other checks. */
  id: string;
  route: RouteId | null;
  stage: StageId | null;
  /** States the expectation: "Private key matches certificate". */
  title: string;
  status: Status;
  /** Stable SCREAMING_SNAKE code, e.g. TCP_TIMEOUT, CERT_KEY_MISMATCH. */
  code: string;
  /** One line: what was seen. */
  summary: string;
  /** Facts only (addresses, versions, fingerprints, timings). Never key material. */
  evidence: Evidence;
  /** What to do about it; omitted on a plain pass. */
  hint?: string;
  /** The command that shows the same thing by hand. */
  reproduce?: string;
  durationMs: number;
}

export type Severity = 'critical' | 'error' | 'warning' | 'info';
export type Confidence = 'certain' | 'likely' | 'possible';

/** A root cause named by a diagnosis rule. */
export interface Finding {
  code: string;
  severity: Severity;
  confidence: Confidence;
  title: string;
  explanation: string;
  remediation: string[];
  params: Record<string, unknown>;
  /** Ids of the results this finding rests on. */
  evidence: string[];
  /** When a symptom has several possible causes: each candidate and the check that would tell them apart. */
  candidates?: { code: string; title: string; decidedBy: string }[];
  /**
   * Causes a client-side reading would have blamed, withdrawn because a server-side fact contradicts them (issue 18
   * item 4): each guess's code and title, and what ruled it out (a cloud check or AWS IoT's own record).
   */
  ruledOut?: RuledOut[];
}

/** A withdrawn guess: its code and title, and the server-side fact (`ruledOutBy`, the result ids in `evidence`). */
export interface RuledOut {
  code: string;
  title: string;
  ruledOutBy: string;
  evidence: string[];
}

export interface TargetSummary {
  endpoint: string;
  routes: RouteId[];
  connectTo: string[];
  /** Paths of the credential files (never their contents). */
  files: { cert?: string; key?: string; ca?: string };
  certificateId?: string;
  clientId?: string;
  topic?: string;
  region?: string;
  /** Name of the site profile (`--site-profile`) the run was judged against; older reports call it `profile`. */
  siteProfile?: string;
  /** The proxy of the `via proxy` routes (URL without credentials, its flag or variable) and why; or why none. */
  proxy?: { url?: string; source?: string; credentials?: boolean; reason: string };
  /** Address families the direct routes probed (the first address of each) and why (`-4`, no AAAA record …). */
  families?: { probed: (4 | 6)[]; reason: string };
  /** The device's TLS stack (`--tls-version`, `--ciphers`, `--max-record` bytes, `--no-sni`, `--no-alpn`). */
  deviceTls?: { tlsVersion?: '1.2' | '1.3'; ciphers?: string; maxRecord?: number; sni: boolean; alpn: boolean };
  /** The credential provider's role alias (`--role-alias`): a later `check --from` checks it in the cloud. */
  roleAlias?: string;
  /** `--thing-name`: the thing-name header of the credential provider and the thing cloud.connectivity asks about. */
  thingName?: string;
}

export const SCHEMA_VERSION = 1;

export interface Report {
  schemaVersion: typeof SCHEMA_VERSION;
  tool: { name: string; version: string };
  target: TargetSummary;
  startedAt: string;
  durationMs: number;
  results: CheckResult[];
  diagnosis: Finding[];
  summary: Record<Status, number>;
  exitCode: 0 | 1 | 2;
  /** Per-stage statistics of `--repeat N` (N > 1); the results then hold one representative attempt per route. */
  repeat?: RepeatSummary;
}

/** The worst of `statuses` by `STATUS_RANK` (error > fail > warn > skip > pass); `pass` when there are none. */
export function worstStatus(statuses: Iterable<Status>): Status {
  let worst: Status = 'pass';
  let seen = false;
  for (const s of statuses) {
    if (!seen || STATUS_RANK[s] > STATUS_RANK[worst]) worst = s;
    seen = true;
  }
  return worst;
}

/** How many results have each status. */
export function countStatuses(results: readonly CheckResult[]): Record<Status, number> {
  const counts: Record<Status, number> = { pass: 0, warn: 0, fail: 0, skip: 0, error: 0 };
  for (const r of results) counts[r.status] += 1;
  return counts;
}

/**
 * Exit code rule: 1 when a check failed (or warned under --strict); otherwise 2 when a check could not complete
 * (status error: a tool problem, not a network verdict); otherwise 0.
 */
export function exitCodeFor(results: readonly CheckResult[], strict = false): 0 | 1 | 2 {
  if (results.some((r) => r.status === 'fail' || (strict && r.status === 'warn'))) return 1;
  if (results.some((r) => r.status === 'error')) return 2;
  return 0;
}

// Statistics of a repeated run (`check --repeat N`): the routes are probed N times with the same credential files,
// and each stage of each route gets its duration percentiles and its share of failed attempts.

/** One stage of one route over the attempts that reached it (a stage skipped in an attempt is not counted). */
export interface StageRepeatStats {
  route: RouteId;
  stage: StageId;
  /** Attempts in which this stage ran (status other than `skip`). */
  attempts: number;
  /** Of those, attempts where it ended `fail` or `error`. */
  failed: number;
  /** `failed / attempts`, 0..1; 0 when the stage never ran. */
  failureRatio: number;
  /** Nearest-rank percentiles and maximum of the stage's duration over those attempts, in ms; absent when it never ran. */
  p50Ms?: number;
  p95Ms?: number;
  maxMs?: number;
}

/** One route over all attempts: an attempt fails when any stage of the route ends `fail` or `error`. */
export interface RouteRepeatStats {
  route: RouteId;
  attempts: number;
  failed: number;
  /** `failed / attempts`, 0..1. */
  failureRatio: number;
}

/** The `repeat` section of a report; present only when the run had more than one attempt. */
export interface RepeatSummary {
  /** Number of attempts (N of `--repeat N`). */
  attempts: number;
  /** Pause between the end of one attempt and the start of the next, ms. */
  intervalMs: number;
  /** Attempts in which at least one route failed. */
  failedAttempts: number;
  /** Wall time of each attempt, ms, in order. */
  attemptDurationsMs: number[];
  routes: RouteRepeatStats[];
  stages: StageRepeatStats[];
}
