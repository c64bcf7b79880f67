/**
 * Measure what the server really sends during a TLS handshake, from the records on the wire (not from the chain the
 * client built, which may hold the local trust anchor instead of what was sent: field-notes §3.3): the largest
 * record, the bytes of the server's handshake flight and, when it travels in clear (TLS 1.2), the exact size of the
 * Certificate handshake message. An embedded TLS stack needs an input buffer at least that large (field-notes §3.4).
 *
 * Record layout: RFC 8446 §5.1 / RFC 5246 §6.2 (type 1 byte, version 2, length 2); handshake message header: type 1
 * byte, length 3 (RFC 8446 §4; Certificate = 11). TLS 1.3 encrypts the Certificate message (§4.4.2): there the
 * flight's encrypted records are what can be measured.
 */
import { Duplex } from 'node:stream';

/** Sizes measured on the wire, in bytes. */
export interface TlsWireSizes {
  /** Largest record payload received (the record header's length field, excluding the 5-byte header). */
  largestRecordBytes: number;
  /** Every byte received from the server until the handshake completed (headers included). */
  serverFlightBytes: number;
  /** The Certificate handshake message (4-byte header included) when it was sent in clear (TLS 1.2), else null. */
  certificateMessageBytes: number | null;
  /** Bytes of encrypted records (type 23) received before the handshake completed: the TLS 1.3 flight after ServerHello. */
  encryptedHandshakeBytes: number;
  records: number;
}

/**
 * The most a server may send before its handshake completes, in bytes: far above AWS IoT's default chain (about
 * 5 KB, field-notes §3.3) and a custom domain's whole chain (at most 16 KB, field-notes §3.3), below OpenSSL's own
 * 100 KB limit on one Certificate message. More is not AWS IoT: the handshake is cut (TLS_HANDSHAKE_TOO_LARGE).
 */
export const MAX_HANDSHAKE_FLIGHT_BYTES = 64 * 1024;

const HEADER = 5;
const HANDSHAKE = 22;
const APPLICATION_DATA = 23;
const CERTIFICATE = 11;

/** An incremental parser of the records one side of a TLS connection sends. Feed it bytes in order. */
export class TlsRecordMeter {
  private pending = Buffer.alloc(0);
  private bodyLeft = 0;
  private bodyType = 0;
  private handshakeDone = false;
  /** Handshake-stream state: header bytes collected, body bytes still to skip. */
  private hsHeader = Buffer.alloc(0);
  private hsSkip = 0;
  readonly sizes: TlsWireSizes = {
    largestRecordBytes: 0,
    serverFlightBytes: 0,
    certificateMessageBytes: null,
    encryptedHandshakeBytes: 0,
    records: 0,
  };

  /** Mark the end of the handshake: later bytes no longer count into the flight. */
  finishHandshake(): void {
    this.handshakeDone = true;
  }

  /** True when the server sent more than `MAX_HANDSHAKE_FLIGHT_BYTES` before the handshake completed. */
  get flightOverCap(): boolean {
    return !this.handshakeDone && this.sizes.serverFlightBytes > MAX_HANDSHAKE_FLIGHT_BYTES;
  }

  /** Feed bytes received from the server, in order. */
  push(chunk: Buffer): void {
    if (!this.handshakeDone) this.sizes.serverFlightBytes += chunk.length;
    let data = chunk;
    while (data.length > 0) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, data.length);
        this.recordBody(data.subarray(0, take));
        this.bodyLeft -= take;
        data = data.subarray(take);
        continue;
      }
      const need = HEADER - this.pending.length;
      this.pending = Buffer.concat([this.pending, data.subarray(0, need)]);
      data = data.subarray(need);
      if (this.pending.length < HEADER) return;
      this.bodyType = this.pending[0]!;
      this.bodyLeft = this.pending.readUInt16BE(3);
      this.pending = Buffer.alloc(0);
      this.sizes.records += 1;
      this.sizes.largestRecordBytes = Math.max(this.sizes.largestRecordBytes, this.bodyLeft);
      if (this.bodyType === APPLICATION_DATA && !this.handshakeDone)
        this.sizes.encryptedHandshakeBytes += this.bodyLeft;
    }
  }

  private recordBody(part: Buffer): void {
    if (this.bodyType !== HANDSHAKE) return;
    let data = part;
    while (data.length > 0) {
      if (this.hsSkip > 0) {
        const take = Math.min(this.hsSkip, data.length);
        this.hsSkip -= take;
        data = data.subarray(take);
        continue;
      }
      const need = 4 - this.hsHeader.length;
      this.hsHeader = Buffer.concat([this.hsHeader, data.subarray(0, need)]);
      data = data.subarray(need);
      if (this.hsHeader.length < 4) return;
      const type = this.hsHeader[0]!;
      const length = this.hsHeader.readUIntBE(1, 3);
      this.hsHeader = Buffer.alloc(0);
      this.hsSkip = length;
      if (type === CERTIFICATE && this.sizes.certificateMessageBytes === null)
        this.sizes.certificateMessageBytes = length + 4;
    }
  }
}

/**
 * Wrap a connected stream so that every byte read from it also goes through a TlsRecordMeter. Hand the returned
 * stream to `tls.connect({ socket })`; writes, end and destroy pass through to `inner`. When the server's flight
 * passes `MAX_HANDSHAKE_FLIGHT_BYTES` (`meter.flightOverCap`), the chunk that passed it is not handed on: `onOverCap`
 * is called once (it is expected to destroy both streams) and nothing more is read.
 */
export function meteredStream(inner: Duplex, meter: TlsRecordMeter, onOverCap?: () => void): Duplex {
  const outer = new Duplex({
    read() {
      inner.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      inner.write(chunk, callback);
    },
    final(callback) {
      inner.end();
      callback();
    },
    destroy(err, callback) {
      inner.destroy();
      callback(err);
    },
  });
  let cut = false;
  inner.on('data', (chunk: Buffer) => {
    if (cut) return;
    meter.push(chunk);
    if (meter.flightOverCap) {
      cut = true;
      inner.pause();
      onOverCap?.();
      return;
    }
    if (!outer.push(chunk)) inner.pause();
  });
  inner.on('end', () => outer.push(null));
  inner.on('error', (err) => outer.destroy(err));
  inner.on('close', () => {
    if (!outer.destroyed) outer.destroy();
  });
  return outer;
}
