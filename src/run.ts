/**
 * One run: load the credential files, build the context, run the catalogue, diagnose, and build the report.
 * No printing here: the CLI decides what to show.
 */
import type { CheckContext, DoctorCheck } from '../checks/types.js';
import type { RunnerEvent } from './model/check.js';
import { exitCodeFor, type CheckResult, type Finding, type Report, type TargetSummary } from './model/index.js';
import { resolveName, resolveWithServer, type DnsOutcome } from './probes/dns.js';
import { RouteHub } from './probes/hub.js';
import { credentialSourceHint, loadIotSdk } from './probes/iot-api.js';
import { loadMqtt } from './probes/mqtt.js';
import { loadDeviceFiles } from './probes/pem.js';
import { diagnose } from './diagnose/index.js';
import { applyProfile, expectedBlockedRoutes, type Profile } from './profile.js';
import { buildReport } from './report/json.js';
import { runChecks } from './runner/index.js';
import type { Target } from './target.js';

export interface DoctorOptions {
  strict?: boolean;
  /** Site profile: routes expected to be blocked there, checks that must pass. */
  siteProfile?: Profile;
  onEvent?: (event: RunnerEvent) => void;
  /** Replace the catalogue (tests, `cert` command). */
  checks?: DoctorCheck[];
  now?: () => Date;
}

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
    ...(certificateId ?? target.certificateId ? { certificateId: certificateId ?? target.certificateId } : {}),
    clientId: target.clientId,
    topic: target.topic,
    ...(target.region ? { region: target.region } : {}),
  };
}

export async function createContext(target: Target, now: () => Date = () => new Date()): Promise<CheckContext> {
  const credentials = await loadDeviceFiles({
    ...(target.certPath ? { certPath: target.certPath } : {}),
    ...(target.keyPath ? { keyPath: target.keyPath } : {}),
    ...(target.caPath ? { caPath: target.caPath } : {}),
    ...(target.keyPassphrase ? { keyPassphrase: target.keyPassphrase } : {}),
  });
  const dnsCache = new Map<string, Promise<DnsOutcome>>();
  return {
    target,
    credentials,
    resolve(name: string): Promise<DnsOutcome> {
      let answer = dnsCache.get(name);
      if (!answer) {
        answer = target.dnsServer ? resolveWithServer(name, target.dnsServer, target.timeoutMs) : resolveName(name, target.timeoutMs);
        dnsCache.set(name, answer);
      }
      return answer;
    },
    now,
    hub: new RouteHub(target.routes),
  };
}

/** The most a check may take: every network stage has its own deadline; this only catches bugs. */
export function guardMs(target: Target): number {
  return target.timeoutMs * 8 + 5000;
}

export async function runDoctor(target: Target, opts: DoctorOptions = {}): Promise<Report> {
  const startedAt = new Date();
  const started = performance.now();
  const ctx = await createContext(target, opts.now);
  // The full catalogue (routes, cloud) is loaded only when the caller did not choose the checks (`cert` does).
  const checks = opts.checks ?? (await import('../checks/index.js')).catalogue(target);
  // Parsing the AWS SDK blocks the event loop for a few hundred ms: do it before the routes start, not during
  // their handshakes, and only when there may be credentials to use it with.
  if (checks.some((c) => c.family === 'cloud') && credentialSourceHint(target)) await loadIotSdk().catch(() => undefined);
  // Likewise the MQTT client: loading it at the first CONNECT would stall the other routes' handshakes.
  if (target.protocol && target.routes.some((r) => r.startsWith('mqtt')) && checks.some((c) => c.family === 'route')) loadMqtt();
  const results: CheckResult[] = await runChecks(checks, ctx, {
    guardMs: guardMs(target),
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
  });
  return finishReport({
    target: summarizeTarget(target, ctx.credentials.cert?.certificateId),
    startedAt,
    durationMs: performance.now() - started,
    results,
    ...(opts.strict ? { strict: true } : {}),
    ...(opts.siteProfile ? { siteProfile: opts.siteProfile } : {}),
  });
}

/** Diagnosis, counts and exit code from a set of results: the same for a live run and for merged results. */
export function finishReport(input: {
  target: TargetSummary;
  startedAt: Date;
  durationMs: number;
  results: CheckResult[];
  strict?: boolean;
  siteProfile?: Profile;
}): Report {
  const { siteProfile } = input;
  const results = siteProfile ? applyProfile(input.results, siteProfile) : input.results;
  const diagnosis: Finding[] = diagnose(results, { expectedBlocked: siteProfile ? expectedBlockedRoutes(siteProfile) : [] });
  return buildReport({
    target: siteProfile ? { ...input.target, profile: siteProfile.name } : input.target,
    startedAt: input.startedAt,
    durationMs: input.durationMs,
    results,
    diagnosis,
    exitCode: exitCodeFor(results, input.strict),
  });
}
