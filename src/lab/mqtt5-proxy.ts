/**
 * The MQTT 5 half of the lab's MQTT front: a packet-by-packet proxy between an accepted MQTT 5 client and the
 * mosquitto child, enforcing the policy on the way as AWS IoT does for MQTT 5 clients (facts §3, §3.2 reason codes):
 * a denied SUBSCRIBE gets SUBACK 0x87 for that filter, a denied QoS 1 PUBLISH a PUBACK 0x87, a denied QoS 0 PUBLISH
 * is dropped, a message the subscriber may not receive (iot:Receive, facts §7) is not delivered. AWS's limits (facts
 * §3.1): a topic over the limits gets DISCONNECT 0x90, a filter over them SUBACK 0x8F, a payload over 128 KB the
 * close. mosquitto's own CONNACK properties that AWS does not send (Maximum Packet Size, Receive Maximum) are removed,
 * a raised keep-alive is announced as Server Keep Alive, and PUBACK 0x10 (no subscribers: not an AWS code, facts
 * §3.2) becomes 0x00.
 */
import { createConnection, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { IPublishPacket, ISubackPacket, ISubscribePacket } from 'mqtt-packet';
import type { Authorizer, ConnectionIdentity } from './authz.js';
import { decodePacket, encodePacket, MqttFramer, PACKET_TYPE, packetType, type Packet } from './mqtt-codec.js';
import { EarlyPackets, type EarlyPacketsVariant } from './early-packets.js';
import type { DisconnectReason, PresenceSession } from './lifecycle.js';
import { MAX_PAYLOAD_BYTES, topicProblem } from './mqtt-limits.js';
import type { SocketTracker, TimerSet } from './net-util.js';
import type { LabRecords } from './records.js';

/** MQTT 5 reason codes the lab sends (facts §3.2). */
export const REASON = {
  success: 0x00,
  noMatchingSubscribers: 0x10,
  unspecified: 0x80,
  clientIdNotValid: 0x85,
  notAuthorized: 0x87,
  sessionTakenOver: 0x8e,
  quotaExceeded: 0x97,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
} as const;

/** What the proxy needs from the lab. */
export interface Mqtt5ProxyDeps {
  authorizer: Authorizer;
  tracker: SocketTracker;
  timers: TimerSet;
  log: (message: string) => void;
  /** Closes the client connection without a word (AWS style). */
  hangUp: (socket: Socket) => void;
  /** Session table and AWS IoT logs (records.ts); absent: none kept. */
  records?: LabRecords;
  /** The lifecycle session that ends when the proxy closes. */
  session?: PresenceSession;
  /** The CONNECT to send upstream instead of the client's (keep-alive brought within AWS's bounds). */
  rewritten?: Buffer;
  /** The keep-alive AWS applies (facts §3.1), announced as Server Keep Alive when it differs from the request. */
  keepalive?: number;
  /** Packets sent before the CONNACK: the lab variant of AWS's unconfirmed handling (early-packets.ts); default in order. */
  earlyPackets?: EarlyPacketsVariant;
}

/**
 * Starts proxying `client` (paused, its CONNECT already read) to mosquitto on 127.0.0.1:`port`. `bytes` holds what
 * the client sent so far; its first `connectLength` bytes are the CONNECT, forwarded as is. Either side closing
 * closes both; a protocol error on either side closes both. Never throws.
 */
export function proxyMqtt5(
  client: TLSSocket,
  identity: ConnectionIdentity,
  bytes: Buffer,
  connectLength: number,
  port: number,
  deps: Mqtt5ProxyDeps,
): void {
  new Mqtt5Proxy(client, identity, port, deps).start(bytes, connectLength);
}

/** The state of one proxied connection: topic aliases both ways and SUBSCRIBEs forwarded with filters removed. */
class Mqtt5Proxy {
  private readonly upstream: Socket;
  private readonly who: string;
  /** Topic aliases the client defined (client -> server direction). */
  private readonly clientAliases = new Map<number, string>();
  /** Topic aliases the broker defined (server -> client direction). */
  private readonly brokerAliases = new Map<number, string>();
  /** SUBSCRIBE packets forwarded with some filters removed: messageId -> per original filter, denied or not. */
  private readonly partialSubscribes = new Map<number, boolean[]>();
  private closing = false;
  private reason: DisconnectReason = 'CONNECTION_LOST';
  private readonly early: EarlyPackets | undefined;

  constructor(
    private readonly client: TLSSocket,
    private readonly identity: ConnectionIdentity,
    port: number,
    private readonly deps: Mqtt5ProxyDeps,
  ) {
    this.who = identity.clientId ?? '';
    const variant = deps.earlyPackets ?? 'in-order';
    this.early = variant === 'in-order' ? undefined : new EarlyPackets(variant, 5, deps.log);
    this.upstream = createConnection({ host: '127.0.0.1', port });
    deps.tracker.add(this.upstream);
    this.upstream.setNoDelay(true);
    this.upstream.on('error', () => {});
  }

  start(bytes: Buffer, connectLength: number): void {
    const { client, upstream } = this;
    const closeBoth = (): void => this.closeBoth();
    upstream.once('connect', () => {
      if (this.closing) return;
      upstream.write(this.deps.rewritten ?? bytes.subarray(0, connectLength));
      const handleClient = this.guard((f) => this.onClientFrame(f), new MqttFramer());
      const rest = bytes.subarray(connectLength);
      if (rest.length > 0) handleClient(rest);
      client.on('data', handleClient);
      client.resume();
    });
    upstream.on(
      'data',
      this.guard((f) => this.onBrokerFrame(f), new MqttFramer()),
    );
    upstream.once('close', closeBoth);
    client.once('close', closeBoth);
    client.once('end', closeBoth);
  }

  private closeBoth(): void {
    if (this.closing) return;
    this.closing = true;
    this.deps.session?.disconnected(this.reason);
    this.deps.hangUp(this.client);
    this.upstream.end();
    this.deps.timers.set(() => this.upstream.destroy(), 1_000);
  }

  /** A data listener that frames `chunk` and hands each packet to `fn`; a protocol error closes both sides. */
  private guard(fn: (frame: Buffer) => void, framer: MqttFramer): (chunk: Buffer) => void {
    return (chunk) => {
      if (this.closing) return;
      try {
        for (const frame of framer.push(chunk)) fn(frame);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        this.deps.log(`mqtt5: ${this.who} protocol error (${why}), closing`);
        this.closeBoth();
      }
    };
  }

  private allowed(action: string, kind: 'topic' | 'topicfilter', name: string): boolean {
    return this.deps.authorizer.allowed(this.identity, action, kind, name);
  }

  private onClientFrame(frame: Buffer): void {
    const early = this.early?.fromClient(frame);
    if (early === 'drop') return;
    if (early === 'close') {
      this.reason = 'CLIENT_ERROR';
      this.closeBoth();
      return;
    }
    const type = packetType(frame);
    if (type === PACKET_TYPE.disconnect) this.reason = 'CLIENT_INITIATED_DISCONNECT';
    if (type !== PACKET_TYPE.publish && type !== PACKET_TYPE.subscribe) {
      if (type === PACKET_TYPE.disconnect) this.deps.records?.clientDisconnect(this.client);
      this.upstream.write(frame);
      return;
    }
    const packet = decodePacket(frame, 5);
    if (packet.cmd === 'publish') this.onClientPublish(frame, packet);
    else if (packet.cmd === 'subscribe') this.onClientSubscribe(frame, packet);
    else this.upstream.write(frame);
  }

  /** iot:Publish (and iot:RetainPublish for a retained message) on the resolved topic (facts §7). */
  private onClientPublish(frame: Buffer, packet: IPublishPacket): void {
    const topic = resolveAlias(packet, this.clientAliases);
    if (this.overLimits(packet, topic)) return;
    const allowed =
      topic !== undefined &&
      this.allowed('iot:Publish', 'topic', topic) &&
      (!packet.retain || this.allowed('iot:RetainPublish', 'topic', topic));
    if (allowed) {
      this.upstream.write(frame);
      return;
    }
    const outcome = packet.qos === 1 ? ': PUBACK 0x87' : ': dropped';
    this.deps.records?.operationFailed(this.client, 'Publish-In', topic ?? '', 'Authorization Failure');
    this.deps.log(`mqtt5: ${this.who} PUBLISH ${topic ?? '(unknown alias)'} denied${outcome}`);
    if (packet.qos === 1 && packet.messageId !== undefined) {
      const puback: Packet = { cmd: 'puback', messageId: packet.messageId, reasonCode: REASON.notAuthorized };
      this.client.write(encodePacket(puback, 5));
    } else if (packet.qos === 2) {
      // QoS 2 is not supported by AWS IoT; let the broker refuse it (max_qos 1).
      this.upstream.write(frame);
    }
  }

  /** iot:Subscribe per filter: all allowed → forwarded; all denied → SUBACK 0x87 each; else forwarded reduced. */
  private onClientSubscribe(frame: Buffer, packet: ISubscribePacket): void {
    const invalid = packet.subscriptions.map((s) => topicProblem(s.topic) !== undefined);
    if (invalid.some(Boolean)) {
      // A filter over AWS's limits (facts §3.1): SUBACK 0x8F Topic Filter invalid for it, the rest judged as usual.
      this.deps.log(`mqtt5: ${this.who} SUBSCRIBE with a filter over the limits: SUBACK 0x8f`);
      const granted = packet.subscriptions.map((s, i) =>
        invalid[i]
          ? REASON.topicFilterInvalid
          : this.allowed('iot:Subscribe', 'topicfilter', s.topic)
            ? Math.min(s.qos, 1)
            : REASON.notAuthorized,
      );
      this.client.write(encodePacket({ cmd: 'suback', messageId: packet.messageId ?? 0, granted }, 5));
      return;
    }
    const deniedFlags = packet.subscriptions.map((s) => !this.allowed('iot:Subscribe', 'topicfilter', s.topic));
    if (!deniedFlags.some(Boolean)) {
      this.upstream.write(frame);
      return;
    }
    const deniedTopics = packet.subscriptions.filter((_, i) => deniedFlags[i]).map((s) => s.topic);
    this.deps.log(`mqtt5: ${this.who} SUBSCRIBE ${deniedTopics.join(', ')} denied: SUBACK 0x87`);
    for (const t of deniedTopics)
      this.deps.records?.operationFailed(this.client, 'Subscribe', t, 'Authorization Failure');
    const messageId = packet.messageId ?? 0;
    if (deniedFlags.every(Boolean)) {
      const suback: ISubackPacket = { cmd: 'suback', messageId, granted: deniedFlags.map(() => REASON.notAuthorized) };
      this.client.write(encodePacket(suback, 5));
      return;
    }
    this.partialSubscribes.set(messageId, deniedFlags);
    const reduced: ISubscribePacket = {
      ...packet,
      subscriptions: packet.subscriptions.filter((_, i) => !deniedFlags[i]),
    };
    this.upstream.write(encodePacket(reduced, 5));
  }

  /**
   * AWS's limits on a client PUBLISH (facts §3.1): a topic over them gets DISCONNECT 0x90 and the close, a payload
   * over 128 KB the close. True when the connection is being closed.
   */
  private overLimits(packet: IPublishPacket, topic: string | undefined): boolean {
    const problem = topic === undefined ? undefined : topicProblem(topic);
    const size = Buffer.byteLength(packet.payload);
    if (!problem && size <= MAX_PAYLOAD_BYTES) return false;
    this.deps.log(`mqtt5: ${this.who} PUBLISH refused (${problem ?? `payload of ${size} bytes`}), closing`);
    if (problem) this.client.write(encodePacket({ cmd: 'disconnect', reasonCode: REASON.topicNameInvalid }, 5));
    this.reason = 'CLIENT_ERROR';
    this.closeBoth();
    return true;
  }

  /** mosquitto's CONNACK as AWS would send it: no Maximum Packet Size or Receive Maximum; Server Keep Alive. */
  private connack(frame: Buffer): Buffer {
    const packet = decodePacket(frame, 5);
    if (packet.cmd !== 'connack') return frame;
    const properties = { ...(packet.properties ?? {}) };
    delete properties.maximumPacketSize;
    delete properties.receiveMaximum;
    const keepalive = this.deps.keepalive;
    if (this.deps.rewritten && keepalive !== undefined && properties.serverKeepAlive === undefined) {
      properties.serverKeepAlive = keepalive;
    }
    return encodePacket({ ...packet, properties }, 5);
  }

  private onBrokerFrame(frame: Buffer): void {
    const type = packetType(frame);
    if (this.early && !this.early.toClient(frame)) {
      // Kept from the client by the lab variant: acknowledged to the broker as if delivered.
      const packet = decodePacket(frame, 5);
      if (packet.cmd === 'publish' && packet.qos === 1 && packet.messageId !== undefined) {
        this.upstream.write(encodePacket({ cmd: 'puback', messageId: packet.messageId, reasonCode: 0 }, 5));
      }
      return;
    }
    if (type === PACKET_TYPE.connack) {
      this.client.write(this.connack(frame));
      return;
    }
    if (type === PACKET_TYPE.puback) {
      const puback = decodePacket(frame, 5);
      if (puback.cmd === 'puback' && puback.reasonCode === REASON.noMatchingSubscribers) {
        this.client.write(encodePacket({ ...puback, reasonCode: REASON.success }, 5));
        return;
      }
    }
    if (type === PACKET_TYPE.publish) {
      this.onBrokerPublish(frame, decodePacket(frame, 5) as IPublishPacket);
      return;
    }
    if (type === PACKET_TYPE.suback && this.partialSubscribes.size > 0) {
      if (this.mergeSuback(decodePacket(frame, 5) as ISubackPacket)) return;
    }
    this.client.write(frame);
  }

  /** iot:Receive on the delivered topic; an undeliverable QoS 1 message is acknowledged to the broker. */
  private onBrokerPublish(frame: Buffer, packet: IPublishPacket): void {
    const topic = resolveAlias(packet, this.brokerAliases);
    if (topic !== undefined && this.allowed('iot:Receive', 'topic', topic)) {
      this.client.write(frame);
      return;
    }
    this.deps.log(`mqtt5: ${this.who} not authorized to receive ${topic ?? '(unknown alias)'}; message not delivered`);
    if (packet.qos === 1 && packet.messageId !== undefined) {
      const puback: Packet = { cmd: 'puback', messageId: packet.messageId, reasonCode: REASON.success };
      this.upstream.write(encodePacket(puback, 5));
    }
  }

  /** Answers a reduced SUBSCRIBE with 0x87 in the denied filters' places; false when it was not a reduced one. */
  private mergeSuback(packet: ISubackPacket): boolean {
    const flags = this.partialSubscribes.get(packet.messageId ?? 0);
    if (!flags) return false;
    this.partialSubscribes.delete(packet.messageId ?? 0);
    const fromUpstream = [...(packet.granted as number[])];
    const merged = flags.map((isDenied) =>
      isDenied ? REASON.notAuthorized : (fromUpstream.shift() ?? REASON.unspecified),
    );
    this.client.write(encodePacket({ ...packet, granted: merged }, 5));
    return true;
  }
}

/** The topic of a PUBLISH, resolving (and learning) MQTT 5 topic aliases; `undefined` for an unknown alias. */
function resolveAlias(packet: Packet, aliases: Map<number, string>): string | undefined {
  if (packet.cmd !== 'publish') return undefined;
  const alias = packet.properties?.topicAlias;
  if (alias === undefined) return packet.topic;
  if (packet.topic) {
    aliases.set(alias, packet.topic);
    return packet.topic;
  }
  return aliases.get(alias);
}
