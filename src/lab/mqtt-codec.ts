/**
 * MQTT byte handling for the lab's front: split a byte stream into whole control packets (keeping their raw bytes,
 * so packets the front does not change are forwarded untouched) and decode / encode single packets with mqtt-packet.
 */
import mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';

export type { Packet } from 'mqtt-packet';

/** Larger than anything AWS IoT accepts (128 KB); only protects the lab from runaway input. */
export const MAX_PACKET_BYTES = 1024 * 1024;

export const PACKET_TYPE = {
  connect: 1,
  connack: 2,
  publish: 3,
  puback: 4,
  subscribe: 8,
  suback: 9,
  disconnect: 14,
} as const;

/** A byte stream that is not a sequence of MQTT control packets (bad remaining length, packet over the cap). */
export class MqttFrameError extends Error {}

/** Accumulates bytes and returns complete packets. */
export class MqttFramer {
  private buffer: Buffer = Buffer.alloc(0);

  /** Appends `chunk`; returns the packets now complete (raw bytes). Throws `MqttFrameError` on malformed input. */
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: Buffer[] = [];
    while (true) {
      const len = frameLength(this.buffer);
      if (len === undefined) break;
      frames.push(this.buffer.subarray(0, len));
      this.buffer = this.buffer.subarray(len);
    }
    return frames;
  }

  /** Bytes received after the last complete packet. */
  rest(): Buffer {
    return this.buffer;
  }
}

/** Total length of the first packet in `buf`, or undefined when it is not complete yet. */
export function frameLength(buf: Buffer): number | undefined {
  if (buf.length < 2) return undefined;
  let multiplier = 1;
  let value = 0;
  let i = 1;
  while (true) {
    if (i >= buf.length) return undefined;
    const byte = buf[i] as number;
    value += (byte & 0x7f) * multiplier;
    i += 1;
    if ((byte & 0x80) === 0) break;
    multiplier *= 128;
    if (i > 4) throw new MqttFrameError('malformed remaining length');
  }
  const total = i + value;
  if (total > MAX_PACKET_BYTES) throw new MqttFrameError(`packet of ${total} bytes is too large`);
  return buf.length >= total ? total : undefined;
}

/** The control packet type (1-15, the high nibble of the first byte; MQTT 3.1.1 §2.2.1 / MQTT 5 §2.1.2). */
export function packetType(frame: Buffer): number {
  return (frame[0] ?? 0) >> 4;
}

/** Decodes one complete packet. `protocolVersion` matters for everything but CONNECT, which carries its own. */
export function decodePacket(frame: Buffer, protocolVersion: 3 | 4 | 5): Packet {
  const parser = mqttPacket.parser({ protocolVersion });
  let packet: Packet | undefined;
  let error: Error | undefined;
  parser.on('packet', (p: Packet) => {
    packet ??= p;
  });
  parser.on('error', (e: Error) => {
    error ??= e;
  });
  parser.parse(frame);
  if (error) throw error;
  if (!packet) throw new MqttFrameError('incomplete packet');
  return packet;
}

/** Encodes one packet for `protocolVersion` (4 = MQTT 3.1.1, 5 = MQTT 5). Throws on an invalid packet. */
export function encodePacket(packet: Packet, protocolVersion: 3 | 4 | 5): Buffer {
  return mqttPacket.generate(packet, { protocolVersion });
}
