/**
 * The MQTT session of a route (rows `protocol` and `round-trip`), over the route's own TLS socket: CONNECT/CONNACK,
 * then SUBSCRIBE, PUBLISH QoS 1 and the message received back (MQTT 3.1.1 / 5). On the certificate routes over TLS
 * they are pipelined in one round trip when the run's deadline leaves room to repeat a failed attempt sequentially
 * (protocol-mqtt-pipelined.ts); otherwise (WebSocket, custom authentication, a short deadline) one step after the
 * other (protocol-mqtt-exchange.ts). Routes that share the user's client id take turns (AWS IoT closes the
 * older connection of a duplicate id: facts §3); the subscription stays up until the HTTPS routes of the run have
 * published through it.
 */
import type { Duplex } from 'node:stream';
import { MqttSession } from '../../src/probes/mqtt.js';
import { stepMs } from '../../src/runner/deadline.js';
import { customAuthCredentials, customAuthMosquitto } from '../route-custom-auth.js';
import { routeClientId, routeTopic } from '../route-identity.js';
import { mosquittoCommand, wssSessionCommands } from '../route-reproduce.js';
import type { RouteRun, StageOutcome } from '../route-stage.js';
import { exchange, type Exchange } from './protocol-mqtt-exchange.js';
import { mayPipeline, pipelinedExchange } from './protocol-mqtt-pipelined.js';

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
  const wss = spec.auth === 'sigv4' ? wssSessionCommands(target, spec, peer) : undefined;
  const pub = custom
    ? customAuthMosquitto(target, spec, peer, clientId, topic)
    : (wss?.pub ?? mosquittoCommand('mosquitto_pub', target, spec, peer, clientId, topic));
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
  const makeSession = (socket: Duplex): MqttSession =>
    new MqttSession(socket, {
      clientId,
      version: target.mqttVersion,
      keepaliveSeconds: target.keepaliveSeconds,
      timeoutMs: target.timeoutMs,
      stepMs: () => stepMs(run.ctx),
      ...(custom ? customAuthCredentials(target) : {}),
    });
  const session = makeSession(run.channel ?? run.tls!.socket);
  const version = target.mqttVersion === 5 ? '5' : '3.1.1';
  const evidence = {
    clientId,
    mqttVersion: version,
    topic,
    ...(lock?.waitedMs ? { waitedForClientIdMs: lock.waitedMs } : {}),
  };
  const sub = wss?.sub ?? mosquittoCommand('mosquitto_sub', target, spec, peer, clientId, topic);
  try {
    lock?.connecting(); // the exchange writes CONNECT at once: the next turn's spacing counts from here
    const x: Exchange = { session, pub, sub, fctx: { spec, clientId, topic, evidence, reproduce: pub } };
    return await (mayPipeline(run) ? pipelinedExchange(run, x, version, makeSession, lock) : exchange(run, x, version));
  } finally {
    hub.mqttEnded(spec.id);
    session.end();
    // The next route on the same client id connects only once the server has closed this connection (MQTT 3.1.1
    // §3.14: it does after DISCONNECT): a CONNECT that overtook this DISCONNECT would take this session over, and
    // the broker would record DUPLICATE_CLIENT_ID against the probe itself. Bounded: at most HANDOVER_MS.
    if (lock) await closedWithin(fate, Math.min(HANDOVER_MS, stepMs(run.ctx)));
    lock?.release();
  }
}

/** The longest the next turn on a shared client id waits for the server to close the previous connection (ms). */
const HANDOVER_MS = 1000;

/** Resolves when `fate` says the connection closed, or after `ms` milliseconds. */
async function closedWithin(fate: { whenClosed(): Promise<void> }, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([fate.whenClosed(), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
