/**
 * The MQTT side of the TLS front (port 8883, and 443 with ALPN x-amzn-mqtt-ca). It reads the CONNECT itself and
 * decides as AWS IoT does:
 *
 * 1. the client certificate must be registered in the account and ACTIVE;
 * 2. a policy reaching the certificate must allow iot:Connect on client/<clientId>.
 *
 * 3. a Last Will's topic must be one the policy lets the client publish to (field notes §7.5);
 * 4. the client id within AWS's limits (facts §3.1: ≤ 128 bytes, no `$` prefix; MQTT 5: CONNACK 0x85).
 *
 * Denied: MQTT 3.1.1 gets no CONNACK, the connection is closed right after CONNECT; MQTT 5 gets CONNACK 0x87 (Not
 * authorized) and then the close; an authorization refusal publishes `connect_failed` (lifecycle.ts). Allowed: the
 * keep-alive is brought within 30-1200 s (facts §3.1); MQTT 3.1.1 is handed to aedes through a filtered stream
 * (mqtt311-conn.ts); MQTT 5 is proxied to mosquitto packet by packet (mqtt5-proxy.ts), which checks publish /
 * subscribe / receive. Both publish `connected` and, at the close, `disconnected`.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { IConnectPacket } from 'mqtt-packet';
import type { Authorizer, ConnectionIdentity } from './authz.js';
import { connectionIdentities, connectionSockets, deniedConnections, type LabBroker } from './broker.js';
import type { DisconnectReason, Presence } from './lifecycle.js';
import { EarlyPackets, type EarlyPacketsVariant } from './early-packets.js';
import { Mqtt311Connection } from './mqtt311-conn.js';
import { clientIdProblem, effectiveKeepalive } from './mqtt-limits.js';
import { decodePacket, encodePacket, MqttFramer, PACKET_TYPE, packetType, type Packet } from './mqtt-codec.js';
import { proxyMqtt5, REASON } from './mqtt5-proxy.js';
import type { SocketTracker, TimerSet } from './net-util.js';
import type { LabRecords } from './records.js';

/** What the MQTT front needs from the lab (the MQTT 5 proxy's needs plus the brokers). */
export interface MqttFrontDeps {
  authorizer: Authorizer;
  broker: LabBroker;
  tracker: SocketTracker;
  timers: TimerSet;
  log: (message: string) => void;
  /** Called when the connection is to be closed without a word (AWS style). */
  hangUp: (socket: Socket) => void;
  /** Whether the TLS front demands SNI (SNI_ONLY certificates need it even when the front does not). */
  requireSni: boolean;
  /** Session table, connectivity data and AWS IoT logs (records.ts); absent: none kept. */
  records?: LabRecords;
  /** Lifecycle events (facts §3.3). */
  presence: Presence;
  /**
   * Custom authentication (443 with ALPN `mqtt`, facts §1 row 3): decides the CONNECT from its username and password
   * instead of the client certificate (custom-auth-front.ts).
   */
  authenticate?: (socket: TLSSocket, connect: IConnectPacket) => Authenticated | Refusal;
  /** Packets sent before the CONNACK: the lab variant of AWS's unconfirmed handling (early-packets.ts); default in order. */
  earlyPackets?: EarlyPacketsVariant;
}

/** Time a client has to send CONNECT after the TLS handshake. */
const CONNECT_TIMEOUT_MS = 20_000;

/**
 * Takes over an MQTT connection after the TLS handshake: waits up to 20 s for CONNECT (then hangs up), decides it as
 * AWS does (see the file comment) and hands the connection to aedes (3.1.1) or the MQTT 5 proxy. `peerDer` is the
 * client certificate (DER), `route` a log prefix. A first packet that is not CONNECT or is malformed closes the
 * connection without a word. Never throws.
 */
export function handleMqttConnection(socket: TLSSocket, peerDer: Buffer, route: string, deps: MqttFrontDeps): void {
  const framer = new MqttFramer();
  const received: Buffer[] = [];
  const timer = deps.timers.set(() => {
    deps.log(`${route}: no CONNECT within ${CONNECT_TIMEOUT_MS / 1000} s, closing`);
    deps.hangUp(socket);
  }, CONNECT_TIMEOUT_MS);

  const onData = (chunk: Buffer): void => {
    received.push(chunk);
    let frames: Buffer[];
    try {
      frames = framer.push(chunk);
    } catch {
      done();
      deps.hangUp(socket);
      return;
    }
    const first = frames[0];
    if (!first) return;
    done();
    if (packetType(first) !== PACKET_TYPE.connect) {
      deps.log(`${route}: first packet is not CONNECT, closing`);
      deps.hangUp(socket);
      return;
    }
    let connect: IConnectPacket;
    try {
      connect = decodePacket(first, 4) as IConnectPacket;
    } catch (err) {
      deps.log(`${route}: malformed CONNECT (${err instanceof Error ? err.message : String(err)}), closing`);
      deps.hangUp(socket);
      return;
    }
    onConnect(socket, peerDer, route, connect, Buffer.concat(received), first.length, deps);
  };
  const done = (): void => {
    deps.timers.clear(timer);
    socket.off('data', onData);
    socket.pause();
  };
  socket.on('data', onData);
  socket.once('close', () => deps.timers.clear(timer));
}

function onConnect(
  socket: TLSSocket,
  peerDer: Buffer,
  route: string,
  connect: IConnectPacket,
  bytes: Buffer,
  connectLength: number,
  deps: MqttFrontDeps,
): void {
  const version = connect.protocolVersion ?? 4;
  const clientId = connect.clientId;
  const versionName = version === 5 ? '5' : version === 4 ? '3.1.1' : '3.1';
  const who = `${route}: CONNECT clientId=${JSON.stringify(clientId)} MQTT ${versionName}`;
  if (version !== 4 && version !== 5) {
    deps.log(`${who}: protocol level ${version} is not supported, closing`);
    deps.hangUp(socket);
    return;
  }
  // A client id over AWS's limits is refused before anything is counted against it (facts §3.1).
  const idProblem = clientIdProblem(clientId);
  if (idProblem) {
    refuseConnect(socket, version, who, { why: idProblem, code: REASON.clientIdNotValid }, deps);
    return;
  }
  if (deps.records?.throttled(clientId)) {
    refuseThrottled(socket, who, clientId, version, deps);
    return;
  }
  const verdict = deps.authenticate
    ? deps.authenticate(socket, connect)
    : authorizeConnect(socket, peerDer, connect, deps.authorizer);
  if (!('identity' in verdict)) {
    refuseConnect(socket, version, who, verdict, deps);
    return;
  }
  if (verdict.refusal) {
    const principalIdentifier = verdict.identity.certificateId;
    deps.presence.connectFailed({ clientId, principalIdentifier, ipAddress: socket.remoteAddress });
    recordRefusal(socket, peerDer, clientId, verdict.refusal.why, deps);
    refuseConnect(socket, version, who, verdict.refusal, deps);
    return;
  }
  if (version === 4) {
    accept311(socket, connect, verdict.identity, bytes.subarray(connectLength), who, deps);
    return;
  }
  const port = deps.broker.mqtt5Port;
  if (port === undefined) {
    refuseMqtt5Unavailable(socket, who, deps);
    return;
  }
  deps.log(`${who} accepted (proxied to the MQTT 5 broker)`);
  recordSession(socket, connect, verdict.identity, 5, deps);
  const session = deps.presence.connected(presenceSubject(socket, verdict.identity, clientId));
  const keepalive = effectiveKeepalive(connect.keepalive ?? 0);
  const rewritten = keepalive === connect.keepalive ? undefined : encodePacket({ ...connect, keepalive }, 5);
  proxyMqtt5(socket, verdict.identity, bytes, connectLength, port, { ...deps, session, rewritten, keepalive });
}

/** What a lifecycle event says about an accepted connection. */
function presenceSubject(
  socket: TLSSocket,
  identity: ConnectionIdentity,
  clientId: string,
): { clientId: string; principalIdentifier: string; ipAddress?: string } {
  const subject = { clientId, principalIdentifier: identity.certificateId };
  return socket.remoteAddress ? { ...subject, ipAddress: socket.remoteAddress } : subject;
}

/**
 * An accepted MQTT 3.1.1 CONNECT: the keep-alive brought within 30-1200 s (facts §3.1) and the connection handed to
 * aedes through the filtered stream (QoS 2 and broker limits, mqtt311-conn.ts), with `connected` / `disconnected`
 * lifecycle events and the session table kept. `rest` is what the client sent after its CONNECT.
 */
function accept311(
  socket: TLSSocket,
  connect: IConnectPacket,
  identity: ConnectionIdentity,
  rest: Buffer,
  who: string,
  deps: MqttFrontDeps,
): void {
  const keepalive = effectiveKeepalive(connect.keepalive ?? 0);
  deps.log(`${who} accepted (keep-alive ${keepalive} s)`);
  recordSession(socket, connect, identity, 4, deps);
  const first = Buffer.concat([encodePacket({ ...connect, keepalive }, 4), rest]);
  const session = deps.presence.connected(presenceSubject(socket, identity, connect.clientId));
  let reason: DisconnectReason = 'CONNECTION_LOST';
  const variant = deps.earlyPackets ?? 'in-order';
  const early = variant === 'in-order' ? undefined : new EarlyPackets(variant, 4, deps.log);
  const conn = new Mqtt311Connection(
    socket,
    first,
    connect.clientId,
    {
      log: deps.log,
      hangUp: () => deps.hangUp(socket),
      onDisconnect: () => {
        reason = 'CLIENT_INITIATED_DISCONNECT';
        deps.records?.clientDisconnect(socket);
      },
      onViolation: () => (reason = 'CLIENT_ERROR'),
    },
    early,
  );
  connectionIdentities.set(conn, identity);
  connectionSockets.set(conn, socket);
  socket.once('close', () => session.disconnected(deniedConnections.has(conn) ? 'AUTH_ERROR' : reason));
  deps.broker.aedes.handle(conn);
}

/** A refused CONNECT: MQTT 5 gets CONNACK with `code` (0x87 by default), 3.1.1 nothing; then the close. */
function refuseConnect(socket: TLSSocket, version: number, who: string, refusal: Refusal, deps: MqttFrontDeps): void {
  const code = refusal.code ?? REASON.notAuthorized;
  if (version === 5) {
    deps.log(`${who} refused (${refusal.why}): CONNACK 0x${code.toString(16)}`);
    socket.write(encodePacket({ cmd: 'connack', sessionPresent: false, reasonCode: code }, 5));
  } else {
    deps.log(`${who} refused (${refusal.why}): closing without CONNACK`);
  }
  deps.hangUp(socket);
}

/** Why a CONNECT is refused (a log phrase) and, for MQTT 5, the CONNACK reason code (default 0x87). */
export interface Refusal {
  why: string;
  code?: number;
}

/** An authenticated CONNECT: the identity, and the authorization refusal when there is one (→ connect_failed). */
export interface Authenticated {
  identity: ConnectionIdentity;
  refusal?: Refusal;
}

/**
 * The CONNECT decision of AWS IoT (facts §3), once the client id passed the limits (facts §3.1): the certificate
 * registered and ACTIVE, an SNI_ONLY certificate presented with SNI (facts §2.2), then — as
 * authorization — iot:Connect on client/<clientId> (facts §7) and iot:Publish (and iot:RetainPublish) on the Last
 * Will's topic (field notes §7.5). Returns a refusal before authentication, or the identity with any authorization
 * refusal (its `why` starts with `iot:Connect` or `iot:Publish`).
 */
function authorizeConnect(
  socket: TLSSocket,
  peerDer: Buffer,
  connect: IConnectPacket,
  authorizer: Authorizer,
): Authenticated | Refusal {
  const clientId = connect.clientId;
  const auth = authorizer.authenticate(peerDer);
  if (!auth.ok) {
    return {
      why: auth.reason === 'CERT_NOT_REGISTERED' ? 'certificate not registered' : `certificate ${auth.cert?.status}`,
    };
  }
  if (auth.cert.certificateMode === 'SNI_ONLY' && !socket.servername)
    return { why: 'SNI_ONLY certificate used without SNI' };
  const identity: ConnectionIdentity = { certificateId: auth.cert.certificateId, clientId };
  const sourceIp = socket.remoteAddress;
  if (sourceIp) identity.sourceIp = sourceIp;
  const decision = authorizer.check(identity, 'iot:Connect', 'client', clientId);
  if (decision.decision !== 'ALLOWED') return { identity, refusal: { why: `iot:Connect ${decision.decision}` } };
  const will = connect.will;
  if (will) {
    const allowed =
      authorizer.allowed(identity, 'iot:Publish', 'topic', will.topic) &&
      (!will.retain || authorizer.allowed(identity, 'iot:RetainPublish', 'topic', will.topic));
    if (!allowed) return { identity, refusal: { why: `iot:Publish denied on the Last Will topic ${will.topic}` } };
  }
  return { identity };
}

/** The lab has no MQTT 5 broker (mosquitto missing): CONNACK 0x80 with a reason string, then the close. */
function refuseMqtt5Unavailable(socket: TLSSocket, who: string, deps: MqttFrontDeps): void {
  const why = deps.broker.mqtt5Unavailable;
  deps.log(`${who}: MQTT 5 unavailable (${why ?? 'no MQTT 5 broker'}), CONNACK 0x80`);
  const advice = 'use MQTT 3.1.1 or install mosquitto';
  const reasonString = `MQTT 5 needs mosquitto in the iot-doctor lab (${why ?? 'not available'}); ${advice}`;
  const connack: Packet = {
    cmd: 'connack',
    sessionPresent: false,
    reasonCode: REASON.unspecified,
    properties: { reasonString },
  };
  socket.write(encodePacket(connack, 5));
  deps.hangUp(socket);
}

/**
 * Registers an accepted connection in the session table (records.ts): an older connection with the same client id,
 * of either MQTT version, is closed (MQTT 5: DISCONNECT 0x8E first), as AWS does (facts §3, field notes §8).
 */
function recordSession(
  socket: TLSSocket,
  connect: IConnectPacket,
  identity: ConnectionIdentity,
  version: 4 | 5,
  deps: MqttFrontDeps,
): void {
  if (!deps.records) return;
  const session = {
    clientId: connect.clientId,
    version,
    socket,
    principalId: identity.certificateId,
    keepAlive: connect.keepalive,
    cleanSession: connect.clean ?? true,
    hangUp: deps.hangUp,
    sendDisconnect: (reasonCode: number) => {
      deps.log(`mqtt5: ${connect.clientId} session taken over: DISCONNECT 0x${reasonCode.toString(16)}`);
      socket.write(encodePacket({ cmd: 'disconnect', reasonCode }, 5));
    },
  };
  const peer: { ip?: string; port?: number; localIp?: string; localPort?: number } = {};
  if (socket.remoteAddress) peer.ip = socket.remoteAddress;
  if (socket.remotePort !== undefined) peer.port = socket.remotePort;
  if (socket.localAddress) peer.localIp = socket.localAddress;
  if (socket.localPort !== undefined) peer.localPort = socket.localPort;
  deps.records.connected(session, peer);
}

/**
 * A CONNECT within 1 s of the previous one for the same client id (facts §3.1): MQTT 3.1.1 is closed without
 * CONNACK; MQTT 5 gets CONNACK 0x97 Quota exceeded (the mapping is unconfirmed, facts §3 table) and the close.
 */
function refuseThrottled(socket: TLSSocket, who: string, clientId: string, version: number, deps: MqttFrontDeps): void {
  deps.log(`${who} throttled (1 CONNECT per second per client id)`);
  const details = 'Connect throttled: more than 1 CONNECT per second for this client id';
  deps.records?.connectFailed({ clientId, socket, reason: 'THROTTLED', details });
  if (version === 5) {
    socket.write(encodePacket({ cmd: 'connack', sessionPresent: false, reasonCode: REASON.quotaExceeded }, 5));
  }
  deps.hangUp(socket);
}

/**
 * Logs a refused CONNECT when the refusal is an authorization one (facts §3 table: CloudWatch `Connect`, reason
 * `AUTHORIZATION_FAILURE`). Authentication failures are not written: AWS logs them only as the opt-in
 * `Connection.AuthNError` type (field notes §7.6, unconfirmed).
 */
function recordRefusal(socket: TLSSocket, peerDer: Buffer, clientId: string, why: string, deps: MqttFrontDeps): void {
  if (!deps.records || !/^iot:(Connect|Publish)/.test(why)) return;
  const auth = deps.authorizer.authenticate(peerDer);
  const principalId = auth.ok ? auth.cert.certificateId : undefined;
  const refusal = { clientId, socket, reason: 'AUTHORIZATION_FAILURE', details: 'Authorization Failure' };
  deps.records.connectFailed(principalId ? { ...refusal, principalId } : refusal);
}
