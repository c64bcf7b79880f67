/**
 * The lab's "field front": a TCP listener in front of a lab listener that plays what lies between a device and AWS
 * IoT in the field. It reads the device's ClientHello and applies the endpoint's TLS security policy the way the
 * policy table defines it (facts §2.1, field-notes §3.1): only TLS 1.3 (IoTSecurityPolicy_TLS13_1_3_2022_10), or
 * only some TLS 1.2 suites. A refused hello gets the alert the TLS RFCs name (protocol_version 70, handshake_failure
 * 40) or, since AWS's reaction is unconfirmed (field-notes §3.2), a bare close: a scenario option. Everything else is
 * relayed unchanged to the lab. It can also listen on one address family only, to break the other family's path.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fatalAlert } from './client-hello.js';

/** How a refused ClientHello is answered. */
export type Refusal = 'alert' | 'close';

/** The security policy the front applies. */
export interface FrontPolicy {
  /** Only TLS 1.3 (a hello without 0x0304 in supported_versions is refused with protocol_version). */
  tls13Only?: boolean;
  /** TLS 1.2 suites (OpenSSL names) accepted; a TLS 1.2-only hello offering none is refused with handshake_failure. */
  tls12Suites?: readonly string[];
  refusal: Refusal;
}

/** IANA code points of the TLS 1.2 suites AWS IoT policies list (RFC 5289, RFC 5246 appendix A.5, RFC 4492). */
export const SUITE_IDS: Readonly<Record<string, number>> = {
  'ECDHE-ECDSA-AES128-GCM-SHA256': 0xc02b,
  'ECDHE-RSA-AES128-GCM-SHA256': 0xc02f,
  'ECDHE-ECDSA-AES128-SHA256': 0xc023,
  'ECDHE-RSA-AES128-SHA256': 0xc027,
  'ECDHE-ECDSA-AES128-SHA': 0xc009,
  'ECDHE-RSA-AES128-SHA': 0xc013,
  'ECDHE-ECDSA-AES256-GCM-SHA384': 0xc02c,
  'ECDHE-RSA-AES256-GCM-SHA384': 0xc030,
  'ECDHE-ECDSA-AES256-SHA384': 0xc024,
  'ECDHE-RSA-AES256-SHA384': 0xc028,
  'ECDHE-RSA-AES256-SHA': 0xc014,
  'ECDHE-ECDSA-AES256-SHA': 0xc00a,
  'AES128-GCM-SHA256': 0x009c,
  'AES128-SHA256': 0x003c,
  'AES128-SHA': 0x002f,
  'AES256-GCM-SHA384': 0x009d,
  'AES256-SHA256': 0x003d,
  'AES256-SHA': 0x0035,
  'DHE-RSA-AES256-SHA': 0x0039,
};

/** What the front needs from a ClientHello: the cipher suites and the versions offered. */
export interface HelloOffer {
  suites: number[];
  /** supported_versions (RFC 8446 §4.2.1), or [legacy_version] when absent. */
  versions: number[];
}

/**
 * Parse a ClientHello that fits in the first handshake record (RFC 8446 §4.1.2). Returns 'incomplete' when more
 * bytes are needed, null when this is not a ClientHello.
 */
export function parseOffer(data: Buffer): HelloOffer | 'incomplete' | null {
  if (data.length < 5) return 'incomplete';
  if (data[0] !== 0x16) return null;
  const recordEnd = 5 + data.readUInt16BE(3);
  if (data.length < recordEnd) return 'incomplete';
  const hs = data.subarray(5, recordEnd);
  if (hs[0] !== 0x01 || hs.length < 4 + 2 + 32 + 1) return null;
  let at = 4;
  const legacy = hs.readUInt16BE(at);
  at += 2 + 32;
  at += 1 + hs[at]!; // session id
  const suitesLen = hs.readUInt16BE(at);
  const suites: number[] = [];
  for (let i = 0; i < suitesLen; i += 2) suites.push(hs.readUInt16BE(at + 2 + i));
  at += 2 + suitesLen;
  at += 1 + hs[at]!; // compression methods
  let versions = [legacy];
  const extEnd = at + 2 + (at + 2 <= hs.length ? hs.readUInt16BE(at) : 0);
  for (at += 2; at + 4 <= Math.min(extEnd, hs.length);) {
    const type = hs.readUInt16BE(at);
    const len = hs.readUInt16BE(at + 2);
    if (type === 0x002b) {
      versions = [];
      for (let i = 1; i < 1 + hs[at + 4]!; i += 2) versions.push(hs.readUInt16BE(at + 4 + i));
    }
    at += 4 + len;
  }
  return { suites, versions };
}

/** The alert a policy answers the offer with (70 protocol_version, 40 handshake_failure), or null to let it through. */
export function policyVerdict(offer: HelloOffer, policy: FrontPolicy): number | null {
  const has13 = offer.versions.includes(0x0304);
  if (policy.tls13Only && !has13) return 70;
  if (policy.tls12Suites && !has13) {
    const allowed = new Set(policy.tls12Suites.map((n) => SUITE_IDS[n]).filter((n): n is number => n !== undefined));
    if (!offer.suites.some((s) => allowed.has(s))) return 40;
  }
  return null;
}

/** A running front. */
export interface FieldFront {
  port: number;
  /** Hellos refused (with the alert number, or 0 for a bare close). */
  refused: number[];
  close(): Promise<void>;
}

function relay(client: Socket, first: Buffer, upstream: { host: string; port: number }): void {
  const up = connect(upstream.port, upstream.host);
  up.on('error', () => client.destroy());
  client.on('error', () => up.destroy());
  up.once('connect', () => {
    up.setNoDelay(true);
    up.write(first);
    client.pipe(up);
    up.pipe(client);
    client.resume();
  });
}

/**
 * Listen on `bind:port` (0: any free port) and relay each connection to `upstream` after applying `policy` to its
 * ClientHello (5 s and 64 KB at most to receive it).
 */
export async function startFieldFront(opts: {
  bind: string;
  port?: number;
  upstream: { host: string; port: number };
  policy?: FrontPolicy;
}): Promise<FieldFront> {
  const refused: number[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.setNoDelay(true);
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => client.destroy(), 5000);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const offer = parseOffer(buf);
      if (offer === 'incomplete' && buf.length < 64 * 1024) return;
      client.off('data', onData);
      clearTimeout(timer);
      client.pause();
      const alert = opts.policy && offer && offer !== 'incomplete' ? policyVerdict(offer, opts.policy) : null;
      if (alert === null) return relay(client, buf, opts.upstream);
      refused.push(opts.policy!.refusal === 'alert' ? alert : 0);
      if (opts.policy!.refusal === 'alert') client.end(fatalAlert(alert));
      else client.end();
    };
    client.on('data', onData);
    client.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: opts.port ?? 0, host: opts.bind }, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
