/**
 * MQTT over a socket that is already open (the route's own TLS socket): no second handshake. Each step returns a
 * classified outcome; nothing here waits without a deadline. The packets are encoded and decoded with mqtt-packet
 * and written by this session itself (not through a client library): it loads in a fraction of mqtt.js's time, and
 * every step sees the socket's own close, which is how AWS IoT answers an unauthorized CONNECT with MQTT 3.1.1
 * (facts §3: no CONNACK, the connection is closed).
 */
import type { Duplex } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import type { IConnackPacket, IPublishPacket, ISubackPacket, Packet } from 'mqtt-packet';
import { describeBytes } from './bytes.js';
import { alertFromError } from './tls.js';

export const CONNACK_V3: Readonly<Record<number, string>> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

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

/**
 * A reason or return code as text, e.g. `0x87 not authorized`: MQTT 5 reason codes (MQTT 5 §2.4) for version 5, the
 * CONNACK return codes of MQTT 3.1.1 §3.2.2.3 for version 4.
 */
export function reasonName(code: number, version: 4 | 5): string {
  const name = version === 5 ? REASON_V5[code] : CONNACK_V3[code];
  return `0x${code.toString(16).padStart(2, '0')} ${name ?? 'unknown'}`;
}

export type MqttStep<T = unknown> =
  | ({ ok: true; durationMs: number } & T)
  | { ok: false; kind: 'refused'; code: number; reason: string; durationMs: number }
  | { ok: false; kind: 'closed'; durationMs: number; alert?: string; disconnectReason?: string }
  | { ok: false; kind: 'timeout'; durationMs: number }
  | { ok: false; kind: 'error'; message: string; durationMs: number }
  /** The server sent bytes that are not the MQTT this step allows: a middlebox or another service on the port. */
  | { ok: false; kind: 'invalid'; message: string; durationMs: number }
  /** The server announced or sent a packet above MAX_PACKET_BYTES (AWS IoT's 128 KB limit plus headroom). */
  | { ok: false; kind: 'too-large'; message: string; durationMs: number };

export interface MqttSessionOptions {
  clientId: string;
  version: 4 | 5;
  keepaliveSeconds: number;
  timeoutMs: number;
  /** The deadline of the next step in ms, when a whole run's deadline cuts `timeoutMs` (read at each step). */
  stepMs?: () => number;
  /** CONNECT user name (custom authentication carries the authorizer query in it; field notes §5.2). */
  username?: string;
  /** CONNECT password (a secret: sent, never reported). */
  password?: string;
}

interface Pending {
  fail: (step: MqttStep<never>) => void;
}

type MqttPacketModule = typeof mqttPacket;
// By default mqtt-packet's first generate() fills a cache of 65536 two-byte buffers (tens of ms plus their garbage
// collection), in the middle of the other routes' handshakes; a probe writes a handful of packets: allocate each number.
mqttPacket.writeToStream.cacheNumbers = false;
/**
 * The MQTT packet codec (mqtt-packet). The CLI's bundle compiles it in without the stream parts (scripts/bundle.mjs),
 * so importing it costs a few ms; returns the module.
 */
export function loadMqtt(): MqttPacketModule {
  return mqttPacket;
}

/**
 * The largest packet accepted from the server: AWS IoT's 128 KB maximum packet and payload (facts §3.1, §3.2) plus
 * 16 KB for the topic, properties and header. A length field above it ends the step at once, before any byte of the
 * body is buffered.
 */
export const MAX_PACKET_BYTES = 144 * 1024;
/** Bytes the server may send without completing a packet (the buffer cap behind MAX_PACKET_BYTES). */
export const MAX_PENDING_BYTES = MAX_PACKET_BYTES + 8;
/** First bytes (fixed header type and flags) a server may open with: CONNACK; MQTT 5 also AUTH or DISCONNECT. */
const FIRST_PACKET_BYTES: Readonly<Record<4 | 5, readonly number[]>> = { 4: [0x20], 5: [0x20, 0xe0, 0xf0] };

/** Received messages kept for `receive()`; older ones are dropped first. */
const MAX_MESSAGES = 256;

type Waiter = (packet: Packet) => boolean;

/** What an accepted CONNACK says: the session-present flag and the MQTT 5 properties. */
export interface Connacked {
  sessionPresent: boolean;
  properties?: Record<string, unknown>;
}

/** The answers to a pipelined CONNECT, SUBSCRIBE and PUBLISH (`MqttSession.pipeline`), each timed from the write. */
export interface Pipelined {
  connack: Promise<MqttStep<Connacked>>;
  suback: Promise<MqttStep<{ grantedQos: number }>>;
  puback: Promise<MqttStep>;
}

/** The SUBACK of SUBSCRIBE `id`: ok with the granted QoS, or `refused` for a code ≥ 0x80; other packets: undefined. */
function subackStep(packet: Packet, id: number): MqttStep<{ grantedQos: number }> | undefined {
  if (packet.cmd !== 'suback' || packet.messageId !== id) return undefined;
  const first = (packet as ISubackPacket).granted[0];
  const qos = typeof first === 'number' ? first : 0x80;
  return qos < 0x80
    ? { ok: true, durationMs: 0, grantedQos: qos }
    : { ok: false, kind: 'refused', code: qos, reason: reasonName(qos, 5), durationMs: 0 };
}

/** The PUBACK of PUBLISH `id`: ok, or `refused` for an MQTT 5 reason code ≥ 0x80; other packets: undefined. */
function pubackStep(packet: Packet, id: number): MqttStep | undefined {
  if (packet.cmd !== 'puback' || packet.messageId !== id) return undefined;
  const code = packet.reasonCode ?? 0;
  return code < 0x80
    ? { ok: true, durationMs: 0 }
    : { ok: false, kind: 'refused', code, reason: reasonName(code, 5), durationMs: 0 };
}

/** What `MqttSession.hold` saw: closed or not, the MQTT 5 DISCONNECT reason code, the TLS alert, ms held. */
export interface HoldOutcome {
  closed: boolean;
  reasonCode?: number;
  alert?: string;
  heldMs: number;
}

/**
 * One MQTT session (3.1.1 or 5) on an open socket: CONNECT, SUBSCRIBE, PUBLISH QoS 1, receive, DISCONNECT. Each
 * step resolves to an `MqttStep` within `timeoutMs`: ok, refused (CONNACK/SUBACK/PUBACK reason code), closed (with
 * the TLS alert or MQTT 5 DISCONNECT reason when there was one), timeout, or error (a malformed packet).
 */
export class MqttSession {
  private closed = false;
  private closeInfo: { alert?: string; disconnectReason?: string } = {};
  private disconnectCode: number | undefined;
  private pending = new Set<Pending>();
  private readonly waiters = new Set<Waiter>();
  private readonly messages: { topic: string; payload: Buffer }[] = [];
  private readonly codec = loadMqtt();
  private readonly parser: ReturnType<MqttPacketModule['parser']>;
  private pendingBytes = 0;
  private receivedBytes = 0;
  private ping: NodeJS.Timeout | undefined;
  private protocolError: Extract<MqttStep<never>, { kind: 'error' | 'invalid' | 'too-large' }> | undefined;
  /** The next packet identifier of a SUBSCRIBE or PUBLISH (1-65535, MQTT 3.1.1 §2.3.1): each attempt uses new ones. */
  private nextPacketId = 1;

  constructor(
    private readonly socket: Duplex,
    private readonly opts: MqttSessionOptions,
  ) {
    this.parser = this.codec.parser({ protocolVersion: opts.version });
    this.parser.on('packet', (packet: Packet) => {
      this.pendingBytes = 0;
      this.onPacket(packet);
    });
    this.parser.on('error', (err: Error) =>
      this.fail('invalid', `the server's answer is not valid MQTT: ${err.message}`),
    );
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      const alert = alertFromError(err);
      if (alert) this.closeInfo.alert = alert.name;
    });
    socket.on('close', () => this.onClose());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ping);
    for (const p of [...this.pending]) p.fail({ ok: false, kind: 'closed', durationMs: 0, ...this.closeInfo });
  }

  /**
   * Bytes from the server, bounded: the first byte must open a packet the server may send first (MQTT 3.1.1 §3.2:
   * CONNACK), no length field may announce more than MAX_PACKET_BYTES, no packet may stay incomplete beyond
   * MAX_PENDING_BYTES. Anything else ends the session at once, before the bytes are buffered.
   */
  private onData(chunk: Buffer): void {
    if (this.protocolError || chunk.length === 0) return;
    if (this.receivedBytes === 0 && !FIRST_PACKET_BYTES[this.opts.version].includes(chunk[0]!)) {
      this.fail('invalid', `the server answered with bytes that are not MQTT (${describeBytes(chunk)})`);
      return;
    }
    this.receivedBytes += chunk.length;
    this.pendingBytes += chunk.length;
    if (this.pendingBytes > MAX_PENDING_BYTES) {
      this.fail('too-large', `the server sent more than ${MAX_PENDING_BYTES} bytes without a whole MQTT packet`);
      return;
    }
    this.parser.parse(chunk);
    const announced = (this.parser as unknown as { packet?: { length?: number } }).packet?.length ?? -1;
    if (announced > MAX_PACKET_BYTES && !this.protocolError) {
      this.fail(
        'too-large',
        `the server announced an MQTT packet of ${announced} bytes, above the ${MAX_PACKET_BYTES} accepted ` +
          '(AWS IoT sends at most 128 KB)',
      );
    }
  }

  /** A protocol violation by the server: every waiting step ends with it, the connection is dropped. */
  private fail(kind: 'error' | 'invalid' | 'too-large', message: string): void {
    const failure = (this.protocolError ??= { ok: false, kind, message, durationMs: 0 });
    for (const p of [...this.pending]) p.fail(failure);
    this.socket.destroy();
  }

  private onPacket(packet: Packet): void {
    if (packet.cmd === 'publish') {
      this.onPublish(packet);
      return;
    }
    if (packet.cmd === 'disconnect') {
      this.disconnectCode = packet.reasonCode ?? 0;
      this.closeInfo.disconnectReason = reasonName(packet.reasonCode ?? 0, 5);
      return;
    }
    for (const w of [...this.waiters]) if (w(packet)) return;
  }

  private onPublish(packet: IPublishPacket): void {
    if (packet.qos === 1 && packet.messageId !== undefined) this.send({ cmd: 'puback', messageId: packet.messageId });
    const m = { topic: packet.topic, payload: Buffer.from(packet.payload) };
    this.messages.push(m);
    if (this.messages.length > MAX_MESSAGES) this.messages.shift();
    // Several receive() steps may wait at once (one marker each): every one sees every message.
    for (const w of [...this.waiters]) w(packet);
  }

  private send(...packets: Packet[]): void {
    if (this.closed || this.socket.destroyed) return;
    const bytes = packets.map((p) => this.codec.generate(p, { protocolVersion: this.opts.version }));
    // One write: pipelined packets leave in one TLS record and one TCP segment.
    this.socket.write(bytes.length === 1 ? bytes[0]! : Buffer.concat(bytes));
  }

  private packetId(): number {
    const id = this.nextPacketId;
    this.nextPacketId = (id % 65535) + 1;
    return id;
  }

  /**
   * Run one exchange with a deadline: `start` sends (or returns the step at once), `match` sees every packet from the
   * server until it returns a step. A close of the socket ends it as `closed`.
   */
  private step<T>(
    start: () => MqttStep<T> | undefined,
    match: (packet: Packet) => MqttStep<T> | undefined,
  ): Promise<MqttStep<T>> {
    const started = performance.now();
    const ms = (): number => Math.round(performance.now() - started);
    return new Promise((resolve) => {
      let settled = false;
      const finish = (s: MqttStep<T>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pending.delete(entry);
        this.waiters.delete(waiter);
        resolve({ ...s, durationMs: ms() });
      };
      const entry: Pending = { fail: (s) => finish(s) };
      const waiter: Waiter = (packet) => {
        const s = match(packet);
        if (s) finish(s);
        return s !== undefined;
      };
      const waitMs = this.opts.stepMs?.() ?? this.opts.timeoutMs;
      const timer = setTimeout(() => finish({ ok: false, kind: 'timeout', durationMs: 0 }), waitMs);
      if (this.protocolError) return finish(this.protocolError);
      if (this.closed) return finish({ ok: false, kind: 'closed', durationMs: 0, ...this.closeInfo });
      this.pending.add(entry);
      this.waiters.add(waiter);
      const now = start();
      if (now) finish(now);
    });
  }

  /** The CONNECT of this session: clean session, the client id, keep-alive, user name and password when given. */
  private connectPacket(): Packet {
    const { clientId, version, keepaliveSeconds, username, password } = this.opts;
    return {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: version,
      clean: true,
      clientId,
      keepalive: keepaliveSeconds,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password: Buffer.from(password, 'utf8') } : {}),
    };
  }

  private connackStep(packet: Packet): MqttStep<Connacked> | undefined {
    if (packet.cmd !== 'connack') return undefined;
    const version = this.opts.version;
    const connack = packet as IConnackPacket;
    const code = (version === 5 ? connack.reasonCode : connack.returnCode) ?? 0;
    if (code !== 0) return { ok: false, kind: 'refused', code, reason: reasonName(code, version), durationMs: 0 };
    this.startPing();
    return {
      ok: true,
      durationMs: 0,
      sessionPresent: Boolean(connack.sessionPresent),
      ...(connack.properties ? { properties: connack.properties as Record<string, unknown> } : {}),
    };
  }

  /** CONNECT with a clean session; CONNACK 0 is ok, any other code `refused` (MQTT 3.1.1 §3.2.2.3, MQTT 5 §3.2.2.2). */
  connect(): Promise<MqttStep<Connacked>> {
    return this.step<Connacked>(
      () => {
        this.send(this.connectPacket());
        return undefined;
      },
      (packet) => this.connackStep(packet),
    );
  }

  /**
   * CONNECT, SUBSCRIBE QoS 1 on `topic` and PUBLISH QoS 1 of `payload` on it, in one write, without waiting for the
   * CONNACK (MQTT 3.1.1 §3.1.4: the client may send more packets right after CONNECT; the server must not process
   * them before it accepted the CONNECT). Returns the three answers as `connect()`, `subscribe()` and `publish()`
   * would (each timed in ms from the write); the packet identifiers are fresh, so a later `subscribe()` or
   * `publish()` on the same session is never confused with these.
   */
  pipeline(topic: string, payload: string): Pipelined {
    const subscribeId = this.packetId();
    const publishId = this.packetId();
    const connack = this.step<Connacked>(
      () => undefined,
      (p) => this.connackStep(p),
    );
    const suback = this.step<{ grantedQos: number }>(
      () => undefined,
      (p) => subackStep(p, subscribeId),
    );
    const puback = this.step<unknown>(
      () => undefined,
      (p) => pubackStep(p, publishId),
    );
    this.send(
      this.connectPacket(),
      { cmd: 'subscribe', messageId: subscribeId, subscriptions: [{ topic, qos: 1 }] },
      { cmd: 'publish', topic, payload, qos: 1, messageId: publishId, retain: false, dup: false },
    );
    return { connack, suback, puback };
  }

  /** PINGREQ every keep-alive interval while the session lasts, so a long wait never trips the server's timer. */
  private startPing(): void {
    const every = this.opts.keepaliveSeconds * 1000;
    if (every <= 0 || this.ping) return;
    this.ping = setInterval(() => this.send({ cmd: 'pingreq' }), every);
    this.ping.unref();
  }

  /** SUBSCRIBE QoS 1; a granted QoS ≥ 0x80 in the SUBACK is `refused` (3.1.1: 0x80 failure; 5: the reason code). */
  subscribe(topic: string): Promise<MqttStep<{ grantedQos: number }>> {
    const id = this.packetId();
    return this.step<{ grantedQos: number }>(
      () => {
        this.send({ cmd: 'subscribe', messageId: id, subscriptions: [{ topic, qos: 1 }] });
        return undefined;
      },
      (packet) => subackStep(packet, id),
    );
  }

  /** PUBLISH QoS 1, not retained; an MQTT 5 PUBACK reason code ≥ 0x80 is `refused`. */
  publish(topic: string, payload: string): Promise<MqttStep> {
    const id = this.packetId();
    return this.step<unknown>(
      () => {
        this.send({ cmd: 'publish', topic, payload, qos: 1, messageId: id, retain: false, dup: false });
        return undefined;
      },
      (packet) => pubackStep(packet, id),
    );
  }

  /**
   * Keeps the idle session open up to `ms` milliseconds (or until `signal` aborts), watching for the server closing
   * it: resolves with whether it closed, the MQTT 5 DISCONNECT reason code and TLS alert if any, and how long it was
   * held (ms). AWS IoT closes a session when another client connects with its client id, MQTT 5 with DISCONNECT 0x8E
   * (facts §3, §3.2).
   */
  hold(ms: number, signal?: AbortSignal): Promise<HoldOutcome> {
    const started = performance.now();
    const report = (): HoldOutcome => ({
      closed: this.closed,
      ...(this.disconnectCode !== undefined ? { reasonCode: this.disconnectCode } : {}),
      ...(this.closeInfo.alert ? { alert: this.closeInfo.alert } : {}),
      heldMs: Math.round(performance.now() - started),
    });
    if (this.closed || ms <= 0) return Promise.resolve(report());
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.socket.off('close', finish);
        signal?.removeEventListener('abort', finish);
        resolve(report());
      };
      const timer = setTimeout(finish, ms);
      this.socket.on('close', finish);
      signal?.addEventListener('abort', finish, { once: true });
    });
  }
  /** Wait for a message whose payload contains `marker` (already received ones count). */
  receive(marker: string): Promise<MqttStep<{ topic: string }>> {
    return this.step<{ topic: string }>(
      () => {
        const hit = this.messages.find((m) => m.payload.includes(marker));
        return hit ? { ok: true, durationMs: 0, topic: hit.topic } : undefined;
      },
      (packet) =>
        packet.cmd === 'publish' && Buffer.from(packet.payload).includes(marker)
          ? { ok: true, durationMs: 0, topic: packet.topic }
          : undefined,
    );
  }

  /**
   * Clean exit: DISCONNECT, then close our side of the network connection (MQTT 3.1.1 §3.14.4, MQTT 5 §3.14.4: the
   * client MUST close it after DISCONNECT; a broker may count the session as live until it does). Nothing waits for
   * the server's answer (a round trip the result does not need). Errors after this point are ignored.
   */
  end(): void {
    clearInterval(this.ping);
    if (this.closed) return;
    this.send({ cmd: 'disconnect' });
    this.socket.end();
  }
}
