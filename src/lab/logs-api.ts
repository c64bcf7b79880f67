/**
 * A CloudWatch Logs look-alike for the lab's AWS IoT logs: `FilterLogEvents` over the `AWSIotLogsV2` group that the
 * data plane writes (records.ts), in the AWS JSON 1.1 protocol the real `@aws-sdk/client-cloudwatch-logs` speaks
 * (`POST /`, header `X-Amz-Target: Logs_20140328.FilterLogEvents`, errors as `{"__type", "message"}` with HTTP 400).
 * Source: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html (field
 * notes §7.6). Filter patterns: the JSON form `{ $.field = "value" || $.field = "value" }` (or `&&`), which is what
 * iot-doctor sends; anything else is refused with InvalidParameterException rather than answered wrongly.
 */
import type { LabRecords, LabLogEntry } from './records.js';
import { LAB_LOG_GROUP } from './records.js';

/** The answer: HTTP status and JSON body. */
export interface LogsAnswer {
  status: number;
  body: unknown;
}

/** What the look-alike needs: the records, the account and region for ARNs, the faults a test switched on. */
export interface LogsApiContext {
  records: LabRecords | undefined;
  region: string;
  accountId: string;
  /** IAM actions answered with AccessDeniedException (`logs:FilterLogEvents`). */
  accessDenied: Set<string>;
}

const TARGET_PREFIX = 'Logs_20140328.';
/** Most events one call returns (the API's `limit` maximum). */
const MAX_LIMIT = 10_000;

const error = (type: string, message: string): LogsAnswer => ({ status: 400, body: { __type: type, message } });

/**
 * Answers one CloudWatch Logs request. `target` is the `X-Amz-Target` header; `body` the parsed JSON object. Only
 * FilterLogEvents is implemented; other operations get UnknownOperationException. Never throws.
 */
export function answerLogsRequest(target: string, body: Record<string, unknown>, ctx: LogsApiContext): LogsAnswer {
  const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
  if (operation !== 'FilterLogEvents') return error('UnknownOperationException', `Unknown operation ${target}`);
  const group = String(body['logGroupName'] ?? body['logGroupIdentifier'] ?? '');
  const action = 'logs:FilterLogEvents';
  if (ctx.accessDenied.has(action)) {
    const arn = `arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group:${group}:log-stream:`;
    const text = `User: arn:aws:iam::${ctx.accountId}:user/lab-user is not authorized to perform: ${action} on resource: ${arn} because no identity-based policy allows the ${action} action`;
    return error('AccessDeniedException', text);
  }
  if (!group) return error('InvalidParameterException', 'logGroupName is required');
  if (group !== LAB_LOG_GROUP || !ctx.records?.logGroupExists()) {
    return error('ResourceNotFoundException', 'The specified log group does not exist.');
  }
  const match = compileFilter(body['filterPattern']);
  if (typeof match === 'string') return error('InvalidParameterException', match);
  return filterEvents(ctx.records.logEntries(), body, match);
}

/** The events in [startTime, endTime] (ms epoch) matching the pattern, paged by `limit` with an offset token. */
function filterEvents(
  entries: LabLogEntry[],
  body: Record<string, unknown>,
  match: (message: string) => boolean,
): LogsAnswer {
  const start = typeof body['startTime'] === 'number' ? body['startTime'] : 0;
  const end = typeof body['endTime'] === 'number' ? body['endTime'] : Number.MAX_SAFE_INTEGER;
  const limit = typeof body['limit'] === 'number' ? Math.min(Math.max(1, body['limit']), MAX_LIMIT) : MAX_LIMIT;
  const offset = typeof body['nextToken'] === 'string' ? Number(/^lab-(\d+)$/.exec(body['nextToken'])?.[1] ?? 0) : 0;
  const all = entries.filter((e) => e.timestamp >= start && e.timestamp <= end && match(e.message));
  const events = all.slice(offset, offset + limit).map((e) => ({ ...e, ingestionTime: e.timestamp }));
  const streams = [...new Set(entries.map((e) => e.logStreamName))];
  const out: Record<string, unknown> = {
    events,
    searchedLogStreams: streams.map((logStreamName) => ({ logStreamName, searchedCompletely: true })),
  };
  if (offset + limit < all.length) out['nextToken'] = `lab-${offset + limit}`;
  return { status: 200, body: out };
}

/**
 * A matcher for the JSON filter pattern `{ $.a = "x" || $.b = "y" }` (terms joined by one kind of operator,
 * parentheses around terms allowed), or the error message when the pattern is not of that form. Absent or empty:
 * everything matches.
 */
export function compileFilter(pattern: unknown): ((message: string) => boolean) | string {
  if (pattern === undefined || pattern === null || pattern === '') return () => true;
  if (typeof pattern !== 'string') return 'filterPattern must be a string';
  const inner = /^\s*\{(.*)\}\s*$/s.exec(pattern)?.[1];
  if (inner === undefined) return `The lab supports only JSON filter patterns: ${pattern}`;
  const any = inner.includes('||');
  if (any && inner.includes('&&')) return 'The lab does not mix || and && in one filter pattern';
  const terms: [string, string][] = [];
  for (const part of inner.split(any ? '||' : '&&')) {
    const m = /^\s*\(?\s*\$\.([A-Za-z][\w-]*)\s*=\s*"([^"]*)"\s*\)?\s*$/.exec(part);
    if (!m) return `Invalid filter pattern term: ${part.trim()}`;
    terms.push([m[1] ?? '', m[2] ?? '']);
  }
  return (message) => {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(message) as Record<string, unknown>;
    } catch {
      return false;
    }
    const hit = ([k, v]: [string, string]): boolean => String(entry[k] ?? '') === v && k in entry;
    return any ? terms.some(hit) : terms.every(hit);
  };
}
