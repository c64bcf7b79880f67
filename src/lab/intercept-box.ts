/**
 * The lab's TLS-inspecting box, as sites put behind their proxy (field-notes §1; facts §2.3 for the genuine chain):
 * it terminates the device's TLS with a certificate for the endpoint issued by a corporate inspection CA the device
 * does not trust ("re-signing"), then opens its own TLS connection to the lab listener and relays the plaintext both
 * ways. It offers what the device offered in ALPN upstream and answers with what the listener chose. Every wait is
 * bounded (handshakes 5 s); `close()` ends every socket.
 */
import { connect as tlsConnect, createServer, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';

/** A running inspection box. */
export interface InterceptBox {
  port: number;
  /** TLS handshakes the box completed with devices. */
  handshakes: number;
  close(): Promise<void>;
}

/**
 * Listen on `bind` (any free port) with `identity` (the re-signed certificate and its key, PEM) and relay each
 * decrypted connection to `upstream` over TLS with SNI `servername` (the box does not verify the upstream chain, as
 * an inspection box configured to trust its own upstream).
 */
export async function startInterceptBox(opts: {
  bind: string;
  identity: { certPem: string; keyPem: string };
  upstream: { host: string; port: number };
  servername: string;
}): Promise<InterceptBox> {
  const sockets = new Set<Socket>();
  const box = { handshakes: 0 };
  const server = createServer(
    {
      cert: opts.identity.certPem,
      key: opts.identity.keyPem,
      handshakeTimeout: 5000,
      // Whatever the device offers, the box accepts its first choice; upstream gets the same offer.
      ALPNCallback: ({ protocols }) => protocols[0],
    },
    (device: TLSSocket) => {
      box.handshakes += 1;
      const alpn = typeof device.alpnProtocol === 'string' ? [device.alpnProtocol] : [];
      const up = tlsConnect({
        host: opts.upstream.host,
        port: opts.upstream.port,
        servername: opts.servername,
        rejectUnauthorized: false,
        ...(alpn.length ? { ALPNProtocols: alpn } : {}),
      });
      sockets.add(up);
      up.setTimeout(5000, () => up.destroy());
      up.once('secureConnect', () => up.setTimeout(0));
      up.on('close', () => (sockets.delete(up), device.destroy()));
      up.on('error', () => device.destroy());
      device.on('close', () => up.destroy());
      device.on('error', () => up.destroy());
      device.pipe(up);
      up.pipe(device);
    },
  );
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', (_err, s) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: opts.bind }, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    get handshakes() {
      return box.handshakes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
