/**
 * A TLS-inspecting middlebox for the e2e bed, as corporate networks run them: it terminates the device's TLS with a
 * certificate for the endpoint name issued by its own "Corporate TLS Inspection CA", selects no ALPN protocol
 * whatever the client offers, opens its own TLS connection to the real server (no client certificate: it has none
 * to give) and relays the bytes.
 *
 * Runs in the router namespace behind `iptables -t nat -A PREROUTING -p tcp --dport 443 -j REDIRECT --to-ports P`:
 *
 *   node dist/test/e2e/intercept-proxy.js --port P --upstream 198.51.100.2:443 --cert leaf+ca.pem --key leaf.key \
 *     [--max-seconds 300]
 *
 * Prints "proxy ready <port>"; on exit one JSON line: TCP connections, completed handshakes, the SNI names it saw
 * and the ALPN protocol it selected on each completed handshake (always none).
 * Stops on SIGTERM/SIGINT, when stdin (a pipe from the parent) closes, or after --max-seconds.
 */
import { fstatSync, readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { connect, createSecureContext, createServer, type TLSSocket } from 'node:tls';

function parseArgs(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i];
    const value = argv[i + 1];
    if (!name?.startsWith('--') || value === undefined)
      throw new Error(`usage: --name value pairs (at ${name ?? 'end'})`);
    out.set(name.slice(2), value);
  }
  return out;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const listenPort = Number(args.get('port') ?? '0');
  const [upHost = '', upPortRaw = '443'] = (args.get('upstream') ?? '').split(':');
  const upPort = Number(upPortRaw);
  if (!upHost) throw new Error('--upstream HOST:PORT is required');
  const cert = readFileSync(args.get('cert') ?? '');
  const key = readFileSync(args.get('key') ?? '');
  const stats = {
    connections: 0,
    handshakes: 0,
    sni: [] as string[],
    alpnSelected: [] as (string | false)[],
    upstreamErrors: 0,
  };
  const context = createSecureContext({ cert, key });
  const sockets = new Set<Socket>();

  /** A completed handshake with the device: open our own TLS connection to the real server and relay. */
  const onSecure = (client: TLSSocket): void => {
    stats.handshakes += 1;
    stats.alpnSelected.push(client.alpnProtocol ?? false);
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const servername = (client as TLSSocket & { servername?: string | false }).servername || undefined;
    const upstream = connect({
      host: upHost,
      port: upPort,
      ...(servername ? { servername } : {}),
      rejectUnauthorized: false,
    });
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => {
      stats.upstreamErrors += 1;
      upstream.destroy();
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.once('secureConnect', () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
  };

  // No ALPNProtocols and no ALPNCallback: the handshake completes with no protocol selected.
  const server = createServer(
    {
      cert,
      key,
      minVersion: 'TLSv1.2',
      // Called for each ClientHello that names a server, before the handshake can fail or be abandoned.
      SNICallback: (servername, done) => {
        stats.sni.push(servername);
        done(null, context);
      },
    },
    onSecure,
  );
  server.on('connection', (raw: Socket) => {
    stats.connections += 1;
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
  });
  server.on('tlsClientError', () => {});

  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    server.close();
    for (const s of sockets) s.destroy();
    process.stdout.write(JSON.stringify({ stopped: why, ...stats }) + '\n', () => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  setTimeout(() => stop('max-seconds'), Number(args.get('max-seconds') ?? '300') * 1000).unref();
  const stdin = fstatSync(0);
  if (stdin.isFIFO() || stdin.isSocket()) {
    process.stdin.on('data', () => {});
    process.stdin.on('end', () => stop('stdin closed'));
    process.stdin.on('error', () => stop('stdin error'));
  }

  server.listen({ port: listenPort, host: '0.0.0.0' }, () => {
    process.stdout.write(`proxy ready ${(server.address() as AddressInfo).port}\n`);
  });
}

main();
