/**
 * MQTT over a socket that is already open (the route's own TLS socket): no second handshake. Each step returns a
 * classified outcome; nothing here waits without a deadline. mqtt.js never settles a connect when the server closes
 * the socket after CONNECT without a word (AWS's answer to an unauthorized client), so the socket's own close is
 * watched at every step.
 */
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import type { MqttClient } from 'mqtt';
import { alertFromError } from './tls.js';

/** MQTT 3.1.1 CONNACK return codes (MQTT 3.1.1 §3.2.2.3) by number. */
export const CONNACK_V3: Readonly<Record<number, string>> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

/** MQTT 5 reason codes of 0x80 and above (MQTT 5 §2.4) by number. */
export const REASON_V5: Readonly<Record<number, string>> = {
  0x80: 'unspecified error',
  0x81: 'malformed packet',
  0x82: 'protocol error',
  0x83: 'implementation specific error',
  0x84: 'unsupported protocol version',
  0x85: 'client identifier not valid',
  0x86: 'bad user name or password',
  0x87: 'not authorized',
  0x88: 'server unavailable',
  0x89: 'server busy',
  0x8a: 'banned',
  0x8b: 'server shutting down',
  0x8c: 'bad authentication method',
  0x8d: 'keep alive timeout',
  0x8e: 'session taken over',
  0x8f: 'topic filter invalid',
  0x90: 'topic name invalid',
  0x91: 'packet identifier in use',
  0x93: 'receive maximum exceeded',
  0x94: 'topic alias invalid',
  0x97: 'quota exceeded',
  0x98: 'administrative action',
  0x9b: 'QoS not supported',
  0x9c: 'use another server',
  0x9d: 'server moved',
  0x9f: 'connection rate exceeded',
  0xa1: 'subscription identifiers not supported',
};

/** `0x87 not authorized`: a reason or return code in hex with its name for the protocol version. */
export function reasonName(code: number, version: 4 | 5): string {
  const name = version === 5 ? REASON_V5[code] : CONNACK_V3[code];
  return `0x${code.toString(16).padStart(2, '0')} ${name ?? 'unknown'}`;
}

/** The outcome of one MQTT exchange: done (with its data), refused (reason code), closed, timed out or an error. */
export type MqttStep<T = unknown> =
  | ({ ok: true; durationMs: number } & T)
  | { ok: false; kind: 'refused'; code: number; reason: string; durationMs: number }
  | { ok: false; kind: 'closed'; durationMs: number; alert?: string; disconnectReason?: string }
  | { ok: false; kind: 'timeout'; durationMs: number }
  | { ok: false; kind: 'error'; message: string; durationMs: number };

/** Client id, protocol version (4 = 3.1.1, 5), keep-alive in seconds and the per-step deadline in milliseconds. */
export interface MqttSessionOptions {
  clientId: string;
  version: 4 | 5;
  keepaliveSeconds: number;
  timeoutMs: number;
}

interface Pending {
  fail: (step: MqttStep<never>) => void;
}

/** The MQTT client library is loaded by runs that use it (before their routes start), not at start-up. */
let mqttCache: typeof import('mqtt') | undefined;
/** The `mqtt` package, loaded on first use (synchronously, through require) and cached. */
export function loadMqtt(): typeof import('mqtt') {
  mqttCache ??= createRequire(import.meta.url)('mqtt') as typeof import('mqtt');
  return mqttCache;
}

/** One MQTT session over an open duplex: each method is one bounded exchange returning an `MqttStep`. */
export class MqttSession {
  private readonly client: MqttClient;
  private closed = false;
  private closeInfo: { alert?: string; disconnectReason?: string } = {};
  private pending = new Set<Pending>();
  private readonly messages: { topic: string; payload: Buffer }[] = [];
  private messageWaiters = new Set<(m: { topic: string; payload: Buffer }) => void>();

  /** @param socket the open connection to speak over (not connected yet: call `connect`). */
  constructor(
    socket: Duplex,
    private readonly opts: MqttSessionOptions,
  ) {
    this.client = new (loadMqtt().MqttClient)(() => socket as never, {
      clientId: opts.clientId,
      protocolVersion: opts.version,
      keepalive: opts.keepaliveSeconds,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: opts.timeoutMs,
      resubscribe: false,
      manualConnect: true,
    });
    this.client.on('error', (err) => {
      const alert = alertFromError(err);
      if (alert) this.closeInfo.alert = alert.name;
    });
    this.client.on('disconnect', (packet) => {
      const code = packet.reasonCode ?? 0;
      this.closeInfo.disconnectReason = reasonName(code, 5);
    });
    this.client.on('close', () => {
      this.closed = true;
      for (const p of [...this.pending]) p.fail({ ok: false, kind: 'closed', durationMs: 0, ...this.closeInfo });
    });
    this.client.on('message', (topic, payload) => {
      const m = { topic, payload: Buffer.from(payload) };
      this.messages.push(m);
      for (const w of [...this.messageWaiters]) w(m);
    });
  }

  /** True once the connection closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Run one exchange with a deadline; a close of the socket ends it as `closed`. */
  private step<T>(start: (done: (s: MqttStep<T>) => void) => void): Promise<MqttStep<T>> {
    const started = performance.now();
    const ms = (): number => Math.round(performance.now() - started);
    return new Promise((resolve) => {
      let settled = false;
      const entry: Pending = { fail: (s) => finish({ ...s, durationMs: ms() }) };
      const finish = (s: MqttStep<T>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pending.delete(entry);
        resolve(s);
      };
      const timer = setTimeout(() => finish({ ok: false, kind: 'timeout', durationMs: ms() }), this.opts.timeoutMs);
      if (this.closed) {
        finish({ ok: false, kind: 'closed', durationMs: 0, ...this.closeInfo });
        return;
      }
      this.pending.add(entry);
      start((s) => finish(s.ok ? { ...s, durationMs: ms() } : { ...s, durationMs: ms() }));
    });
  }

  /** CONNECT and wait for CONNACK (clean session; no reconnect). */
  connect(): Promise<MqttStep<{ sessionPresent: boolean; properties?: Record<string, unknown> }>> {
    return this.step((done) => {
      this.client.once('connect', (connack) => {
        done({
          ok: true,
          durationMs: 0,
          sessionPresent: Boolean(connack.sessionPresent),
          ...(connack.properties ? { properties: connack.properties as Record<string, unknown> } : {}),
        });
      });
      this.client.once('error', (err: Error & { code?: number | string }) => {
        if (typeof err.code === 'number') {
          done({
            ok: false,
            kind: 'refused',
            code: err.code,
            reason: reasonName(err.code, this.opts.version),
            durationMs: 0,
          });
        }
      });
      this.client.connect();
    });
  }

  /** SUBSCRIBE at QoS 1 and wait for SUBACK (a granted QoS of 0x80 or more is `refused`). */
  subscribe(topic: string): Promise<MqttStep<{ grantedQos: number }>> {
    return this.step((done) => {
      this.client.subscribe(topic, { qos: 1 }, (err, granted) => {
        const qos = granted?.[0]?.qos;
        if (typeof qos === 'number' && qos < 128) done({ ok: true, durationMs: 0, grantedQos: qos });
        else if (typeof qos === 'number')
          done({ ok: false, kind: 'refused', code: qos, reason: reasonName(qos, 5), durationMs: 0 });
        else if (err && !this.closed) done({ ok: false, kind: 'error', message: err.message, durationMs: 0 });
      });
    });
  }

  /** PUBLISH at QoS 1 and wait for PUBACK. */
  publish(topic: string, payload: string): Promise<MqttStep> {
    return this.step((done) => {
      this.client.publish(topic, payload, { qos: 1, retain: false }, (err) => {
        if (!err) return done({ ok: true, durationMs: 0 });
        const code = (err as Error & { code?: number }).code;
        if (typeof code === 'number')
          done({ ok: false, kind: 'refused', code, reason: reasonName(code, 5), durationMs: 0 });
        else if (!this.closed) done({ ok: false, kind: 'error', message: err.message, durationMs: 0 });
      });
    });
  }

  /** Wait for a message whose payload contains `marker` (already received ones count). */
  receive(marker: string): Promise<MqttStep<{ topic: string }>> {
    return this.step<{ topic: string }>((done) => {
      const hit = this.messages.find((m) => m.payload.includes(marker));
      if (hit) return done({ ok: true, durationMs: 0, topic: hit.topic });
      const waiter = (m: { topic: string; payload: Buffer }): void => {
        if (m.payload.includes(marker)) {
          this.messageWaiters.delete(waiter);
          done({ ok: true, durationMs: 0, topic: m.topic });
        }
      };
      this.messageWaiters.add(waiter);
      setTimeout(() => this.messageWaiters.delete(waiter), this.opts.timeoutMs + 10).unref();
    });
  }

  /**
   * Clean exit: DISCONNECT, then close our side. Nothing waits for the server's answer (a round trip the result
   * does not need); the route closes the socket in the background. Errors after this point are ignored.
   */
  end(): void {
    if (!this.closed) this.client.end(false);
  }
}
