/**
 * The MQTT side of the TLS front (port 8883, and 443 with ALPN x-amzn-mqtt-ca). It reads the CONNECT itself and
 * decides as AWS IoT does:
 *
 * 1. the client certificate must be registered in the account and ACTIVE;
 * 2. a policy reaching the certificate must allow iot:Connect on client/<clientId>.
 *
 * Denied: MQTT 3.1.1 gets no CONNACK, the connection is closed right after CONNECT; MQTT 5 gets CONNACK 0x87 (Not
 * authorized) and then the close. Allowed: MQTT 3.1.1 is handed to aedes with the CONNECT replayed; MQTT 5 is
 * proxied to mosquitto packet by packet, so publish / subscribe / receive are checked here: a denied SUBSCRIBE gets a
 * SUBACK 0x87 for that filter, a denied QoS 1 PUBLISH a PUBACK 0x87, a denied QoS 0 PUBLISH is dropped, a message the
 * subscriber may not receive is not delivered.
 */
import { createConnection, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { IConnectPacket, IPublishPacket, ISubackPacket, ISubscribePacket } from 'mqtt-packet';
import type { Authorizer, ConnectionIdentity } from './authz.js';
import { connectionIdentities, type LabBroker } from './broker.js';
import {
  decodePacket,
  encodePacket,
  MqttFramer,
  PACKET_TYPE,
  packetType,
  type Packet,
} from './mqtt-codec.js';
import type { SocketTracker, TimerSet } from './net-util.js';

export const REASON = {
  success: 0x00,
  unspecified: 0x80,
  notAuthorized: 0x87,
} as const;

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
}

/** Time a client has to send CONNECT after the TLS handshake. */
const CONNECT_TIMEOUT_MS = 20_000;

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
  const who = `${route}: CONNECT clientId=${JSON.stringify(clientId)} MQTT ${version === 5 ? '5' : version === 4 ? '3.1.1' : '3.1'}`;

  const refuse = (why: string): void => {
    if (version === 5) {
      deps.log(`${who} refused (${why}): CONNACK 0x87`);
      socket.write(encodePacket({ cmd: 'connack', sessionPresent: false, reasonCode: REASON.notAuthorized }, 5));
    } else {
      deps.log(`${who} refused (${why}): closing without CONNACK`);
    }
    deps.hangUp(socket);
  };

  if (version !== 4 && version !== 5) {
    deps.log(`${who}: protocol level ${version} is not supported, closing`);
    deps.hangUp(socket);
    return;
  }

  const auth = deps.authorizer.authenticate(peerDer);
  if (!auth.ok) {
    refuse(auth.reason === 'CERT_NOT_REGISTERED' ? 'certificate not registered' : `certificate ${auth.cert?.status}`);
    return;
  }
  if (auth.cert.certificateMode === 'SNI_ONLY' && !socket.servername) {
    refuse('SNI_ONLY certificate used without SNI');
    return;
  }
  const identity: ConnectionIdentity = { certificateId: auth.cert.certificateId, clientId };
  const sourceIp = socket.remoteAddress;
  if (sourceIp) identity.sourceIp = sourceIp;
  const decision = deps.authorizer.check(identity, 'iot:Connect', 'client', clientId);
  if (decision.decision !== 'ALLOWED') {
    refuse(`iot:Connect ${decision.decision}`);
    return;
  }

  if (version === 4) {
    deps.log(`${who} accepted`);
    connectionIdentities.set(socket, identity);
    socket.unshift(bytes);
    const client = deps.broker.aedes.handle(socket);
    capSubscribeQos(client);
    return;
  }

  const port = deps.broker.mqtt5Port;
  if (port === undefined) {
    deps.log(`${who}: MQTT 5 unavailable (${deps.broker.mqtt5Unavailable ?? 'no MQTT 5 broker'}), CONNACK 0x80`);
    socket.write(
      encodePacket(
        {
          cmd: 'connack',
          sessionPresent: false,
          reasonCode: REASON.unspecified,
          properties: {
            reasonString: `MQTT 5 needs mosquitto in the iot-doctor lab (${deps.broker.mqtt5Unavailable ?? 'not available'}); use MQTT 3.1.1 or install mosquitto`,
          },
        },
        5,
      ),
    );
    deps.hangUp(socket);
    return;
  }
  deps.log(`${who} accepted (proxied to the MQTT 5 broker)`);
  proxyMqtt5(socket, identity, bytes, connectLength, port, deps);
}

/** Packet-by-packet proxy between an MQTT 5 client and mosquitto, enforcing the policy on the way. */
function proxyMqtt5(
  client: TLSSocket,
  identity: ConnectionIdentity,
  bytes: Buffer,
  connectLength: number,
  port: number,
  deps: MqttFrontDeps,
): void {
  const { authorizer, log } = deps;
  const who = identity.clientId ?? '';
  const upstream = createConnection({ host: '127.0.0.1', port });
  deps.tracker.add(upstream);
  upstream.setNoDelay(true);
  upstream.on('error', () => {});

  const fromClient = new MqttFramer();
  const fromBroker = new MqttFramer();
  /** Topic aliases the client defined (client -> server direction). */
  const clientAliases = new Map<number, string>();
  /** Topic aliases the broker defined (server -> client direction). */
  const brokerAliases = new Map<number, string>();
  /** SUBSCRIBE packets forwarded with some filters removed: messageId -> per original filter, denied or not. */
  const partialSubscribes = new Map<number, boolean[]>();
  let closing = false;

  const closeBoth = (): void => {
    if (closing) return;
    closing = true;
    deps.hangUp(client);
    upstream.end();
    deps.timers.set(() => upstream.destroy(), 1_000);
  };

  const onClientFrame = (frame: Buffer): void => {
    const type = packetType(frame);
    if (type !== PACKET_TYPE.publish && type !== PACKET_TYPE.subscribe) {
      upstream.write(frame);
      return;
    }
    const packet = decodePacket(frame, 5);
    if (packet.cmd === 'publish') {
      const topic = resolveAlias(packet, clientAliases);
      const allowed =
        topic !== undefined &&
        authorizer.allowed(identity, 'iot:Publish', 'topic', topic) &&
        (!packet.retain || authorizer.allowed(identity, 'iot:RetainPublish', 'topic', topic));
      if (allowed) {
        upstream.write(frame);
        return;
      }
      log(`mqtt5: ${who} PUBLISH ${topic ?? '(unknown alias)'} denied${packet.qos === 1 ? ': PUBACK 0x87' : ': dropped'}`);
      if (packet.qos === 1 && packet.messageId !== undefined) {
        client.write(encodePacket({ cmd: 'puback', messageId: packet.messageId, reasonCode: REASON.notAuthorized }, 5));
      } else if (packet.qos === 2) {
        // QoS 2 is not supported by AWS IoT; let the broker refuse it (max_qos 1).
        upstream.write(frame);
      }
      return;
    }
    if (packet.cmd === 'subscribe') {
      const deniedFlags = packet.subscriptions.map(
        (s) => !authorizer.allowed(identity, 'iot:Subscribe', 'topicfilter', s.topic),
      );
      if (!deniedFlags.some(Boolean)) {
        upstream.write(frame);
        return;
      }
      const deniedTopics = packet.subscriptions.filter((_, i) => deniedFlags[i]).map((s) => s.topic);
      log(`mqtt5: ${who} SUBSCRIBE ${deniedTopics.join(', ')} denied: SUBACK 0x87`);
      const messageId = packet.messageId ?? 0;
      if (deniedFlags.every(Boolean)) {
        const suback: ISubackPacket = {
          cmd: 'suback',
          messageId,
          granted: deniedFlags.map(() => REASON.notAuthorized),
        };
        client.write(encodePacket(suback, 5));
        return;
      }
      partialSubscribes.set(messageId, deniedFlags);
      const reduced: ISubscribePacket = {
        ...packet,
        subscriptions: packet.subscriptions.filter((_, i) => !deniedFlags[i]),
      };
      upstream.write(encodePacket(reduced, 5));
      return;
    }
    upstream.write(frame);
  };

  const onBrokerFrame = (frame: Buffer): void => {
    const type = packetType(frame);
    if (type === PACKET_TYPE.publish) {
      const packet = decodePacket(frame, 5) as IPublishPacket;
      const topic = resolveAlias(packet, brokerAliases);
      if (topic !== undefined && authorizer.allowed(identity, 'iot:Receive', 'topic', topic)) {
        client.write(frame);
        return;
      }
      log(`mqtt5: ${who} not authorized to receive ${topic ?? '(unknown alias)'}; message not delivered`);
      if (packet.qos === 1 && packet.messageId !== undefined) {
        upstream.write(encodePacket({ cmd: 'puback', messageId: packet.messageId, reasonCode: REASON.success }, 5));
      }
      return;
    }
    if (type === PACKET_TYPE.suback && partialSubscribes.size > 0) {
      const packet = decodePacket(frame, 5) as ISubackPacket;
      const flags = partialSubscribes.get(packet.messageId ?? 0);
      if (flags) {
        partialSubscribes.delete(packet.messageId ?? 0);
        const fromUpstream = [...(packet.granted as number[])];
        const merged = flags.map((isDenied) => (isDenied ? REASON.notAuthorized : (fromUpstream.shift() ?? REASON.unspecified)));
        client.write(encodePacket({ ...packet, granted: merged }, 5));
        return;
      }
    }
    client.write(frame);
  };

  const guard =
    (fn: (frame: Buffer) => void, framer: MqttFramer) =>
    (chunk: Buffer): void => {
      if (closing) return;
      try {
        for (const frame of framer.push(chunk)) fn(frame);
      } catch (err) {
        log(`mqtt5: ${who} protocol error (${err instanceof Error ? err.message : String(err)}), closing`);
        closeBoth();
      }
    };

  upstream.once('connect', () => {
    if (closing) return;
    upstream.write(bytes.subarray(0, connectLength));
    const handleClient = guard(onClientFrame, fromClient);
    const rest = bytes.subarray(connectLength);
    if (rest.length > 0) handleClient(rest);
    client.on('data', handleClient);
    client.resume();
  });
  upstream.on('data', guard(onBrokerFrame, fromBroker));
  upstream.once('close', closeBoth);
  client.once('close', closeBoth);
  client.once('end', closeBoth);
}

function resolveAlias(packet: Packet, aliases: Map<number, string>): string | undefined {
  if (packet.cmd !== 'publish') return undefined;
  const alias = packet.properties?.topicAlias;
  if (alias === undefined) return packet.topic;
  if (packet.topic) {
    aliases.set(alias, packet.topic);
    return packet.topic;
  }
  return aliases.get(alias);
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
