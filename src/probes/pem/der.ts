/**
 * A minimal DER reader (ITU-T X.690): enough for certificates (RFC 5280), PKCS#8/PKCS#12 sniffing and X.509
 * extensions. Definite lengths up to 4 octets and low tag numbers only; anything else throws.
 */

/** One DER tag-length-value (X.690 §8.1): offsets into `buf`, which is shared, not copied. */
export interface Tlv {
  /** Full identifier octet (class, constructed bit and tag number for low tag numbers). */
  tag: number;
  constructed: boolean;
  /** Offset of the identifier octet in `buf`. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just after the last content octet. */
  end: number;
  buf: Buffer;
}

/**
 * Reads the TLV at `offset` of `buf` (X.690 §8.1, definite length only).
 * Throws `Error('DER: …')` when the header is truncated, the tag number is high (≥ 31), the length form is
 * indefinite or longer than 4 octets, or the content runs past the end of `buf`.
 */
export function readTlv(buf: Buffer, offset = 0): Tlv {
  if (offset + 2 > buf.length) throw new Error('DER: truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: high tag numbers are not supported');
  let pos = offset + 1;
  const first = buf[pos++]!;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new Error('DER: unsupported length form');
    if (pos + count > buf.length) throw new Error('DER: truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[pos++]!;
  }
  const end = pos + length;
  if (end > buf.length) throw new Error('DER: content runs past the end');
  return { tag, constructed: (tag & 0x20) !== 0, start: offset, contentStart: pos, end, buf };
}

/** The TLVs inside a constructed TLV, in order. Throws `Error('DER: …')` when a child is malformed or overruns. */
export function tlvChildren(tlv: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let pos = tlv.contentStart;
  while (pos < tlv.end) {
    const child = readTlv(tlv.buf, pos);
    if (child.end > tlv.end) throw new Error('DER: child runs past its parent');
    out.push(child);
    pos = child.end;
  }
  return out;
}

/** The content octets of a TLV (a view into its buffer, not a copy). */
export function tlvContent(tlv: Tlv): Buffer {
  return tlv.buf.subarray(tlv.contentStart, tlv.end);
}

/**
 * Dotted-decimal form of an OBJECT IDENTIFIER's content octets (X.690 §8.19), e.g. `2.5.29.15`.
 * Throws on empty content.
 */
export function decodeOid(content: Buffer): string {
  if (content.length === 0) throw new Error('DER: empty OID');
  const parts: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift()!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

/**
 * A certificate validity time (RFC 5280 §4.1.2.5): UTCTime (tag 0x17; years 50-99 are 19xx, 00-49 are 20xx) or
 * GeneralizedTime (tag 0x18), both in UTC (`Z`). Throws on any other encoding.
 */
export function decodeTime(tlv: Tlv): Date {
  const s = tlvContent(tlv).toString('latin1');
  let m: RegExpMatchArray | null;
  if (tlv.tag === 0x17 && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(s))) {
    const yy = Number(m[1]);
    const year = yy >= 50 ? 1900 + yy : 2000 + yy;
    return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
  }
  if (tlv.tag === 0x18 && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?Z$/.exec(s))) {
    return new Date(
      Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)),
    );
  }
  throw new Error('DER: unsupported time encoding');
}
