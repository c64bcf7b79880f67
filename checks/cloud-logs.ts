/**
 * cloud.logs: what the account's AWS IoT logs (CloudWatch Logs group `AWSIotLogsV2`, `--log-group`) recorded about
 * this run's connections (field notes §7.6): FilterLogEvents for the run's client ids and time window, every failed
 * Connect / Disconnect / Publish-In / Subscribe with its status, reason and details. When a route failed, it waits a
 * bounded few seconds for AWS to ingest the entries. It says when logging is off (GetV2LoggingOptions) and how to
 * turn it on. `--no-logs` skips it. The SDK (`@aws-sdk/client-cloudwatch-logs`) is loaded only when it runs with
 * credentials; its endpoint follows `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS` as the SDK does.
 */
import { ROUTES, routeCheckId, type CheckResult, type Evidence } from '../src/model/index.js';
import { buildResult, type Outcome } from '../src/model/result.js';
import type { ApiOutcome, LogEventInfo, LoggingOptionsInfo } from '../src/probes/iot-api.js';
import { budgetMs, CLOUD_COMMON_CODES, startCloud, withinBudget, type Started } from './cloud-check-util.js';
import { probeClientIds } from './cloud-context-util.js';
import { failureOutcome } from './cloud-failure-util.js';
import type { CheckContext, DoctorCheck } from './types.js';

const META = { id: 'cloud.logs', title: "AWS IoT's logs record no failure for this run's connections" };

/** Result codes of cloud.logs. */
export const CLOUD_LOGS_CODES = [
  'RECORDED_FAILURES',
  'NO_RECORDED_FAILURES',
  'LOGGING_OFF',
  'LOGS_NOT_READ',
  ...CLOUD_COMMON_CODES,
] as const;

/** The AWS IoT log group (field notes §7.6). */
export const DEFAULT_LOG_GROUP = 'AWSIotLogsV2';
/** Longest wait for AWS to ingest the entries of a failed route (ms); polled once a second. */
export const INGESTION_WAIT_MS = 6_000;
const POLL_MS = 1_000;

/** One failed entry as the report shows it. */
export interface RecordedFailure {
  time: string;
  eventType: string;
  clientId?: string;
  reason?: string;
  details?: string;
  disconnectReason?: string;
  sourceIp?: string;
  topicName?: string;
}

/** The failed entries of `events` (status Failure), parsed from their JSON messages; other entries are dropped. */
export function recordedFailures(events: readonly LogEventInfo[]): RecordedFailure[] {
  const out: RecordedFailure[] = [];
  for (const e of events) {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(e.message) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (m['status'] !== 'Failure') continue;
    const f: RecordedFailure = { time: new Date(e.timestamp).toISOString(), eventType: String(m['eventType'] ?? '?') };
    for (const k of ['clientId', 'reason', 'details', 'disconnectReason', 'topicName'] as const) {
      if (typeof m[k] === 'string') f[k] = m[k];
    }
    if (typeof m['sourceIp'] === 'string')
      f.sourceIp = `${m['sourceIp']}${m['sourcePort'] ? `:${String(m['sourcePort'])}` : ''}`;
    out.push(f);
  }
  return out;
}

/** The client ids this run connected with: the route cells' evidence, else the target's. */
function runClientIds(ctx: CheckContext, deps: ReadonlyMap<string, readonly CheckResult[]>): string[] {
  const ids = new Set<string>();
  for (const results of deps.values()) {
    for (const r of results) if (typeof r.evidence?.['clientId'] === 'string') ids.add(r.evidence['clientId']);
  }
  if (ids.size === 0) probeClientIds(ctx.target).forEach((id) => ids.add(id));
  return [...ids].filter((id) => !/["\\]/.test(id));
}

const loggingOff = (o: ApiOutcome<LoggingOptionsInfo>): boolean =>
  o.ok && (o.value.disableAllLogs || o.value.defaultLogLevel === 'DISABLED');

/** The LOGGING_OFF outcome: what GetV2LoggingOptions said and how to turn logging on (field notes §7.6). */
function loggingOffOutcome(o: LoggingOptionsInfo, evidence: Evidence): Outcome {
  const role = o.roleArn ?? 'arn:aws:iam::<account>:role/<a role AWS IoT may write logs with>';
  return {
    status: 'warn',
    code: 'LOGGING_OFF',
    summary: `AWS IoT logging is off (${o.disableAllLogs ? 'disableAllLogs' : `default level ${o.defaultLogLevel}`}): AWS recorded nothing that could explain a refusal`,
    evidence: { ...evidence, defaultLogLevel: o.defaultLogLevel ?? '', disableAllLogs: o.disableAllLogs },
    hint:
      `Turn logging on at ERROR (failures are logged at ERROR): aws iot set-v2-logging-options --role-arn ${role} ` +
      '--default-log-level ERROR (or for one device only: aws iot set-v2-logging-level --log-target ' +
      'targetType=CLIENT_ID,targetName=<client id> --log-level ERROR), then run iot-doctor again.',
    reproduce: 'aws iot get-v2-logging-options',
  };
}

/** Polls FilterLogEvents until a failure shows or `waitMs` passed (or `signal` aborts); the last answer. */
async function readLogs(
  ctx: CheckContext,
  api: Cloud['api'],
  query: { logGroupName: string; clientIds: string[]; waitMs: number },
  signal?: AbortSignal,
): Promise<ApiOutcome<LogEventInfo[]>> {
  const filterPattern = `{ ${query.clientIds.map((id) => `($.clientId = "${id}")`).join(' || ')} }`;
  const until = Date.now() + query.waitMs;
  for (;;) {
    const q = {
      logGroupName: query.logGroupName,
      startTime: windowStartMs(ctx) - 1_000,
      endTime: Date.now() + 1_000,
      filterPattern,
    };
    const out = await api.filterLogEvents(q);
    const found = out.ok && recordedFailures(out.value).length > 0;
    if (found || Date.now() + POLL_MS > until || signal?.aborted || (!out.ok && out.kind !== 'not-found')) return out;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

type Cloud = Extract<Started, { ok: true }>;

/** Where the records of the run's connections start: the report's run for `--from`, else this run (ms epoch). */
function windowStartMs(ctx: CheckContext): number {
  return ctx.target.recordedSinceMs ?? ctx.hub.startedAtMs;
}

/** cloud.logs (see the file comment); it reads the route results (`needs`) for the client ids and the failures. */
export const cloudLogsCheck: DoctorCheck = {
  ...META,
  family: 'cloud',
  needs: Object.keys(ROUTES).map((id) => routeCheckId(id)),
  run(ctx, deps, signal) {
    const started = performance.now();
    if (ctx.target.noLogs) {
      const skipped = { status: 'skip', code: 'LOGS_NOT_READ', summary: 'not read (--no-logs)', evidence: {} } as const;
      return Promise.resolve([buildResult(META, started, skipped)]);
    }
    return withinBudget(ctx, [META], started, async () => {
      const c = await startCloud(ctx);
      if (!c.ok) return [buildResult(META, started, c.outcome)];
      const unsafe = logsEndpointMismatch(c.session.endpointUrl);
      if (unsafe) return [buildResult(META, started, unsafe)];
      return [buildResult(META, started, await logsOutcome(ctx, c, deps, signal))];
    });
  },
};

/**
 * When the AWS IoT API endpoint is overridden (the lab, a VPC endpoint) but CloudWatch Logs' is not
 * (`AWS_ENDPOINT_URL_CLOUDWATCH_LOGS` / `AWS_ENDPOINT_URL`), the logs would be read from the public regional
 * endpoint of what may be another environment: skipped with the variable to set instead.
 */
function logsEndpointMismatch(iotEndpoint: string | undefined): Outcome | undefined {
  if (!iotEndpoint || process.env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'] === 'true') return undefined;
  if (process.env['AWS_ENDPOINT_URL_CLOUDWATCH_LOGS'] || process.env['AWS_ENDPOINT_URL']) return undefined;
  return {
    status: 'skip',
    code: 'LOGS_NOT_READ',
    summary: `not read: the AWS IoT API endpoint is overridden (${iotEndpoint}) but CloudWatch Logs' is not`,
    evidence: { apiEndpoint: iotEndpoint },
    hint: 'Set AWS_ENDPOINT_URL_CLOUDWATCH_LOGS to the CloudWatch Logs endpoint that belongs with it, or --no-logs.',
  };
}

/** The outcome of cloud.logs once the session is open (see the file comment). */
async function logsOutcome(
  ctx: CheckContext,
  c: Cloud,
  deps: ReadonlyMap<string, readonly CheckResult[]>,
  signal: AbortSignal | undefined,
): Promise<Outcome> {
  const logGroupName = ctx.target.logGroup ?? DEFAULT_LOG_GROUP;
  const clientIds = runClientIds(ctx, deps);
  const failed = [...deps.values()].some((rs) => rs.some((r) => r.status === 'fail'));
  const logging = await c.api.getV2LoggingOptions();
  const evidence: Evidence = {
    logGroup: logGroupName,
    clientIds,
    windowStart: new Date(windowStartMs(ctx)).toISOString(),
  };
  if (!logging.ok) evidence['loggingOptions'] = `not read: ${logging.permission || logging.errorName}`;
  if (logging.ok && loggingOff(logging)) return loggingOffOutcome(logging.value, evidence);
  // Bounded by the run's deadline too, leaving a poll's time for the last answer.
  const waitMs =
    failed || (ctx.target.holdMs ?? 0) > 0
      ? Math.max(0, Math.min(INGESTION_WAIT_MS, budgetMs(ctx.target) / 3, ctx.deadline.remainingMs() - POLL_MS))
      : 0;
  const out = await readLogs(ctx, c.api, { logGroupName, clientIds, waitMs }, signal);
  const reproduce = `aws logs filter-log-events --log-group-name ${logGroupName} --start-time ${windowStartMs(ctx)} --filter-pattern '${clientIds.length === 1 ? `{ $.clientId = "${clientIds[0]}" }` : '…'}'`;
  if (!out.ok && out.kind === 'not-found') {
    const summary = `log group ${logGroupName} does not exist: AWS IoT has written no log entry in this account and region`;
    return { status: 'pass', code: 'NO_RECORDED_FAILURES', summary, evidence, reproduce };
  }
  if (!out.ok) return failureOutcome(out, `what AWS IoT logged for ${clientIds.join(', ')}`, reproduce, ctx.target);
  const failures = recordedFailures(out.value);
  if (failures.length === 0) {
    const summary = `no failure logged for ${clientIds.join(', ')} since ${evidence['windowStart'] as string}`;
    return {
      status: 'pass',
      code: 'NO_RECORDED_FAILURES',
      summary,
      evidence: { ...evidence, entries: out.value.length },
      reproduce,
    };
  }
  const shown = failures.slice(0, 3).map((f) => `${f.eventType} ${f.reason ?? f.disconnectReason ?? ''}`.trim());
  return {
    status: 'fail',
    code: 'RECORDED_FAILURES',
    summary: `recorded by AWS IoT: ${failures.length} failed event${failures.length === 1 ? '' : 's'} for this run (${shown.join('; ')})`,
    evidence: {
      ...evidence,
      recordedBy: 'AWS IoT logs',
      failures: failures.slice(0, 20) as unknown as Evidence[string],
    },
    reproduce,
  };
}
