/**
 * The stream aedes reads for one accepted MQTT 3.1.1 connection: the client's packets, framed and filtered as AWS
 * IoT treats them before any policy check (facts §3, §3.1):
 *
 * - a QoS 2 PUBLISH, or a SUBSCRIBE asking for QoS 2, is not supported and simply not acknowledged (no PUBREC /
 *   PUBACK / SUBACK; the connection stays open);
 * - a topic name or filter over the broker limits, or a payload over 128 KB, closes the connection.
 *
 * Everything else goes to aedes unchanged; what aedes writes goes to the client.
 */
import { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { IPublishPacket, ISubscribePacket } from 'mqtt-packet';
import type { EarlyPackets } from './early-packets.js';
import { decodePacket, MqttFramer, PACKET_TYPE, packetType } from './mqtt-codec.js';
import { MAX_PAYLOAD_BYTES, topicProblem } from './mqtt-limits.js';

/** What the filtered stream reports to the MQTT front. */
export interface Mqtt311Events {
  log: (message: string) => void;
  /** Closes the client connection without a word (AWS style). */
  hangUp: () => void;
  /** The client sent DISCONNECT. */
  onDisconnect: () => void;
  /** The lab closed the connection for a limit (lifecycle reason CLIENT_ERROR). */
  onViolation: () => void;
}

type Verdict = 'pass' | 'drop' | 'close';

/**
 * A Duplex over `socket` (paused, its CONNECT already read): `first` (the CONNECT as aedes should see it, then any
 * bytes read after it) is fed first, then the socket's data; frames are filtered as the file comment says. Closing
 * either side closes the other. Never throws.
 */
export class Mqtt311Connection extends Duplex {
  private readonly framer = new MqttFramer();
  /** Frames what aedes writes: whole packets to the client, and `early` sees them. */
  private readonly outFramer = new MqttFramer();
  private readonly who: string;
  private sawConnect = false;

  /**
   * Starts reading `socket` at once. `early`: a lab variant of the handling of packets sent before the CONNACK
   * (early-packets.ts); absent: processed in order, as the MQTT standard says.
   */
  constructor(
    private readonly socket: TLSSocket,
    first: Buffer,
    clientId: string,
    private readonly events: Mqtt311Events,
    private readonly early?: EarlyPackets,
  ) {
    super();
    this.who = clientId;
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
    socket.once('end', () => this.push(null));
    socket.once('close', () => this.destroy());
    this.feed(first);
    socket.resume();
  }

  /** aedes reads at its pace; the lab does not apply back-pressure to the client. */
  override _read(): void {}

  /**
   * What aedes writes, one complete MQTT packet per socket write: mqtt-packet hands a packet over in pieces (fixed
   * header, remaining length, topic, payload), and each piece written as it comes would leave as its own TLS record
   * and TCP segment (the socket has Nagle off). A CONNACK, SUBACK, PUBACK and delivery then took 19 segments, more
   * than the server's congestion window, so the last waited one round trip for the client's ACKs (the delivery of a
   * pipelined exchange one RTT after its CONNACK). A broker sends each control packet whole (common server behaviour,
   * which the lab follows where AWS documents nothing: mosquitto assembles a packet in one buffer and hands it to
   * SSL_write at once); so does the lab (test/integration/lab-packet-records.test.ts).
   */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.socket.destroyed) return callback();
    let frames: Buffer[];
    try {
      frames = this.outFramer.push(chunk);
    } catch {
      frames = [];
    }
    if (this.early) frames = frames.filter((f) => this.early!.toClient(f));
    if (frames.length === 0) return callback();
    this.socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames), () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.events.hangUp();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.events.hangUp();
    callback(error);
  }

  private feed(chunk: Buffer): void {
    if (this.destroyed) return;
    let frames: Buffer[];
    try {
      frames = this.framer.push(chunk);
    } catch {
      this.events.hangUp();
      return;
    }
    for (const frame of frames) {
      const early = this.earlyVerdict(frame);
      if (early === 'drop') continue;
      const verdict = early === 'close' ? 'close' : this.verdict(frame);
      if (verdict === 'close') {
        this.events.onViolation();
        this.events.hangUp();
        return;
      }
      if (verdict === 'pass') this.push(frame);
    }
  }

  /** The lab variant's word on a packet after the CONNECT (the first frame is the CONNECT itself). */
  private earlyVerdict(frame: Buffer): Verdict {
    if (!this.sawConnect) {
      this.sawConnect = true;
      return 'pass';
    }
    return this.early ? this.early.fromClient(frame) : 'pass';
  }

  private verdict(frame: Buffer): Verdict {
    const type = packetType(frame);
    if (type === PACKET_TYPE.disconnect) this.events.onDisconnect();
    if (type !== PACKET_TYPE.publish && type !== PACKET_TYPE.subscribe) return 'pass';
    let packet;
    try {
      packet = decodePacket(frame, 4);
    } catch {
      return 'close';
    }
    if (packet.cmd === 'publish') return this.publishVerdict(packet);
    if (packet.cmd === 'subscribe') return this.subscribeVerdict(packet);
    return 'pass';
  }

  private publishVerdict(packet: IPublishPacket): Verdict {
    const problem = topicProblem(packet.topic);
    const size = Buffer.byteLength(packet.payload);
    if (problem || size > MAX_PAYLOAD_BYTES) {
      this.events.log(`mqtt: ${this.who} PUBLISH refused (${problem ?? `payload of ${size} bytes`}), closing`);
      return 'close';
    }
    if (packet.qos === 2) {
      this.events.log(`mqtt: ${this.who} PUBLISH QoS 2 on ${packet.topic}: not supported, not acknowledged`);
      return 'drop';
    }
    return 'pass';
  }

  private subscribeVerdict(packet: ISubscribePacket): Verdict {
    const bad = packet.subscriptions.find((s) => topicProblem(s.topic));
    if (bad) {
      this.events.log(`mqtt: ${this.who} SUBSCRIBE refused (${topicProblem(bad.topic) ?? ''}), closing`);
      return 'close';
    }
    if (packet.subscriptions.some((s) => s.qos === 2)) {
      this.events.log(`mqtt: ${this.who} SUBSCRIBE with QoS 2: not supported, no SUBACK`);
      return 'drop';
    }
    return 'pass';
  }
}
