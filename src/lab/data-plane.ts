/**
 * The lab's data-plane listeners: 8883 (MQTT), 443 (MQTT or HTTPS by ALPN) and 8443 (HTTPS).
 *
 * Each listener is a plain TCP server that first reads the ClientHello (to answer a missing or wrong SNI as the
 * scenario says, to pick the RSA or ECC chain and the ALPN behaviour of 443) and then hands the socket to a Node TLS
 * server with AWS's default security policy (tls-policy.ts). TLS servers ask
 * for a client certificate but never reject one themselves: as on AWS IoT, the handshake completes for any client
 * certificate and the registry decides later (at CONNECT, or at the HTTP request). A connection without any client
 * certificate on an mTLS route is closed right after the handshake.
 */
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { constants as cryptoConstants } from 'node:crypto';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { ALPN_CUSTOM_AUTH, ALPN_HTTP, ALPN_MQTT } from '../model/index.js';
import type { Authorizer } from './authz.js';
import { customAuthenticate, DEFAULT_CUSTOM_AUTH, type CustomAuthBehaviour } from './custom-auth-front.js';
import type { CustomAuthStore } from './custom-auth.js';
import type { LabBroker } from './broker.js';
import {
  fatalAlert,
  MAX_CLIENT_HELLO_BYTES,
  parseClientHello,
  TLS_ALERT,
  type ClientHelloInfo,
} from './client-hello.js';
import { createPublishServer, createUnauthenticatedServer, type HttpsFrontDeps } from './https-front.js';
import { Presence } from './lifecycle.js';
import { handleMqttConnection, type MqttFrontDeps } from './mqtt-front.js';
import { closeServer, listen, reserveClosedPort, type SocketTracker, type TimerSet } from './net-util.js';
import type { LabRecords } from './records.js';
import type { EarlyPacketsVariant } from './early-packets.js';
import type { ScenarioBehaviour } from './scenarios.js';
import { DEFAULT_POLICY_CIPHERS, serverKeyFor } from './tls-policy.js';
import { handleWssUpgrade, type WssIamDecision } from './wss-front.js';

export type ListenerName = 'mqtt8883' | 'tls443' | 'https8443';

/** A listener's TLS servers: without ALPN selection and (443 only) with it, each for the RSA and the ECC chain. */
interface TlsServers {
  plain: Record<'rsa' | 'ec', TlsServer>;
  alpn?: Record<'rsa' | 'ec', TlsServer>;
}

/** One server chain: the leaf followed by the certificates the server sends after it, and the leaf's key. */
export interface ServerChain {
  certChainPem: string;
  keyPem: string;
}

/** The RSA and the ECC chain; the ClientHello picks one (tls-policy.ts `serverKeyFor`, facts §2.3). */
export interface ServerIdentity {
  rsa: ServerChain;
  ec: ServerChain;
}

export interface DataPlaneOptions {
  bind: string;
  ports: Partial<Record<ListenerName, number>>;
  endpoint: string;
  /** Refuse a ClientHello without SNI (alert 40), as for a custom domain or SNI-only account (facts §2.2). */
  requireSni: boolean;
  behaviour: ScenarioBehaviour;
  server: ServerIdentity;
  authorizer: Authorizer;
  broker: LabBroker;
  tracker: SocketTracker;
  timers: TimerSet;
  stats: { tlsHandshakes: Record<ListenerName, number>; connections: number };
  log: (message: string) => void;
  /** Session table, connectivity data and AWS IoT logs (records.ts). */
  records?: LabRecords;
  /** The account's custom authorizers (443 with ALPN `mqtt`) and how custom authentication behaves. */
  customAuth?: { store: CustomAuthStore; behaviour?: CustomAuthBehaviour };
  /** MQTT over WebSocket (SigV4) on 443 without ALPN: the lab's region and its IAM switch (wss-front.ts). */
  wss?: { region: string; iam: WssIamDecision };
  /** Packets sent before the CONNACK: the lab variant (early-packets.ts); default in order. */
  earlyPackets?: EarlyPacketsVariant;
}

/** How long a client may take to send its ClientHello. */
const CLIENT_HELLO_TIMEOUT_MS = 15_000;
/**
 * 443 without ALPN, MQTT bytes: the connection stays silent this long, then closes (the client usually gives up
 * first).
 */
const SILENT_MQTT_MS = 30_000;

/**
 * The lab's data plane: TLS listeners for 8883, 443 (ALPN routing) and 8443 (facts §1), SNI and mTLS checks, and
 * the MQTT and HTTPS fronts behind them. `start()` listens (ports 0 → ephemeral, recorded in `ports`); `close()`
 * stops every listener. Errors: `start()` rejects when a port cannot be bound.
 */
export class DataPlane {
  readonly ports: Record<ListenerName, number> = { mqtt8883: 0, tls443: 0, https8443: 0 };
  private readonly netServers: NetServer[] = [];
  private readonly tlsServers: TlsServer[] = [];
  private readonly publishServer: HttpServer;
  private readonly unauthenticatedServer: HttpServer;
  private readonly mqttDeps: MqttFrontDeps;
  private readonly customAuthDeps: MqttFrontDeps | undefined;

  /** Builds the servers; nothing listens before `start()`. */
  constructor(private readonly opts: DataPlaneOptions) {
    const httpDeps: HttpsFrontDeps = {
      authorizer: opts.authorizer,
      broker: opts.broker,
      dateSkewMs: opts.behaviour.dateSkewMs,
      log: opts.log,
    };
    this.publishServer = createPublishServer(httpDeps);
    this.unauthenticatedServer = createUnauthenticatedServer(httpDeps);
    const wss = opts.wss;
    if (wss) {
      this.unauthenticatedServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
        handleWssUpgrade(req, socket, head, {
          endpoint: opts.endpoint,
          region: wss.region,
          dateSkewMs: opts.behaviour.dateSkewMs,
          iam: wss.iam,
          authorizer: opts.authorizer,
          mqttDeps: this.mqttDeps,
          log: opts.log,
        }),
      );
    }
    this.mqttDeps = {
      authorizer: opts.authorizer,
      broker: opts.broker,
      tracker: opts.tracker,
      timers: opts.timers,
      log: opts.log,
      hangUp: (s) => this.hangUp(s),
      requireSni: opts.requireSni,
      presence: new Presence((topic, payload) => {
        opts.broker.publish(topic, payload, 0, false).catch(() => undefined);
      }),
    };
    if (opts.records) this.mqttDeps.records = opts.records;
    if (opts.earlyPackets) this.mqttDeps.earlyPackets = opts.earlyPackets;
    const custom = opts.customAuth;
    this.customAuthDeps = custom && {
      ...this.mqttDeps,
      authenticate: customAuthenticate(custom.store, opts.authorizer, custom.behaviour ?? DEFAULT_CUSTOM_AUTH),
    };
  }

  /** Listens on every port the scenario opens; 8883 'refused' reserves a closed port instead. */
  async start(): Promise<void> {
    const { behaviour, bind, ports } = this.opts;

    // 8883
    if (behaviour.mqtt8883 === 'refused') {
      this.ports.mqtt8883 = ports.mqtt8883 || (await reserveClosedPort(bind));
    } else {
      this.ports.mqtt8883 = await this.listenTls('mqtt8883', ports.mqtt8883 ?? 0);
    }
    // 443
    this.ports.tls443 = await this.listenTls('tls443', ports.tls443 ?? 0);
    // 8443
    if (behaviour.https8443 === 'stall') {
      this.ports.https8443 = await this.listenStall(ports.https8443 ?? 0);
    } else {
      this.ports.https8443 = await this.listenTls('https8443', ports.https8443 ?? 0);
    }
  }

  /** Stops every listener and HTTP server. */
  async close(): Promise<void> {
    const closing = this.netServers.map((s) => closeServer(s));
    this.opts.tracker.destroyAll();
    await Promise.all(closing);
  }

  /** Close without a word: end the TLS stream and make sure the socket is gone soon after. */
  hangUp(socket: Socket): void {
    if (socket.destroyed) return;
    socket.end();
    const t = this.opts.timers.set(() => socket.destroy(), 1_000);
    socket.once('close', () => this.opts.timers.clear(t));
  }

  private tlsServer(name: ListenerName, withAlpn: boolean, chain: ServerChain): TlsServer {
    const { behaviour } = this.opts;
    const intercepted = behaviour.serverCert === 'intercepted';
    const tlsServer = createTlsServer({
      key: chain.keyPem,
      cert: chain.certChainPem,
      // AWS's default security policy (facts §2.1, §2.5): its TLS 1.2 and TLS 1.3 suites only.
      ciphers: DEFAULT_POLICY_CIPHERS,
      // An intercepting proxy does not ask for (and could not forward) the device certificate.
      requestCert: !intercepted,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      // AWS IoT does not support session tickets.
      secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
      ...(withAlpn
        ? {
            // facts §1: x-amzn-mqtt-ca and x-amzn-http-ca select the certificate, mqtt custom authentication.
            ALPNCallback: ({ protocols }: { servername: string; protocols: string[] }) =>
              [ALPN_MQTT, ALPN_HTTP, ALPN_CUSTOM_AUTH].find((p) => protocols.includes(p)) ?? protocols[0],
          }
        : {}),
    });
    tlsServer.on('tlsClientError', () => {});
    tlsServer.on('secureConnection', (socket: TLSSocket) => this.onSecure(name, socket));
    this.tlsServers.push(tlsServer);
    return tlsServer;
  }

  private async listenTls(name: ListenerName, port: number): Promise<number> {
    const { server: identity, behaviour } = this.opts;
    const withAlpn = name === 'tls443' && behaviour.alpn443 === 'select';
    const servers: TlsServers = {
      plain: { rsa: this.tlsServer(name, false, identity.rsa), ec: this.tlsServer(name, false, identity.ec) },
      ...(withAlpn
        ? { alpn: { rsa: this.tlsServer(name, true, identity.rsa), ec: this.tlsServer(name, true, identity.ec) } }
        : {}),
    };
    const server = createNetServer((socket) => this.onTcp(name, socket, servers));
    this.netServers.push(server);
    return listen(server, port, this.opts.bind);
  }

  private async listenStall(port: number): Promise<number> {
    const server = createNetServer((socket) => {
      this.opts.stats.connections += 1;
      this.opts.tracker.add(socket);
      socket.on('error', () => {});
      // Read and discard: the ClientHello is never answered.
      socket.on('data', () => {});
    });
    this.netServers.push(server);
    return listen(server, port, this.opts.bind);
  }

  private onTcp(name: ListenerName, socket: Socket, servers: TlsServers): void {
    const { tracker, timers, log } = this.opts;
    this.opts.stats.connections += 1;
    tracker.add(socket);
    // Like AWS's gateway: small MQTT packets and HTTP responses go out at once, not after Nagle's delay.
    socket.setNoDelay(true);
    socket.on('error', () => {});
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = timers.set(() => socket.destroy(), CLIENT_HELLO_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      const data = Buffer.concat(chunks);
      const hello = parseClientHello(data);
      if (hello.kind === 'incomplete' && size < MAX_CLIENT_HELLO_BYTES) return;
      socket.off('data', onData);
      timers.clear(timer);
      if (hello.kind !== 'hello') {
        log(`${name}: not a TLS ClientHello, closing`);
        socket.destroy();
        return;
      }
      if (this.refusedForSni(name, socket, hello.info)) return;
      const { alpnProtocols } = hello.info;
      const wantsAlpn = [ALPN_MQTT, ALPN_HTTP, ALPN_CUSTOM_AUTH].some((p) => alpnProtocols.includes(p));
      const pair = servers.alpn && wantsAlpn ? servers.alpn : servers.plain;
      const target = pair[serverKeyFor(hello.info)];
      socket.pause();
      socket.unshift(data);
      target.emit('connection', socket);
    };
    socket.on('data', onData);
    socket.once('close', () => timers.clear(timer));
  }

  /**
   * SNI (facts §2.2): none is fine for certificates in DEFAULT mode (the lab's default; `requireSni` refuses it with
   * alert 40). A name other than the endpoint fails on AWS ("will fail"), but how is undocumented: the scenario's
   * `wrongSni` variant answers it. True when the connection was refused.
   */
  private refusedForSni(name: ListenerName, socket: Socket, hello: ClientHelloInfo): boolean {
    const { requireSni, endpoint, log, behaviour } = this.opts;
    const { serverName } = hello;
    if (!serverName) {
      if (!requireSni) return false;
      log(`${name}: ClientHello without SNI, handshake refused`);
      socket.end(fatalAlert(TLS_ALERT.handshakeFailure));
      return true;
    }
    if (serverName.toLowerCase() === endpoint) return false;
    const variant = behaviour.wrongSni;
    log(`${name}: SNI ${serverName} is not this endpoint: ${variant}`);
    if (variant === 'handshake-failure') socket.end(fatalAlert(TLS_ALERT.handshakeFailure));
    else if (variant === 'unrecognized-name') socket.end(fatalAlert(TLS_ALERT.unrecognizedName));
    else if (variant === 'close') socket.destroy();
    return variant !== 'default-certificate';
  }

  private onSecure(name: ListenerName, socket: TLSSocket): void {
    this.opts.stats.tlsHandshakes[name] += 1;
    this.opts.tracker.add(socket);
    socket.on('error', () => {});
    const alpn = socket.alpnProtocol;
    let route: 'mqtt' | 'https' | 'unauthenticated';
    if (name === 'mqtt8883') route = 'mqtt';
    else if (name === 'https8443') route = 'https';
    else route = alpn === ALPN_MQTT ? 'mqtt' : alpn === ALPN_HTTP ? 'https' : 'unauthenticated';
    const port = name === 'tls443' ? '443' : name === 'mqtt8883' ? '8883' : '8443';
    const label = `${port}${alpn ? ` (ALPN ${alpn})` : ''}`;

    if (name === 'tls443' && alpn === ALPN_CUSTOM_AUTH) {
      // Custom authentication: no client certificate needed; the authorizer decides at CONNECT (facts §1 row 3).
      if (this.customAuthDeps) handleMqttConnection(socket, Buffer.alloc(0), label, this.customAuthDeps);
      else this.hangUp(socket);
      return;
    }
    if (route === 'unauthenticated') {
      this.unauthenticated443(socket, label);
      return;
    }
    const der = socket.getPeerCertificate(true)?.raw;
    if (!der) {
      this.opts.log(`${label}: no client certificate, closing after the handshake`);
      this.hangUp(socket);
      return;
    }
    if (route === 'mqtt') handleMqttConnection(socket, der, label, this.mqttDeps);
    else this.publishServer.emit('connection', socket);
  }

  /** 443 without ALPN: HTTP requests get 403 Missing Authentication Token, MQTT bytes get silence. */
  private unauthenticated443(socket: TLSSocket, label: string): void {
    const idle = this.opts.timers.set(() => this.hangUp(socket), SILENT_MQTT_MS);
    socket.once('close', () => this.opts.timers.clear(idle));
    socket.once('data', (chunk: Buffer) => {
      this.opts.timers.clear(idle);
      socket.pause();
      const first = chunk[0] ?? 0;
      if (first >= 0x41 && first <= 0x5a) {
        socket.unshift(chunk);
        this.unauthenticatedServer.emit('connection', socket);
        socket.resume();
        return;
      }
      this.opts.log(`${label}: MQTT without ALPN is not authenticated by the certificate: no CONNACK`);
      socket.on('data', () => {});
      socket.resume();
      const t = this.opts.timers.set(() => this.hangUp(socket), SILENT_MQTT_MS);
      socket.once('close', () => this.opts.timers.clear(t));
    });
  }
}
