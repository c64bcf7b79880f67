/**
 * The pipelined MQTT exchange of a route: CONNECT, SUBSCRIBE and PUBLISH QoS 1 in one write, without waiting for the
 * CONNACK (MQTT 3.1.1 §3.1.4: a client may send packets right after CONNECT; the server must not process them before
 * it accepted the CONNECT, and closes the connection when it refuses it), so the healthy path costs one round trip
 * instead of three. Whether AWS IoT processes packets that arrive before its CONNACK, and whether a PUBLISH that
 * arrives right after a SUBSCRIBE (before its SUBACK) is delivered to it, are not confirmed (the lab offers each
 * variant: `LabOptions.earlyPackets`). So only the complete answer counts: CONNACK accepted, SUBACK granted, PUBACK
 * and the message back. Anything else is repeated sequentially and the sequential answer is reported, so every
 * verdict is the one the step-by-step exchange gives:
 *
 * - the connection is still open (a SUBACK failure, an MQTT 5 PUBACK refusal, answers or the message missing after
 *   a short window): SUBSCRIBE and PUBLISH again on it, with new packet identifiers and a new message;
 * - the connection was closed (or the CONNACK refused, or the answer was not MQTT): a new connection, made the way the
 *   first was (route-engine `reconnect`), its CONNECT at least `CONNECT_SPACING_MS` after the server answered the
 *   first (AWS IoT allows 1 CONNECT per second per client id, facts §3.1), then the whole sequential exchange.
 *
 * Pipelining is used only when the run's deadline leaves room for that repetition (`mayPipeline`); every wait is cut
 * to the step's and the run's deadline (src/runner/deadline.ts).
 */
import type { Duplex } from 'node:stream';
import { CONNECT_SPACING_MS } from '../../src/probes/hub.js';
import type { MqttSession, MqttStep } from '../../src/probes/mqtt.js';
import { stepMs } from '../../src/runner/deadline.js';
import type { RouteRun, StageOutcome } from '../route-stage.js';
import {
  connackOutcome,
  exchange,
  keepAndHold,
  probeMessage,
  roundTrip,
  roundTripOutcome,
  type Exchange,
} from './protocol-mqtt-exchange.js';
import { mqttFailure } from './protocol-mqtt-failure.js';

/** The shortest wait (ms) after an accepted CONNACK for the SUBACK, the PUBACK and the message of a pipelined write. */
export const PIPELINE_WINDOW_MIN_MS = 300;
/** That wait in round trips: the CONNACK's own time (one round trip) times this, when longer than the minimum. */
const PIPELINE_WINDOW_RTTS = 3;
/**
 * Round trips a pipelined attempt and its sequential repetition on a new connection take beyond the CONNECT spacing:
 * the pipelined answer 1 (the spacing counts from it), TCP 1, TLS 1.2 2 (1.3: 1), CONNECT, SUBSCRIBE and PUBLISH
 * with the delivery 3.
 */
const REPEAT_RTTS = 7;
/** Headroom (ms) for the repetition's local work (the TLS handshake's signatures, a busy event loop). */
const REPEAT_HEADROOM_MS = 500;

/** What the caller's client-id turn offers (hub.takeClientId): stamping the time of a CONNECT. */
export interface ClientIdTurn {
  connecting(): void;
}

/**
 * Whether the route pipelines its MQTT exchange: the session runs on the TLS socket itself (not a WebSocket
 * channel, whose second connection would need a second upgrade), the client authenticates with its certificate (a
 * custom-authentication CONNECT invokes the customer's authorizer Lambda: a repetition would invoke it twice and the
 * cross-check compares the one live CONNECT's request), the route can open a second connection, and the run's
 * deadline leaves room for a sequential repetition on it (the CONNECT spacing, `REPEAT_RTTS` round trips of the TCP
 * connect's time, and `REPEAT_HEADROOM_MS`). A short `--timeout` therefore means the sequential exchange.
 */
export function mayPipeline(run: RouteRun): boolean {
  if (run.channel || run.spec.auth === 'custom' || !run.reconnect) return false;
  return run.ctx.deadline.remainingMs() >= repeatBudgetMs(run);
}

/** Milliseconds a sequential repetition on a new connection needs, after its CONNECT spacing. */
function repeatBudgetMs(run: RouteRun): number {
  return CONNECT_SPACING_MS + REPEAT_RTTS * (run.tcpMs ?? 0) + REPEAT_HEADROOM_MS;
}

/** Resolves true once every step passed, false as soon as one did not. */
function allOk(steps: readonly Promise<MqttStep<unknown>>[]): Promise<boolean> {
  return new Promise((resolve) => {
    let left = steps.length;
    for (const step of steps) {
      void step.then((s) => {
        if (!s.ok) resolve(false);
        else if (--left === 0) resolve(true);
      });
    }
  });
}

/** Waits up to `ms` for `work` (or until `signal` aborts); resolves false when the wait ran out first. */
function within(work: Promise<boolean>, ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', cut);
      resolve(ok);
    };
    const cut = (): void => done(false);
    const timer = setTimeout(cut, Math.max(0, ms));
    signal.addEventListener('abort', cut, { once: true });
    void work.then(done);
  });
}

/** Sleeps `ms` (or until `signal` aborts). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return within(new Promise<boolean>(() => undefined), ms, signal).then(() => undefined);
}

/** `outcomes` with `note` in every outcome's evidence as `pipelineRepeated` (why the sequential answer is shown). */
function noted(outcomes: StageOutcome[], note: string): StageOutcome[] {
  return outcomes.map((o) => ({ ...o, evidence: { ...o.evidence, pipelined: false, pipelineRepeated: note } }));
}

/** Why a pipelined attempt did not pass, in words, from the first step that did not. */
function whyNot(steps: readonly [string, MqttStep<unknown> | undefined][]): string {
  for (const [what, s] of steps) {
    if (!s) return `no ${what} within the pipelining window`;
    if (!s.ok) return `${what}: ${s.kind}`;
  }
  return 'the pipelined message did not come back within the window';
}

/** The settled value of `p`, or undefined while it is pending. */
async function peek<T>(p: Promise<T>): Promise<T | undefined> {
  return Promise.race([p, Promise.resolve(undefined)]);
}

/**
 * The outcomes of the MQTT exchange of `x` (`protocol`, `round-trip`), pipelined as the file comment says.
 * `makeSession` opens a session like `x.session` on another socket (for a repetition on a new connection);
 * `turn` is the client-id turn when routes share the user's client id (its `connecting()` is called again before the
 * repetition's CONNECT). Never rejects for a network failure.
 */
export async function pipelinedExchange(
  run: RouteRun,
  x: Exchange,
  version: string,
  makeSession: (socket: Duplex) => MqttSession,
  turn?: ClientIdTurn,
): Promise<StageOutcome[]> {
  const { session, fctx } = x;
  const { marker, payload } = probeMessage(run);
  const p = session.pipeline(fctx.topic, payload);
  const received = session.receive(marker);
  const connack = await p.connack;
  // The server stamped our CONNECT before it answered it (CONNACK or close): the spacing of a repetition counts from
  // here, so the server's own clock sees at least CONNECT_SPACING_MS between the two CONNECTs, whatever its load.
  const answeredAt = performance.now();
  if (connack.ok) {
    const windowMs = Math.min(
      stepMs(run.ctx),
      Math.max(PIPELINE_WINDOW_MIN_MS, PIPELINE_WINDOW_RTTS * connack.durationMs),
    );
    const passed = await within(allOk([p.suback, p.puback, received]), windowMs, run.signal);
    const [suback, puback, got] = await Promise.all([peek(p.suback), peek(p.puback), peek(received)]);
    const protocol = connackOutcome(connack, version, x);
    if (passed && suback?.ok && puback?.ok && got?.ok) {
      run.ctx.hub.subscriberReady(run.spec.id, fctx.topic, async (m) => (await session.receive(m)).ok);
      const timings = {
        pipelined: true,
        subscribeMs: suback.durationMs,
        grantedQos: suback.grantedQos,
        publishMs: puback.durationMs,
        deliveryMs: got.durationMs,
      };
      const doneMs = Math.max(0, Math.max(puback.durationMs, got.durationMs) - connack.durationMs);
      const out = [{ ...protocol, evidence: { ...protocol.evidence, pipelined: true } }];
      return keepAndHold(run, x, [...out, roundTripOutcome(x, doneMs, timings)]);
    }
    const why = whyNot([
      ['SUBACK', suback],
      ['PUBACK', puback],
    ]);
    if (!session.isClosed) {
      return noted(await roundTrip(run, x, [protocol]), `${why}; SUBSCRIBE and PUBLISH repeated on the connection`);
    }
  } else if (connack.kind === 'timeout') {
    // The CONNECT itself went unanswered for the whole step: the sequential exchange would wait the same way.
    return [mqttFailure('protocol', connack, 'connect', { ...fctx, reproduce: x.pub })];
  }
  const again = await onNewConnection(run, x, version, makeSession, answeredAt, turn);
  const why = connack.ok ? 'the connection closed after the pipelined CONNACK' : `CONNACK: ${connack.kind}`;
  return again ? noted(again, `${why}; repeated sequentially on a new connection`) : inOrder(x, version, connack, p);
}

/**
 * The sequential exchange on a new connection, its CONNECT at least `CONNECT_SPACING_MS` after the server answered
 * the pipelined one (`answeredAt`, `performance.now()` ms);
 * undefined when the run's deadline leaves no room for it or the new connection could not be made. The connection is
 * closed when the exchange (with its hold) is over.
 */
async function onNewConnection(
  run: RouteRun,
  x: Exchange,
  version: string,
  makeSession: (socket: Duplex) => MqttSession,
  answeredAt: number,
  turn?: ClientIdTurn,
): Promise<StageOutcome[] | undefined> {
  const waitMs = Math.max(0, Math.ceil(answeredAt + CONNECT_SPACING_MS - performance.now()));
  const afterWaitMs = repeatBudgetMs(run) - CONNECT_SPACING_MS - (run.tcpMs ?? 0);
  if (!run.reconnect || run.ctx.deadline.remainingMs() < waitMs + afterWaitMs) {
    return undefined;
  }
  await pause(waitMs, run.signal);
  const again = run.signal.aborted ? undefined : await run.reconnect();
  if (!again?.tls) return undefined;
  const socket = again.tls.socket;
  const session = makeSession(socket);
  try {
    turn?.connecting();
    return await exchange(run, { ...x, session }, version);
  } finally {
    session.end();
    const timer = setTimeout(() => socket.destroy(), 1000);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.end();
  }
}

/**
 * The pipelined answers read in order, as the sequential exchange would have met them (the MQTT standard's order of
 * processing): used only when no repetition fits in the run's deadline. The connection is closed by then, so every
 * step has settled.
 */
async function inOrder(
  x: Exchange,
  version: string,
  connack: MqttStep<{ sessionPresent: boolean }>,
  p: ReturnType<MqttSession['pipeline']>,
): Promise<StageOutcome[]> {
  const { fctx, pub, sub } = x;
  if (!connack.ok) return [mqttFailure('protocol', connack, 'connect', { ...fctx, reproduce: pub })];
  const protocol = connackOutcome(connack, version, x);
  const suback = await p.suback;
  if (!suback.ok) return [protocol, mqttFailure('round-trip', suback, 'subscribe', { ...fctx, reproduce: sub })];
  const puback = await p.puback;
  const failed = puback.ok ? ({ ok: false, kind: 'closed', durationMs: puback.durationMs } as const) : puback;
  return [protocol, mqttFailure('round-trip', failed, puback.ok ? 'receive' : 'publish', { ...fctx, reproduce: pub })];
}
