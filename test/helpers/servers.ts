/**
 * Real servers on 127.0.0.1 for the route tests: TLS servers with chosen certificates and ALPN behaviour, and raw
 * TCP servers that misbehave. Every server listens on an ephemeral port and is closed by `closeAll`.
 */
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions, type TLSSocket } from 'node:tls';
import {
  createCA,
  issueDeviceCertificate,
  issueServerCertificate,
  type Issued,
  type KeyType,
} from '../../src/lab/pki.js';
import type { DeviceFiles } from '../../src/probes/device-files.js';
import { holdMsFor, type Target } from '../../src/target.js';
import { resolveName, resolveWithServer, type DnsOutcome } from '../../src/probes/dns.js';
import type { CheckContext } from '../../checks/types.js';
import { RouteHub } from '../../src/probes/hub.js';
import { RunDeadline } from '../../src/runner/deadline.js';

export const ENDPOINT = 'a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com';

export interface Pki {
  serverCa: Issued;
  deviceCa: Issued;
  server: Issued;
  device: Issued;
  otherCa: Issued;
  otherServer: Issued;
  expiredServer: Issued;
  wrongNameServer: Issued;
}

export function makePki(keyType: KeyType = 'rsa'): Pki {
  const serverCa = createCA('Test Server Root', { keyType, organization: 'Test Trust Services' });
  const deviceCa = createCA('Test Device CA', { keyType });
  const otherCa = createCA('Corporate TLS Inspection CA', { keyType });
  return {
    serverCa,
    deviceCa,
    otherCa,
    server: issueServerCertificate(serverCa, [ENDPOINT]),
    device: issueDeviceCertificate(deviceCa, 'device-1'),
    otherServer: issueServerCertificate(otherCa, [ENDPOINT]),
    expiredServer: issueServerCertificate(serverCa, [ENDPOINT], {
      notBefore: new Date(Date.now() - 400 * 86_400_000),
      notAfter: new Date(Date.now() - 30 * 86_400_000),
    }),
    wrongNameServer: issueServerCertificate(serverCa, ['other.example.com']),
  };
}

export function credentialsFor(pki: Pki, overrides: Partial<{ device: Issued; ca: Issued }> = {}): DeviceFiles {
  const device = overrides.device ?? pki.device;
  const ca = overrides.ca ?? pki.serverCa;
  return {
    cert: {
      path: 'device.pem.crt',
      format: 'pem',
      leaf: device.cert,
      chain: [],
      certificateId: device.certificateId,
      pem: device.certPem,
    },
    key: { path: 'private.pem.key', object: device.privateKey, wasEncrypted: false, pem: device.keyPem },
    ca: { path: 'ca.pem', certs: [ca.cert], pem: ca.certPem, isDefault: false },
    problems: [],
  };
}

export function targetFor(ports: Partial<Record<8883 | 443 | 8443, number>>, extra: Partial<Target> = {}): Target {
  return {
    endpoint: ENDPOINT,
    routes: ['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443'],
    connectTo: Object.entries(ports).map(([port, toPort]) => ({
      host: ENDPOINT,
      port: Number(port),
      address: '127.0.0.1',
      toPort: toPort!,
    })),
    resolve: [],
    certPath: 'device.pem.crt',
    keyPath: 'private.pem.key',
    caPath: 'ca.pem',
    clientId: 'iot-doctor-test',
    clientIdFromUser: false,
    topic: 'iot-doctor/iot-doctor-test/probe',
    topicFromUser: false,
    mqttVersion: 4,
    keepaliveSeconds: 30,
    timeoutMs: 1500,
    protocol: false,
    cloud: false,
    warnDays: 30,
    ...extra,
  };
}

export function contextFor(target: Target, credentials: DeviceFiles): CheckContext {
  const cache = new Map<string, Promise<DnsOutcome>>();
  return {
    target,
    credentials,
    resolve: (name) => {
      let p = cache.get(name);
      if (!p) {
        p = target.dnsServer
          ? resolveWithServer(name, target.dnsServer, target.timeoutMs)
          : resolveName(name, target.timeoutMs);
        cache.set(name, p);
      }
      return p;
    },
    now: () => new Date(),
    hub: new RouteHub(target.routes),
    deadline: new RunDeadline(target.timeoutMs + holdMsFor(target)),
  };
}

const open: Server[] = [];
const sockets = new Set<Socket>();

async function listen(server: Server): Promise<number> {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  open.push(server);
  return (server.address() as AddressInfo).port;
}

export interface TlsServerOptions {
  cert: Issued;
  /** CA that client certificates must chain to; omit to not ask for a client certificate. */
  clientCa?: Issued;
  /** ALPN protocols the server is willing to select; omit to select none. */
  alpn?: string[];
  maxVersion?: TlsOptions['maxVersion'];
  /** OpenSSL cipher list (TLS 1.2 suites) the server accepts. */
  ciphers?: string;
  /** Hold each raw connection this long before starting the handshake. */
  delayMs?: number;
  /** After the handshake, reset (RST) or close (close_notify + FIN) the connection after this many ms. */
  afterHandshake?: { action: 'reset' | 'close'; afterMs: number };
  onSecure?: (socket: TLSSocket) => void;
}

/** A TLS server that keeps accepted connections open (as a broker would until it gets CONNECT). */
export async function tlsServer(opts: TlsServerOptions): Promise<{ port: number; handshakes: () => number }> {
  let handshakes = 0;
  const tlsSrv = createTlsServer({
    cert: opts.cert.certPem,
    key: opts.cert.keyPem,
    ...(opts.clientCa ? { requestCert: true, rejectUnauthorized: true, ca: opts.clientCa.certPem } : {}),
    ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
    ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
    ...(opts.ciphers ? { ciphers: opts.ciphers } : {}),
  });
  tlsSrv.on('secureConnection', (s) => {
    handshakes += 1;
    s.on('error', () => undefined);
    opts.onSecure?.(s);
    const after = opts.afterHandshake;
    if (after) {
      setTimeout(() => {
        const raw = (s as unknown as { _parent?: Socket })._parent;
        if (after.action === 'reset' && raw) raw.resetAndDestroy();
        else s.end();
      }, after.afterMs);
    }
  });
  tlsSrv.on('tlsClientError', () => undefined);
  const front = createNetServer((raw) => {
    const start = (): void => {
      if (!raw.destroyed) tlsSrv.emit('connection', raw);
    };
    if (opts.delayMs) setTimeout(start, opts.delayMs);
    else start();
  });
  const port = await listen(front);
  return { port, handshakes: () => handshakes };
}

/** Accepts TCP and never says a word. */
export async function silentServer(): Promise<number> {
  return listen(createNetServer(() => undefined));
}

/** Resets the connection as soon as the ClientHello arrives (like an SNI filter). */
export async function resetOnHelloServer(): Promise<number> {
  return listen(createNetServer((s) => s.once('data', () => s.resetAndDestroy())));
}

/** Answers the ClientHello with plain text (a captive portal or an HTTP service on the port). */
export async function garbageServer(): Promise<number> {
  return listen(
    createNetServer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n'))),
  );
}

/** A port that refuses connections: bound once, then closed. */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function closeAll(): Promise<void> {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(open.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
}
