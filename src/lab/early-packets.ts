/**
 * What the lab's MQTT front does with packets a client sends right after its CONNECT, before the CONNACK (MQTT 3.1.1
 * §3.1.4 allows it; the server must not process them before it accepted the CONNECT). How AWS IoT treats them, and
 * whether a PUBLISH that arrives right after a SUBSCRIBE (before its SUBACK was sent) reaches that subscription, are
 * not confirmed (neither is in the shared notes), so the lab offers each variant (`LabOptions.earlyPackets`):
 *
 * - `in-order` (the default, the MQTT standard): processed in order once the CONNECT is accepted;
 * - `close`: a packet before the CONNACK closes the connection, without CONNACK;
 * - `discard`: packets before the CONNACK are dropped without an answer; the CONNECT is answered;
 * - `late-subscription`: a PUBLISH the client sent before the SUBACK of its pending SUBSCRIBE went out is not
 *   delivered to that subscription (it is acknowledged as usual).
 */
import type { IPublishPacket } from 'mqtt-packet';
import { decodePacket, PACKET_TYPE, packetType } from './mqtt-codec.js';

/** The variants of AWS's unconfirmed handling of packets sent before the CONNACK (see the file comment). */
export type EarlyPacketsVariant = 'in-order' | 'close' | 'discard' | 'late-subscription';

/** Every variant, for option parsing and tests. */
export const EARLY_PACKETS_VARIANTS: readonly EarlyPacketsVariant[] = [
  'in-order',
  'close',
  'discard',
  'late-subscription',
];

/** Messages remembered as not to be delivered (`late-subscription`); older ones are forgotten first. */
const MAX_UNDELIVERABLE = 64;

/**
 * The state of one client connection under a variant: call `fromClient` for every client packet after the CONNECT
 * and `toClient` for every packet the broker sends to the client (raw frames). `version` is the MQTT protocol level.
 */
export class EarlyPackets {
  private connackSent = false;
  private subacksPending = 0;
  private readonly undeliverable: string[] = [];

  /** @param variant the behaviour; @param log one line per packet the variant acted on. */
  constructor(
    readonly variant: EarlyPacketsVariant,
    private readonly version: 4 | 5,
    private readonly log: (message: string) => void,
  ) {}

  /** A client packet after its CONNECT: forward it (`pass`), drop it, or close the connection. */
  fromClient(frame: Buffer): 'pass' | 'drop' | 'close' {
    const type = packetType(frame);
    if (!this.connackSent && this.variant === 'close') {
      this.log(`mqtt: packet type ${type} before CONNACK: closing (lab variant earlyPackets=close)`);
      return 'close';
    }
    if (!this.connackSent && this.variant === 'discard') {
      this.log(`mqtt: packet type ${type} before CONNACK: dropped (lab variant earlyPackets=discard)`);
      return 'drop';
    }
    if (this.variant !== 'late-subscription') return 'pass';
    if (type === PACKET_TYPE.subscribe) this.subacksPending++;
    if (type === PACKET_TYPE.publish && this.subacksPending > 0) {
      this.undeliverable.push(messageKey(decodePacket(frame, this.version) as IPublishPacket));
      if (this.undeliverable.length > MAX_UNDELIVERABLE) this.undeliverable.shift();
    }
    return 'pass';
  }

  /** A broker packet to the client: true to deliver it, false when the variant keeps it from the client. */
  toClient(frame: Buffer): boolean {
    const type = packetType(frame);
    if (type === PACKET_TYPE.connack) this.connackSent = true;
    if (type === PACKET_TYPE.suback) this.subacksPending = Math.max(0, this.subacksPending - 1);
    if (type !== PACKET_TYPE.publish || this.undeliverable.length === 0) return true;
    const key = messageKey(decodePacket(frame, this.version) as IPublishPacket);
    const at = this.undeliverable.indexOf(key);
    if (at < 0) return true;
    this.undeliverable.splice(at, 1);
    this.log('mqtt: PUBLISH sent before its SUBACK not delivered (lab variant earlyPackets=late-subscription)');
    return false;
  }
}

/** A message's identity across the broker: topic and payload. */
function messageKey(packet: IPublishPacket): string {
  return `${packet.topic}\u0000${Buffer.from(packet.payload).toString('base64')}`;
}
