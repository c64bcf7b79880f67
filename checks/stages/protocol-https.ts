/**
 * The HTTPS session of a route (rows `protocol` and `round-trip`), over the route's own TLS socket: `POST
 * /topics/<topic>?qos=1` (AWS IoT HTTPS publish, facts §2), then the message must arrive at an MQTT route's
 * subscription (through the run's hub). The answer's status, `x-amzn-ErrorType`, message, traceId and `date` are
 * evidence.
 */
import { randomBytes } from 'node:crypto';
import type { Evidence } from '../../src/model/index.js';
import { httpsPublish, publishPath, type HttpsPublishOutcome } from '../../src/probes/https.js';
import type { Subscriber } from '../../src/probes/hub.js';
import type { RouteCode } from '../route-codes.js';
import { httpsPublishCommand } from '../route-reproduce.js';
import type { RouteRun, StageOutcome } from '../route-stage.js';
import { stepMs } from '../../src/runner/deadline.js';

type Answered = Extract<HttpsPublishOutcome, { ok: true }>;

function notSent(
  res: Extract<HttpsPublishOutcome, { ok: false }>,
  evidence: Evidence,
  reproduce: string,
): StageOutcome {
  return {
    stage: 'protocol',
    status: 'fail',
    durationMs: res.durationMs,
    reproduce,
    evidence,
    code: NOT_SENT_CODES[res.kind],
    summary: res.message,
    hint:
      res.kind === 'timeout'
        ? 'The request went out over TLS but no HTTP answer came back: a proxy holding the stream, or a server ' +
          'that is not AWS IoT.'
        : res.kind === 'invalid' || res.kind === 'too-large'
          ? NOT_HTTP_HINT
          : 'The server dropped the request without an answer. Check the certificate status and policy (cloud checks).',
  };
}

const NOT_SENT_CODES: Record<Extract<HttpsPublishOutcome, { ok: false }>['kind'], RouteCode> = {
  timeout: 'HTTP_NO_RESPONSE',
  closed: 'HTTP_CLOSED_WITHOUT_RESPONSE',
  error: 'HTTP_ERROR',
  invalid: 'HTTP_NOT_HTTP',
  'too-large': 'HTTP_RESPONSE_TOO_LARGE',
};

/** The answer was not the HTTP AWS IoT speaks: a middlebox or another service; no certificate or policy advice. */
export const NOT_HTTP_HINT =
  'The server answered, but not with the HTTP AWS IoT speaks: a proxy, captive portal or other middlebox in the ' +
  'path, or another service on this port. This is not a certificate or policy problem: find what answers ' +
  '(the bytes are in the summary) and bypass it, or check the endpoint name and --connect-to.';

function refusedStatus(
  run: RouteRun,
  res: Answered,
  evidence: Evidence,
  reproduce: string,
  topic: string,
): StageOutcome {
  const missingToken = res.status === 403 && /missing authentication token/i.test(res.message ?? res.body);
  const code: RouteCode = missingToken
    ? 'HTTP_MISSING_AUTH_TOKEN'
    : res.status === 403
      ? 'HTTP_FORBIDDEN'
      : res.status === 401
        ? 'HTTP_UNAUTHORIZED'
        : res.status === 404
          ? 'HTTP_NOT_FOUND'
          : 'HTTP_UNEXPECTED_STATUS';
  const hint = missingToken
    ? `The gateway did not use the client certificate: on 443 that happens when ALPN ` +
      `${run.spec.alpn ?? 'x-amzn-http-ca'} ` +
      'is not negotiated. Use 8443, or make sure ALPN reaches AWS.'
    : res.status === 403
      ? 'Forbidden: the certificate is not registered/ACTIVE here, or no policy allows iot:Publish on ' +
        `topic/${topic}. See the cloud checks.`
      : res.status === 404
        ? 'The path was not found: the host is probably not an AWS IoT data endpoint.'
        : 'See the status and body in the evidence.';
  return {
    stage: 'protocol',
    status: 'fail',
    code,
    durationMs: res.durationMs,
    reproduce,
    evidence,
    hint,
    summary:
      `HTTP ${res.status}${res.errorType ? ` ${res.errorType}` : ''}: ` +
      `${res.message ?? (res.body.slice(0, 120) || 'no body')}`,
  };
}

async function roundTrip(
  run: RouteRun,
  subscriber: Subscriber | null,
  marker: string,
  evidence: Evidence,
  reproduce: string,
  topic: string,
): Promise<StageOutcome> {
  if (!subscriber) {
    return {
      stage: 'round-trip',
      status: 'skip',
      code: 'NO_MQTT_SUBSCRIBER',
      durationMs: 0,
      evidence,
      summary: 'no MQTT route was up to receive the published message',
    };
  }
  const deliveryStarted = performance.now();
  const arrived = await run.ctx.hub.confirm(subscriber.route, marker);
  const deliveryMs = Math.round(performance.now() - deliveryStarted);
  return arrived
    ? {
        stage: 'round-trip',
        status: 'pass',
        code: 'HTTP_ROUND_TRIP_OK',
        durationMs: deliveryMs,
        summary: `the message arrived at the ${subscriber.route} subscription`,
        evidence: { ...evidence, subscriber: subscriber.route, deliveryMs },
      }
    : {
        stage: 'round-trip',
        status: 'fail',
        code: 'HTTP_MESSAGE_NOT_RECEIVED',
        durationMs: deliveryMs,
        reproduce,
        summary:
          `published with 200 but the message did not reach the ${subscriber.route} subscription within ` +
          `${run.ctx.target.timeoutMs} ms`,
        evidence: { ...evidence, subscriber: subscriber.route },
        hint: `Check that the policy allows iot:Receive on topic/${topic} for the subscribing client.`,
      };
}

/**
 * The HTTPS `protocol` and `round-trip` rows of a route: waits (bounded) for an MQTT route's subscription, publishes
 * with a random marker, then asks the subscriber whether the marker arrived. Reads `run.tls`, `run.channel`,
 * `run.peer`.
 */
export async function httpsSession(run: RouteRun): Promise<StageOutcome[]> {
  const { spec, ctx } = run;
  const { target, hub } = ctx;
  const fate = run.tls!.fate;
  const waitStarted = performance.now();
  const subscriber = await hub.whenSubscriber(stepMs(ctx), fate.whenClosed());
  const waitedForSubscriberMs = Math.round(performance.now() - waitStarted);
  // Publish where an MQTT route listens, so the round trip can be seen.
  const topic = subscriber?.topic ?? target.topic;
  const reproduce = httpsPublishCommand(target, spec, run.peer!, topic);
  if (fate.closed) {
    return [
      {
        stage: 'protocol',
        status: 'fail',
        code: 'HTTP_CLOSED_WITHOUT_RESPONSE',
        durationMs: 0,
        reproduce,
        summary: `${fate.describe()} ${waitedForSubscriberMs} ms after the handshake, before the request was sent`,
        evidence: { topic, waitedForSubscriberMs },
        hint:
          'The server dropped the connection without an answer. Check the certificate status and policy (cloud ' +
          'checks), or a proxy with a short idle timeout.',
      },
    ];
  }
  const marker = randomBytes(8).toString('hex');
  const payload = JSON.stringify({ iotDoctor: marker, route: spec.id, sentAt: new Date().toISOString() });
  const socket = run.channel ?? run.tls!.socket;
  const res = await httpsPublish(socket, { host: target.endpoint, topic, payload, timeoutMs: stepMs(ctx) });
  const evidence = { topic, path: publishPath(topic), waitedForSubscriberMs };
  if (!res.ok) return [notSent(res, evidence, reproduce)];
  const httpEvidence = {
    ...evidence,
    status: res.status,
    ...(res.errorType ? { errorType: res.errorType } : {}),
    ...(res.message ? { message: res.message } : {}),
    ...(res.traceId ? { traceId: res.traceId } : {}),
    ...(res.serverDate ? { serverDate: res.serverDate } : {}),
    receivedAt: res.receivedAt,
  };
  if (res.status !== 200) return [refusedStatus(run, res, httpEvidence, reproduce, topic)];
  const published: StageOutcome = {
    stage: 'protocol',
    status: 'pass',
    code: 'HTTP_PUBLISH_OK',
    durationMs: res.durationMs,
    evidence: httpEvidence,
    summary: `HTTP 200 ${res.message ?? ''}`.trim() + (res.traceId ? ` (traceId ${res.traceId})` : ''),
  };
  return [published, await roundTrip(run, subscriber, marker, evidence, reproduce, topic)];
}
