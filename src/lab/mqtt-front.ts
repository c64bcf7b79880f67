/**
 * The MQTT side of the TLS front (port 8883, and 443 with ALPN x-amzn-mqtt-ca). It reads the CONNECT itself and
 * decides as AWS IoT does:
 *
 * 1. the client certificate must be registered in the account and ACTIVE;
 * 2. a policy reaching the certificate must allow iot:Connect on client/<clientId>.
 *
 * Denied: MQTT 3.1.1 gets no CONNACK, the connection is closed right after CONNECT; MQTT 5 gets CONNACK 0x87 (Not
 * authorized) and then the close. Allowed: MQTT 3.1.1 is handed to aedes with the CONNECT replayed; MQTT 5 is
 * proxied to mosquitto packet by packet (mqtt5-proxy.ts), which checks publish / subscribe / receive.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { IConnectPacket } from 'mqtt-packet';
import type { Authorizer, ConnectionIdentity } from './authz.js';
import { connectionIdentities, type LabBroker } from './broker.js';
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
  if (deps.records?.throttled(clientId)) {
    refuseThrottled(socket, who, clientId, version, deps);
    return;
  }
  const verdict = authorizeConnect(socket, peerDer, clientId, deps.authorizer);
  if (typeof verdict === 'string') {
    recordRefusal(socket, peerDer, clientId, verdict, deps);
    if (version === 5) {
      deps.log(`${who} refused (${verdict}): CONNACK 0x87`);
      socket.write(encodePacket({ cmd: 'connack', sessionPresent: false, reasonCode: REASON.notAuthorized }, 5));
    } else {
      deps.log(`${who} refused (${verdict}): closing without CONNACK`);
    }
    deps.hangUp(socket);
    return;
  }
  if (version === 4) {
    deps.log(`${who} accepted`);
    recordSession(socket, connect, verdict, 4, deps);
    connectionIdentities.set(socket, verdict);
    socket.unshift(bytes);
    const client = deps.broker.aedes.handle(socket);
    capSubscribeQos(client);
    watchDisconnect(client, () => deps.records?.clientDisconnect(socket));
    return;
  }
  const port = deps.broker.mqtt5Port;
  if (port === undefined) {
    refuseMqtt5Unavailable(socket, who, deps);
    return;
  }
  deps.log(`${who} accepted (proxied to the MQTT 5 broker)`);
  recordSession(socket, connect, verdict, 5, deps);
  proxyMqtt5(socket, verdict, bytes, connectLength, port, deps);
}

/**
 * The CONNECT decision of AWS IoT (facts §3): the certificate registered and ACTIVE, an SNI_ONLY certificate
 * presented with SNI (facts §2.2), and iot:Connect allowed on client/<clientId> (facts §7). Returns the connection's
 * identity, or why it is refused (a log phrase).
 */
function authorizeConnect(
  socket: TLSSocket,
  peerDer: Buffer,
  clientId: string,
  authorizer: Authorizer,
): ConnectionIdentity | string {
  const auth = authorizer.authenticate(peerDer);
  if (!auth.ok) {
    return auth.reason === 'CERT_NOT_REGISTERED' ? 'certificate not registered' : `certificate ${auth.cert?.status}`;
  }
  if (auth.cert.certificateMode === 'SNI_ONLY' && !socket.servername) return 'SNI_ONLY certificate used without SNI';
  const identity: ConnectionIdentity = { certificateId: auth.cert.certificateId, clientId };
  const sourceIp = socket.remoteAddress;
  if (sourceIp) identity.sourceIp = sourceIp;
  const decision = authorizer.check(identity, 'iot:Connect', 'client', clientId);
  return decision.decision === 'ALLOWED' ? identity : `iot:Connect ${decision.decision}`;
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
 * AWS IoT grants at most QoS 1. aedes computes the SUBACK from the requested QoS before the authorizeSubscribe hook
 * runs, so the cap is applied to SUBSCRIBE packets as aedes' parser emits them, before aedes handles them.
 */
function capSubscribeQos(client: object): void {
  const parser = (client as { _parser?: { prependListener?: (e: string, fn: (p: Packet) => void) => void } })._parser;
  parser?.prependListener?.('packet', (p: Packet) => {
    if (p.cmd !== 'subscribe') return;
    for (const s of p.subscriptions) if (s.qos > 1) s.qos = 1;
  });
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
  if (!deps.records || !why.startsWith('iot:Connect')) return;
  const auth = deps.authorizer.authenticate(peerDer);
  const principalId = auth.ok ? auth.cert.certificateId : undefined;
  const refusal = { clientId, socket, reason: 'AUTHORIZATION_FAILURE', details: 'Authorization Failure' };
  deps.records.connectFailed(principalId ? { ...refusal, principalId } : refusal);
}

/** Calls `onDisconnect` when aedes' parser emits the client's DISCONNECT packet (a client-initiated close). */
function watchDisconnect(client: object, onDisconnect: () => void): void {
  const parser = (client as { _parser?: { prependListener?: (e: string, fn: (p: Packet) => void) => void } })._parser;
  parser?.prependListener?.('packet', (p: Packet) => {
    if (p.cmd === 'disconnect') onDisconnect();
  });
}
