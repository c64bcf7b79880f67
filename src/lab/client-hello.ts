/**
 * Reads the TLS ClientHello before the TLS stack sees it, so a lab listener can decide per connection what to do:
 * refuse a missing or wrong SNI inside the handshake, and pick the ALPN behaviour of port 443.
 */

export interface ClientHelloInfo {
  /** `server_name` extension (host_name entry), or undefined when the client sent none. */
  serverName?: string;
  /** ALPN protocol names offered, or an empty list when the extension is absent. */
  alpnProtocols: string[];
  /** Cipher suite code points in the client's order of preference. */
  cipherSuites: number[];
  /** `supported_versions` entries (0x0304 = TLS 1.3), or an empty list when the extension is absent. */
  supportedVersions: number[];
}

export type ClientHelloResult = { kind: 'incomplete' } | { kind: 'not-tls' } | { kind: 'hello'; info: ClientHelloInfo };

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;
const EXT_SUPPORTED_VERSIONS = 0x002b;
/** Enough for any real ClientHello, including post-quantum key shares. */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

/**
 * Parse the bytes received so far. The ClientHello may span several TLS records; `incomplete` asks for more data.
 * Anything that is not a TLS handshake record carrying a ClientHello gives `not-tls`.
 */
export function parseClientHello(data: Buffer): ClientHelloResult {
  // Reassemble the handshake message from consecutive handshake records.
  const parts: Buffer[] = [];
  let offset = 0;
  let needed = -1;
  let have = 0;
  while (true) {
    if (data.length < offset + 5) return { kind: 'incomplete' };
    if (data[offset] !== RECORD_HANDSHAKE) return { kind: 'not-tls' };
    if (data[offset + 1] !== 0x03) return { kind: 'not-tls' };
    const len = data.readUInt16BE(offset + 3);
    if (len === 0 || len > 18432) return { kind: 'not-tls' };
    if (data.length < offset + 5 + len) return { kind: 'incomplete' };
    const fragment = data.subarray(offset + 5, offset + 5 + len);
    parts.push(fragment);
    have += fragment.length;
    offset += 5 + len;
    if (needed < 0 && have >= 4) {
      const head = Buffer.concat(parts);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return { kind: 'not-tls' };
      needed = 4 + head.readUIntBE(1, 3);
      if (needed > MAX_CLIENT_HELLO_BYTES) return { kind: 'not-tls' };
    }
    if (needed >= 0 && have >= needed) break;
  }
  const msg = Buffer.concat(parts).subarray(4, needed);
  try {
    return { kind: 'hello', info: parseClientHelloBody(msg) };
  } catch {
    return { kind: 'not-tls' };
  }
}

function parseClientHelloBody(body: Buffer): ClientHelloInfo {
  let p = 2 + 32; // legacy_version, random
  const need = (n: number): void => {
    if (p + n > body.length) throw new Error('truncated ClientHello');
  };
  need(1);
  p += 1 + body.readUInt8(p); // session id
  need(2);
  const suitesLength = body.readUInt16BE(p);
  need(2 + suitesLength);
  const cipherSuites: number[] = [];
  for (let q = p + 2; q + 2 <= p + 2 + suitesLength; q += 2) cipherSuites.push(body.readUInt16BE(q));
  p += 2 + suitesLength;
  need(1);
  p += 1 + body.readUInt8(p); // compression methods
  const info: ClientHelloInfo = { alpnProtocols: [], cipherSuites, supportedVersions: [] };
  if (p >= body.length) return info; // no extensions at all
  need(2);
  const extEnd = p + 2 + body.readUInt16BE(p);
  p += 2;
  if (extEnd > body.length) throw new Error('truncated extensions');
  while (p + 4 <= extEnd) {
    const type = body.readUInt16BE(p);
    const len = body.readUInt16BE(p + 2);
    const start = p + 4;
    const end = start + len;
    if (end > extEnd) throw new Error('truncated extension');
    if (type === EXT_SERVER_NAME && len >= 2) {
      let q = start + 2;
      while (q + 3 <= end) {
        const nameType = body.readUInt8(q);
        const nameLen = body.readUInt16BE(q + 1);
        if (q + 3 + nameLen > end) break;
        if (nameType === 0) {
          info.serverName = body.subarray(q + 3, q + 3 + nameLen).toString('latin1');
          break;
        }
        q += 3 + nameLen;
      }
    } else if (type === EXT_SUPPORTED_VERSIONS && len >= 1) {
      for (let q = start + 1; q + 2 <= end; q += 2) info.supportedVersions.push(body.readUInt16BE(q));
    } else if (type === EXT_ALPN && len >= 2) {
      let q = start + 2;
      while (q + 1 <= end) {
        const l = body.readUInt8(q);
        if (q + 1 + l > end) break;
        info.alpnProtocols.push(body.subarray(q + 1, q + 1 + l).toString('latin1'));
        q += 1 + l;
      }
    }
    p = end;
  }
  return info;
}

/** TLS alert descriptions used by the lab. */
export const TLS_ALERT = {
  handshakeFailure: 40,
  internalError: 80,
  unrecognizedName: 112,
} as const;

/** A fatal TLS alert record (TLS 1.2 record version, which TLS 1.3 peers accept before the handshake). */
export function fatalAlert(description: number): Buffer {
  return Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, description]);
}
