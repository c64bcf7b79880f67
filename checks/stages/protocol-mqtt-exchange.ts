/**
 * The sequential MQTT exchange of a route and the outcomes every exchange shares: CONNECT → CONNACK (`protocol`), then
 * SUBSCRIBE → SUBACK, PUBLISH QoS 1 → PUBACK and the message received back (`round-trip`), each step waiting for the
 * previous answer (MQTT 3.1.1 / 5); after a passing round trip the subscription is kept for the HTTPS routes and the
 * idle session held to see a takeover (facts §3, field notes §8).
 */
import { randomBytes } from 'node:crypto';
import type { Connacked, MqttSession } from '../../src/probes/mqtt.js';
import { stepMs } from '../../src/runner/deadline.js';
import { holdMsFor } from '../../src/target.js';
import type { RouteRun, StageOutcome } from '../route-stage.js';
import { mqttFailure, type MqttFailureContext } from './protocol-mqtt-failure.js';

/** One MQTT session of a route and what its outcomes name (reproduce commands, failure context). */
export interface Exchange {
  session: MqttSession;
  fctx: MqttFailureContext;
  pub: string;
  sub: string;
}

/** The passing `protocol` outcome of an accepted CONNACK (`durationMs`: CONNECT → CONNACK). */
export function connackOutcome(
  connack: Connacked & { durationMs: number },
  version: string,
  x: Exchange,
): StageOutcome {
  const { clientId, evidence } = x.fctx;
  return {
    stage: 'protocol',
    status: 'pass',
    code: 'MQTT_CONNACK_OK',
    durationMs: connack.durationMs,
    summary: `CONNACK accepted (MQTT ${version}, client id ${clientId})`,
    evidence: {
      ...evidence,
      sessionPresent: connack.sessionPresent,
      ...(connack.properties ? { connackProperties: connack.properties } : {}),
    },
  };
}

/** A probe message: its marker (to recognise it when it comes back) and its JSON payload. */
export function probeMessage(run: RouteRun): { marker: string; payload: string } {
  const marker = randomBytes(8).toString('hex');
  const payload = JSON.stringify({ iotDoctor: marker, route: run.spec.id, sentAt: new Date().toISOString() });
  return { marker, payload };
}

/** CONNECT, then the round trip; the outcomes in order, ending at the first failure. */
export async function exchange(run: RouteRun, x: Exchange, version: string): Promise<StageOutcome[]> {
  const connack = await x.session.connect();
  if (!connack.ok) return [mqttFailure('protocol', connack, 'connect', { ...x.fctx, reproduce: x.pub })];
  return roundTrip(run, x, [connackOutcome(connack, version, x)]);
}

/**
 * SUBSCRIBE, PUBLISH QoS 1 and the message received back, one after the other on a connected session, after the
 * outcomes `out` (the `protocol` row); then the subscription is kept for the HTTPS routes and the session held.
 */
export async function roundTrip(run: RouteRun, x: Exchange, out: StageOutcome[]): Promise<StageOutcome[]> {
  const { session, fctx, pub, sub } = x;
  const { topic } = fctx;
  const subscribed = await session.subscribe(topic);
  if (!subscribed.ok) return [...out, mqttFailure('round-trip', subscribed, 'subscribe', { ...fctx, reproduce: sub })];
  run.ctx.hub.subscriberReady(run.spec.id, topic, async (m) => (await session.receive(m)).ok);
  const { marker, payload } = probeMessage(run);
  const published = await session.publish(topic, payload);
  if (!published.ok) return [...out, mqttFailure('round-trip', published, 'publish', { ...fctx, reproduce: pub })];
  const received = await session.receive(marker);
  if (!received.ok) {
    return [...out, mqttFailure('round-trip', received, 'receive', { ...fctx, reproduce: `${sub}\n${pub}` })];
  }
  const timings = {
    subscribeMs: subscribed.durationMs,
    grantedQos: subscribed.grantedQos,
    publishMs: published.durationMs,
    deliveryMs: received.durationMs,
  };
  const durationMs = subscribed.durationMs + published.durationMs + received.durationMs;
  return keepAndHold(run, x, [...out, roundTripOutcome(x, durationMs, timings)]);
}

/** The passing `round-trip` outcome: `durationMs` as the row shows it, `detail` the per-packet timings (ms). */
export function roundTripOutcome(x: Exchange, durationMs: number, detail: Record<string, unknown>): StageOutcome {
  const pipelined = detail['pipelined'] === true;
  return {
    stage: 'round-trip',
    status: 'pass',
    code: 'MQTT_ROUND_TRIP_OK',
    durationMs,
    summary:
      `subscribed, published QoS 1 and received it back on ${x.fctx.topic}` +
      (pipelined ? ' (SUBSCRIBE and PUBLISH pipelined with CONNECT: one round trip)' : ''),
    evidence: { ...x.fctx.evidence, ...detail },
  };
}

/**
 * After a passing round trip (`out` ends with it): keep the subscription for the HTTPS routes' round trip, hold the
 * session (`holdSession`), and return `out` with the hold's result on the round-trip row.
 */
export async function keepAndHold(run: RouteRun, x: Exchange, out: StageOutcome[]): Promise<StageOutcome[]> {
  await run.ctx.hub.whenHttpsDone(stepMs(run.ctx), run.signal);
  const held = await holdSession(run, x.session, x.fctx.clientId);
  const last = out[out.length - 1]!;
  if (typeof held === 'number') out[out.length - 1] = { ...last, evidence: { ...last.evidence, heldMs: held } };
  else if (held) out[out.length - 1] = { ...held, evidence: { ...x.fctx.evidence, ...held.evidence } };
  return out;
}

/**
 * Holds the idle session (`holdMsFor`) and watches for a takeover: MQTT 5 DISCONNECT 0x8E (Session taken over), or a
 * close with no TLS alert while idle, which is how AWS IoT drops an MQTT 3.1.1 session when another client connects
 * with its client id (facts §3, field notes §8). Returns the `round-trip` cell that reports it, else how long the
 * session was held (ms; shown as `heldMs` on the round-trip cell), or undefined when it was not held.
 */
async function holdSession(
  run: RouteRun,
  session: MqttSession,
  clientId: string,
): Promise<StageOutcome | number | undefined> {
  const holdMs = holdMsFor(run.ctx.target);
  if (holdMs <= 0) return undefined;
  const held = await session.hold(holdMs, run.signal);
  if (!held.closed || held.alert || (held.reasonCode !== undefined && held.reasonCode !== 0x8e)) return held.heldMs;
  const how =
    held.reasonCode === 0x8e
      ? 'DISCONNECT 0x8E (Session taken over)'
      : 'the server closed the idle connection without a TLS alert or DISCONNECT';
  return {
    stage: 'round-trip',
    status: 'fail',
    code: 'MQTT_SESSION_TAKEN_OVER',
    durationMs: held.heldMs,
    summary: `the round trip worked, then ${held.heldMs} ms into the ${holdMs} ms hold: ${how}; another client is probably using client id ${clientId}`,
    evidence: {
      heldMs: held.heldMs,
      holdMs,
      ...(held.reasonCode !== undefined ? { disconnectReasonCode: held.reasonCode } : {}),
    },
    hint:
      `AWS IoT allows one connection per client id: another device or process connects as ${clientId}. Give each ` +
      'device its own client id (the thing name), and require iot:Connection.Thing.IsAttached in the policy.',
  };
}
