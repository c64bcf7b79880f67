/**
 * One run: load the credential files, build the context, run the catalogue, diagnose, and build the report.
 * No printing here: the CLI decides what to show.
 */
import type { CheckContext, DoctorCheck } from '../checks/types.js';
import type { RunnerEvent } from './model/check.js';
import { pathSummary } from './path-summary.js';
import { exitCodeFor, type CheckResult, type Finding, type Report, type TargetSummary } from './model/index.js';
import { resolveName, resolveWithServer, type DnsOutcome } from './probes/dns.js';
import { takeEarlyLookup, releaseHeadStart } from './probes/head-start.js';
import { RouteHub } from './probes/hub.js';
import { credentialSourceHint, warmIotApi } from './probes/iot-api.js';
import { loadDeviceFiles } from './probes/pem.js';
import { diagnose } from './diagnose/index.js';
import { applySiteProfile, expectedBlockedRoutes, type SiteProfile } from './site-profile.js';
import { buildReport } from './report/json.js';
import { attemptRepeat, attemptTarget, runRepeated, type RepeatOptions } from './repeat.js';
import { runChecks } from './runner/index.js';
import { RunDeadline } from './runner/deadline.js';
import { holdBudgetMs, type Target } from './target.js';

/** How `runDoctor` runs: all optional; without any, the full catalogue for the target, warnings not failing. */
export interface DoctorOptions {
  /** Warnings count as failures for the exit code (`--strict`). */
  strict?: boolean;
  /** Site profile: routes expected to be blocked there, checks that must pass. */
  siteProfile?: SiteProfile;
  /** Progress: a check started or finished (the CLI draws its stderr progress line from these). */
  onEvent?: (event: RunnerEvent) => void;
  /** Replace the catalogue (tests, `cert` command). */
  checks?: DoctorCheck[];
  /** The clock the checks read (validity windows, clock skew); tests pin it. */
  now?: () => Date;
  /** `--repeat N --interval MS`: probe the routes N times (src/repeat.ts); absent or count 1 is one run. */
  repeat?: RepeatOptions;
}

/**
 * The report's `target`: what was probed, as recorded in the JSON report. Credential files appear as paths, never
 * contents; the key passphrase is left out. `certificateId` (from the certificate file) wins over the flag.
 */
export function summarizeTarget(target: Target, certificateId?: string): TargetSummary {
  return {
    endpoint: target.endpoint,
    routes: target.routes,
    connectTo: target.connectTo.map((c) => `${c.host}:${c.port || ''}:${c.address}:${c.toPort || ''}`),
    files: {
      ...(target.certPath ? { cert: target.certPath } : {}),
      ...(target.keyPath ? { key: target.keyPath } : {}),
      ...(target.caPath ? { ca: target.caPath } : {}),
    },
    ...((certificateId ?? target.certificateId) ? { certificateId: certificateId ?? target.certificateId } : {}),
    clientId: target.clientId,
    topic: target.topic,
    ...(target.region ? { region: target.region } : {}),
    ...pathSummary(target),
    ...(target.credentials ? { roleAlias: target.credentials.roleAlias } : {}),
    ...(target.thingName ? { thingName: target.thingName } : {}),
  };
}

/**
 * The per-run context every check gets: the device files loaded once (a file that cannot be read becomes a failing
 * files.* check, not an exception), one DNS answer per name shared by all routes (through `--dns-server` when
 * given, each lookup bounded by `timeoutMs`), the clock, and the hub that lets the routes start together.
 */
export async function createContext(target: Target, now: () => Date = () => new Date()): Promise<CheckContext> {
  const credentials = await loadDeviceFiles({
    ...(target.certPath ? { certPath: target.certPath } : {}),
    ...(target.keyPath ? { keyPath: target.keyPath } : {}),
    ...(target.caPath ? { caPath: target.caPath } : {}),
    ...(target.keyPassphrase ? { keyPassphrase: target.keyPassphrase } : {}),
  });
  return { target, credentials, ...attemptParts(target), now };
}

/** The context of a repeated attempt: its own probe client id (see attemptTarget), DNS answer and route hub. */
function nextAttempt(ctx: CheckContext): CheckContext {
  const target = attemptTarget(ctx.target);
  return { ...ctx, target, ...attemptParts(target, false) };
}

/**
 * What each attempt of a run gets afresh: one DNS answer per name (shared by its routes) and a route hub. The first
 * attempt takes over the lookups `check` started ahead of loading (src/probes/head-start.ts).
 */
function attemptParts(target: Target, first = true): Pick<CheckContext, 'resolve' | 'hub' | 'deadline'> {
  const dnsCache = new Map<string, Promise<DnsOutcome>>();
  // The whole attempt: one --timeout, plus the session holds the user asked for (--hold-ms, a client id of theirs).
  const deadline = new RunDeadline(target.timeoutMs + holdBudgetMs(target));
  return {
    deadline,
    resolve(name: string): Promise<DnsOutcome> {
      let answer = dnsCache.get(name);
      if (!answer) {
        answer =
          (first ? takeEarlyLookup(name) : undefined) ??
          (target.dnsServer
            ? resolveWithServer(name, target.dnsServer, deadline.stepMs(target.timeoutMs))
            : resolveName(name, deadline.stepMs(target.timeoutMs)));
        dnsCache.set(name, answer);
      }
      return answer;
    },
    hub: new RouteHub(target.routes),
  };
}

/** The most a check may take: every network stage has its own deadline; this only catches bugs. */
export function guardMs(target: Target): number {
  return target.timeoutMs * 8 + 5000 + holdBudgetMs(target);
}

/**
 * One whole run: the catalogue for `target` (or `opts.checks`), the runner, the site profile, the diagnosis; resolves
 * to the report (never rejects for a network failure: those are results). Bounded by the target's per-step deadline
 * (`timeoutMs`) and `guardMs` per check.
 */
export async function runDoctor(target: Target, opts: DoctorOptions = {}): Promise<Report> {
  const startedAt = new Date();
  const started = performance.now();
  const ctx = await createContext(target, opts.now);
  // The full catalogue (routes, cloud) is loaded only when the caller did not choose the checks (`cert` does).
  // Its routes are planned first: per address family DNS returns, and through the proxy (checks/route-plan.ts).
  if (!opts.checks) {
    ctx.target = await (await import('../checks/route-plan.js')).planTarget(target, ctx.resolve);
    ctx.hub = new RouteHub(ctx.target.routes);
    target = ctx.target;
  }
  const catalogueModule = await import('../checks/index.js');
  const checks = opts.checks ?? catalogueModule.catalogue(target);
  // Parsing the AWS SDK takes a few hundred ms of CPU: it happens in the API worker, on the other core, while the
  // routes run (without the worker, before they start), and only when there may be credentials to use it with.
  if (checks.some((c) => c.family === 'cloud') && credentialSourceHint(target)) await warmIotApi(ctx);
  const run = (list: readonly DoctorCheck[], c: CheckContext): Promise<CheckResult[]> =>
    runChecks(list, c, {
      guardMs: guardMs(target),
      isKnownCheck: catalogueModule.isCatalogueCheckId,
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    });
  let repeated: Awaited<ReturnType<typeof runRepeated>> | undefined;
  let results: CheckResult[];
  try {
    repeated =
      (opts.repeat?.count ?? 1) > 1
        ? await runRepeated(attemptRepeat(opts.repeat!, target), checks, ctx, () => nextAttempt(ctx), run)
        : undefined;
    if (!repeated) ctx.deadline.restart();
    results = repeated ? repeated.results : await run(checks, ctx);
  } finally {
    // Connections started ahead of the stages that no stage took over (src/probes/head-start.ts).
    releaseHeadStart();
  }
  const report = finishReport({
    target: summarizeTarget(target, ctx.credentials.cert?.certificateId),
    startedAt,
    durationMs: performance.now() - started,
    results,
    ...(opts.strict ? { strict: true } : {}),
    ...(opts.siteProfile ? { siteProfile: opts.siteProfile } : {}),
  });
  return repeated ? { ...report, repeat: repeated.summary } : report;
}

/** Diagnosis, counts and exit code from a set of results: the same for a live run and for merged results. */
export function finishReport(input: {
  target: TargetSummary;
  startedAt: Date;
  durationMs: number;
  results: CheckResult[];
  strict?: boolean;
  siteProfile?: SiteProfile;
}): Report {
  const { siteProfile } = input;
  const results = siteProfile ? applySiteProfile(input.results, siteProfile) : input.results;
  const diagnosis: Finding[] = diagnose(results, {
    expectedBlocked: siteProfile ? expectedBlockedRoutes(siteProfile) : [],
  });
  return buildReport({
    target: siteProfile ? { ...input.target, siteProfile: siteProfile.name } : input.target,
    startedAt: input.startedAt,
    durationMs: input.durationMs,
    results,
    diagnosis,
    exitCode: exitCodeFor(results, input.strict),
  });
}
