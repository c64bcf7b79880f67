/**
 * CloudWatch Logs FilterLogEvents for the AWS IoT log group (field notes §7.6;
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html), with the run's
 * region and AWS credentials. `@aws-sdk/client-cloudwatch-logs` is loaded on the first call only. The endpoint is
 * the SDK's own: `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS` (or `AWS_ENDPOINT_URL`) is honoured as the SDK does.
 */
import type { IoTClient } from '@aws-sdk/client-iot';
import { classifyError, withDeadline } from './failures.js';
import type { ApiOutcome, LogEventInfo, LogQuery } from './types.js';

/** Pages read at most, and events kept at most, per query (a busy account's window must not flood the run). */
const MAX_PAGES = 5;
const MAX_EVENTS = 500;

/**
 * Reads the events of `query` with the credentials and region of `iot` (the run's IoT client), standard retries,
 * every page bounded by `timeoutMs` ms. Never throws: a failure is an `ApiFailure` (`logs:FilterLogEvents`;
 * ResourceNotFoundException when the log group does not exist).
 */
export async function filterLogEvents(
  iot: IoTClient,
  region: string,
  query: LogQuery,
  timeoutMs: number,
): Promise<ApiOutcome<LogEventInfo[]>> {
  const started = performance.now();
  const operation = 'FilterLogEvents';
  const permission = 'logs:FilterLogEvents';
  try {
    const sdk = await import('@aws-sdk/client-cloudwatch-logs');
    const client = new sdk.CloudWatchLogsClient({
      region,
      credentials: iot.config.credentials,
      retryMode: 'standard',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
    });
    try {
      const events: LogEventInfo[] = [];
      let nextToken: string | undefined;
      let attempts = 0;
      for (let page = 0; page < MAX_PAGES && events.length < MAX_EVENTS; page++) {
        const command = new sdk.FilterLogEventsCommand({ ...query, limit: 100, ...(nextToken ? { nextToken } : {}) });
        const signal = AbortSignal.timeout(timeoutMs);
        const out = await withDeadline(client.send(command, { abortSignal: signal }), timeoutMs + 250, operation);
        attempts += out.$metadata.attempts ?? 1;
        for (const e of out.events ?? []) {
          const event: LogEventInfo = { timestamp: e.timestamp ?? 0, message: e.message ?? '' };
          if (e.logStreamName) event.logStreamName = e.logStreamName;
          events.push(event);
        }
        nextToken = out.nextToken;
        if (!nextToken) break;
      }
      const durationMs = Math.round(performance.now() - started);
      return { ok: true, value: events.slice(0, MAX_EVENTS), operation, attempts, durationMs };
    } finally {
      client.destroy();
    }
  } catch (err) {
    return classifyError(err, operation, permission);
  }
}
