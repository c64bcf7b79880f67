/**
 * A tiny authoritative DNS responder on 127.0.0.1 (UDP) for the DNS tests. The first label of the query name picks
 * the answer: `nx.` → NXDOMAIN, `nodata.` → no records, `servfail.` → SERVFAIL, `silent.` → no reply at all;
 * anything else → A 127.0.0.1 (and no AAAA).
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';

function questionEnd(msg: Buffer): number {
  let i = 12;
  while (i < msg.length && msg[i] !== 0) i += msg[i]! + 1;
  return i + 5; // zero byte + QTYPE + QCLASS
}

function qname(msg: Buffer): string {
  const labels: string[] = [];
  let i = 12;
  while (i < msg.length && msg[i] !== 0) {
    labels.push(msg.subarray(i + 1, i + 1 + msg[i]!).toString('ascii'));
    i += msg[i]! + 1;
  }
  return labels.join('.');
}

/** `nxdomain`: further names (lower case, no trailing dot) answered NXDOMAIN whatever their first label. */
export async function startDnsServer(opts: { nxdomain?: readonly string[] } = {}): Promise<{
  address: string;
  queries: () => number;
  close: () => Promise<void>;
}> {
  const sock: Socket = createSocket('udp4');
  let count = 0;
  sock.on('message', (msg, rinfo) => {
    count += 1;
    if (msg.length < 17) return;
    const name = qname(msg).toLowerCase();
    if (name.startsWith('silent.')) return;
    const end = questionEnd(msg);
    const qtype = msg.readUInt16BE(end - 4);
    const nx = name.startsWith('nx.') || (opts.nxdomain ?? []).includes(name);
    const rcode = nx ? 3 : name.startsWith('servfail.') ? 2 : 0;
    const answerA = rcode === 0 && !name.startsWith('nodata.') && qtype === 1;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | rcode, 2); // QR, AA, RD copied
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answerA ? 1 : 0, 6);
    const parts = [header, msg.subarray(12, end)];
    if (answerA) {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(1, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(4, 10);
      Buffer.from([127, 0, 0, 1]).copy(rr, 12);
      parts.push(rr);
    }
    sock.send(Buffer.concat(parts), rinfo.port, rinfo.address);
  });
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  const { port } = sock.address();
  return {
    address: `127.0.0.1:${port}`,
    queries: () => count,
    close: () => new Promise((resolve) => sock.close(() => resolve())),
  };
}
