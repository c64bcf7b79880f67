/**
 * The MQTT session of a route (rows `protocol` and `round-trip`), over the route's own TLS socket: CONNECT/CONNACK,
 * then SUBSCRIBE, PUBLISH QoS 1 and the message received back (MQTT 3.1.1 / 5). Routes that share the user's client id
 * take turns (AWS IoT closes the older connection of a duplicate id: facts §3); the subscription stays up until the
 * HTTPS routes of the run have published through it.
 */
import { randomBytes } from 'node:crypto';
import { MqttSession } from '../../src/probes/mqtt.js';
import { customAuthCredentials, customAuthMosquitto } from '../route-custom-auth.js';
import { routeClientId, routeTopic } from '../route-identity.js';
import { mosquittoCommand } from '../route-reproduce.js';
import type { RouteRun, StageOutcome } from '../route-stage.js';
import { mqttFailure, type MqttFailureContext } from './protocol-mqtt-failure.js';
import { stepMs } from '../../src/runner/deadline.js';
import { holdMsFor } from '../../src/target.js';

interface Exchange {
  session: MqttSession;
  fctx: MqttFailureContext;
  pub: string;
  sub: string;
}

/** CONNECT, then the round trip; the outcomes in order, ending at the first failure. */
async function exchange(run: RouteRun, x: Exchange, version: string): Promise<StageOutcome[]> {
  const { session, fctx, pub, sub } = x;
  const { clientId, topic, evidence } = fctx;
  const connack = await session.connect();
  if (!connack.ok) return [mqttFailure('protocol', connack, 'connect', { ...fctx, reproduce: pub })];
  const out: StageOutcome[] = [
    {
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
    },
  ];
  const subscribed = await session.subscribe(topic);
  if (!subscribed.ok) return [...out, mqttFailure('round-trip', subscribed, 'subscribe', { ...fctx, reproduce: sub })];
  run.ctx.hub.subscriberReady(run.spec.id, topic, async (marker) => (await session.receive(marker)).ok);
  const marker = randomBytes(8).toString('hex');
  const payload = JSON.stringify({ iotDoctor: marker, route: run.spec.id, sentAt: new Date().toISOString() });
  const published = await session.publish(topic, payload);
  if (!published.ok) return [...out, mqttFailure('round-trip', published, 'publish', { ...fctx, reproduce: pub })];
  const received = await session.receive(marker);
  if (!received.ok) {
    return [...out, mqttFailure('round-trip', received, 'receive', { ...fctx, reproduce: `${sub}\n${pub}` })];
  }
  out.push({
    stage: 'round-trip',
    status: 'pass',
    code: 'MQTT_ROUND_TRIP_OK',
    durationMs: subscribed.durationMs + published.durationMs + received.durationMs,
    summary: `subscribed, published QoS 1 and received it back on ${topic}`,
    evidence: {
      ...evidence,
      subscribeMs: subscribed.durationMs,
      grantedQos: subscribed.grantedQos,
      publishMs: published.durationMs,
      deliveryMs: received.durationMs,
    },
  });
  // Keep the subscription for the HTTPS routes' round trip, then leave cleanly.
  await run.ctx.hub.whenHttpsDone(stepMs(run.ctx), run.signal);
  const held = await holdSession(run, session, clientId);
  const last = out[out.length - 1]!;
  if (typeof held === 'number') out[out.length - 1] = { ...last, evidence: { ...last.evidence, heldMs: held } };
  else if (held) out[out.length - 1] = { ...held, evidence: { ...evidence, ...held.evidence } };
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

/**
 * The MQTT `protocol` and `round-trip` rows of a route: reads `run.tls` (its fate), `run.channel` (default: the TLS
 * socket) and `run.peer`; always tells the hub the route ended.
 */
export async function mqttSession(run: RouteRun): Promise<StageOutcome[]> {
  const { spec, ctx } = run;
  const { target, hub } = ctx;
  const fate = run.tls!.fate;
  const peer = run.peer!;
  const clientId = routeClientId(target, spec);
  const topic = routeTopic(target, spec);
  const lock = target.clientIdFromUser ? await hub.takeClientId() : undefined;
  const custom = spec.auth === 'custom';
  const pub = custom
    ? customAuthMosquitto(target, spec, peer, clientId, topic)
    : mosquittoCommand('mosquitto_pub', target, spec, peer, clientId, topic);
  if (fate.closed) {
    // The connection died while this route waited for the other MQTT route to release the client id.
    lock?.release();
    return [
      {
        stage: 'protocol',
        status: 'fail',
        code: 'MQTT_CLOSED_BEFORE_CONNECT',
        durationMs: 0,
        summary:
          `${fate.describe()} before CONNECT was sent ` + `(while waiting ${lock?.waitedMs ?? 0} ms for the client id)`,
        evidence: { clientId, waitedForClientIdMs: lock?.waitedMs ?? 0 },
        hint:
          'The server does not keep an idle TLS connection open: a proxy or load balancer with a short idle timeout, ' +
          'or a server that closes unauthenticated connections.',
        reproduce: pub,
      },
    ];
  }
  const session = new MqttSession(run.channel ?? run.tls!.socket, {
    clientId,
    version: target.mqttVersion,
    keepaliveSeconds: target.keepaliveSeconds,
    timeoutMs: target.timeoutMs,
    stepMs: () => stepMs(run.ctx),
    ...(custom ? customAuthCredentials(target) : {}),
  });
  const version = target.mqttVersion === 5 ? '5' : '3.1.1';
  const evidence = {
    clientId,
    mqttVersion: version,
    topic,
    ...(lock?.waitedMs ? { waitedForClientIdMs: lock.waitedMs } : {}),
  };
  const sub = mosquittoCommand('mosquitto_sub', target, spec, peer, clientId, topic);
  try {
    lock?.connecting(); // exchange() writes CONNECT at once: the next turn's spacing counts from here
    return await exchange(
      run,
      { session, pub, sub, fctx: { spec, clientId, topic, evidence, reproduce: pub } },
      version,
    );
  } finally {
    hub.mqttEnded(spec.id);
    session.end();
    lock?.release();
  }
}
