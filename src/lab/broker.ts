/**
 * The lab's message brokers.
 *
 * - MQTT 3.1.1: an in-process aedes broker. The TLS front authenticates and authorizes CONNECT itself, then hands
 *   the stream to aedes; aedes hooks enforce iot:Publish / iot:RetainPublish / iot:Subscribe / iot:Receive. A denied
 *   PUBLISH or SUBSCRIBE closes the connection, which is what AWS IoT does for MQTT 3.1.1 clients.
 * - MQTT 5: mosquitto as a child process on a loopback port (aedes speaks only 3.1.1). The front proxies packet by
 *   packet and enforces the policy there (see mqtt-front.ts).
 * - A bridge client joins the two, so a message published on either side (or by HTTPS publish) reaches the
 *   subscribers of both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Aedes, type Client as AedesClient, type PublishPacket } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import type { Authorizer, ConnectionIdentity } from './authz.js';
import { reserveClosedPort } from './net-util.js';
import type { LabRecords } from './records.js';

/** Identity of a connection handed to aedes, keyed by the stream aedes reads (client.conn). */
export const connectionIdentities = new WeakMap<object, ConnectionIdentity>();

/** The client's TLS socket behind a stream handed to aedes (the front filters 3.1.1 packets, mqtt311-conn.ts). */
export const connectionSockets = new WeakMap<object, Socket>();

/** Connections aedes closed for a policy denial (lifecycle `disconnectReason` AUTH_ERROR), keyed like the above. */
export const deniedConnections = new WeakSet<object>();

export interface LabBroker {
  aedes: Aedes;
  /** Port of the mosquitto child on 127.0.0.1 when MQTT 5 is available. */
  mqtt5Port?: number;
  /** Why MQTT 5 is unavailable, when it is. */
  mqtt5Unavailable?: string;
  /** Publish on both brokers (HTTPS publish). */
  publish(topic: string, payload: Buffer, qos: 0 | 1, retain: boolean): Promise<void>;
  close(): Promise<void>;
}

export interface BrokerOptions {
  authorizer: Authorizer;
  mqtt5: 'auto' | 'off';
  log: (message: string) => void;
  /** AWS IoT logs and disconnect reasons (records.ts); absent: none kept. */
  records?: LabRecords;
}

function denied(action: string, resource: string): Error {
  return new Error(`not authorized: ${action} on ${resource}`);
}

/**
 * The aedes broker with AWS IoT's MQTT 3.1.1 authorization (facts §3, §7): iot:Publish and iot:RetainPublish on
 * every PUBLISH, iot:Subscribe on every SUBSCRIBE (a denial of either closes the connection), QoS 2 PUBLISH refused,
 * granted QoS capped at 1, iot:Receive on every delivery (an unauthorized delivery is dropped).
 */
async function createAedes(
  authorizer: Authorizer,
  log: (message: string) => void,
  records?: LabRecords,
): Promise<Aedes> {
  const refused = (client: AedesClient, type: 'Publish-In' | 'Subscribe', topic: string): void => {
    const socket = connectionSockets.get(client.conn) ?? (client.conn as Socket);
    records?.operationFailed(socket, type, topic, 'Authorization Failure');
    records?.closing(socket, 'AUTH_ERROR');
  };
  const identityOf = (client: AedesClient | null): ConnectionIdentity | undefined =>
    client ? connectionIdentities.get(client.conn) : undefined;
  const aedes = await Aedes.createBroker({
    connectTimeout: 30_000,
    heartbeatInterval: 60_000,
    authorizePublish(client, packet, callback) {
      if (!client) return callback(null);
      const id = identityOf(client);
      if (!id) return callback(new Error('unknown connection'));
      if (packet.qos === 2) {
        log(`mqtt: ${id.clientId ?? ''} PUBLISH QoS 2 on ${packet.topic}: not supported, closing`);
        return callback(new Error('QoS 2 is not supported'));
      }
      if (!authorizer.allowed(id, 'iot:Publish', 'topic', packet.topic)) {
        log(`mqtt: ${id.clientId ?? ''} PUBLISH ${packet.topic} denied, closing the connection`);
        refused(client, 'Publish-In', packet.topic);
        deniedConnections.add(client.conn);
        return callback(denied('iot:Publish', packet.topic));
      }
      if (packet.retain && !authorizer.allowed(id, 'iot:RetainPublish', 'topic', packet.topic)) {
        log(`mqtt: ${id.clientId ?? ''} retained PUBLISH ${packet.topic} denied (iot:RetainPublish), closing`);
        refused(client, 'Publish-In', packet.topic);
        deniedConnections.add(client.conn);
        return callback(denied('iot:RetainPublish', packet.topic));
      }
      callback(null);
    },
    authorizeSubscribe(client, sub, callback) {
      const id = identityOf(client);
      if (!id) return callback(new Error('unknown connection'));
      if (!authorizer.allowed(id, 'iot:Subscribe', 'topicfilter', sub.topic)) {
        log(`mqtt: ${id.clientId ?? ''} SUBSCRIBE ${sub.topic} denied, closing the connection`);
        refused(client, 'Subscribe', sub.topic);
        if (client) deniedConnections.add(client.conn);
        return callback(denied('iot:Subscribe', sub.topic));
      }
      // AWS IoT grants at most QoS 1.
      callback(null, { ...sub, qos: sub.qos > 1 ? 1 : sub.qos });
    },
    authorizeForward(client, packet) {
      const id = identityOf(client);
      if (!id) return null;
      if (!authorizer.allowed(id, 'iot:Receive', 'topic', packet.topic)) {
        log(`mqtt: ${id.clientId ?? ''} not authorized to receive ${packet.topic}; message not delivered`);
        return null;
      }
      return packet;
    },
  });
  aedes.on('clientError', () => {});
  aedes.on('connectionError', () => {});
  return aedes;
}

/** The MQTT 5 side: mosquitto and its bridge to aedes, or why MQTT 5 is unavailable. */
interface Mqtt5Side {
  mosquitto?: Mosquitto;
  bridge?: MqttClient;
  unavailable?: string;
}

/** Starts mosquitto and the bridge unless MQTT 5 is off or mosquitto is missing; a failed start is not an error. */
async function startMqtt5(aedes: Aedes, mode: 'auto' | 'off'): Promise<Mqtt5Side> {
  if (mode === 'off') return { unavailable: 'MQTT 5 is turned off for this lab' };
  const binary = findMosquitto();
  if (!binary) return { unavailable: 'mosquitto is not installed' };
  let mosquitto: Mosquitto | undefined;
  try {
    mosquitto = await Mosquitto.start(binary);
    return { mosquitto, bridge: await startBridge(aedes, mosquitto.port) };
  } catch (err) {
    await mosquitto?.close();
    return { unavailable: `mosquitto did not start: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * Starts the lab's brokers: aedes in process (MQTT 3.1.1) and, unless `mqtt5` is 'off' or mosquitto is missing,
 * mosquitto on an ephemeral 127.0.0.1 port bridged to aedes. MQTT 5 being unavailable is reported in
 * `mqtt5Unavailable`, not thrown; rejects only when aedes cannot be created.
 */
export async function startBroker(opts: BrokerOptions): Promise<LabBroker> {
  const { log } = opts;
  const aedes = await createAedes(opts.authorizer, log, opts.records);
  const { mosquitto, bridge, unavailable } = await startMqtt5(aedes, opts.mqtt5);
  if (unavailable) log(`mqtt5: unavailable (${unavailable})`);

  let closed = false;
  const broker: LabBroker = {
    aedes,
    async publish(topic, payload, qos, retain) {
      const packet: PublishPacket = { cmd: 'publish', topic, payload, qos, retain, dup: false };
      await new Promise<void>((resolve, reject) => aedes.publish(packet, (err) => (err ? reject(err) : resolve())));
      if (bridge?.connected) {
        await bridge.publishAsync(topic, payload, { qos, retain }).catch(() => undefined);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (bridge) await bridge.endAsync(true).catch(() => undefined);
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await mosquitto?.close();
    },
  };
  if (mosquitto) broker.mqtt5Port = mosquitto.port;
  if (unavailable) broker.mqtt5Unavailable = unavailable;
  return broker;
}

/**
 * Forwards client publications between aedes (3.1.1) and mosquitto (5). aedes -> mosquitto: every publication that
 * came from a client (not from the broker itself); mosquitto -> aedes: everything except what the bridge published
 * (MQTT 5 no-local), injected with `aedes.publish`, which does not come back to the bridge.
 */
async function startBridge(aedes: Aedes, port: number): Promise<MqttClient> {
  const client = await connectAsync({
    host: '127.0.0.1',
    port,
    protocol: 'mqtt',
    protocolVersion: 5,
    clientId: `lab-bridge-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    keepalive: 0,
  });
  client.on('error', () => {});
  await client.subscribeAsync('#', { qos: 1, nl: true, rap: true });
  client.on('message', (topic, payload, packet) => {
    const qos = packet.qos > 1 ? 1 : packet.qos;
    aedes.publish({ cmd: 'publish', topic, payload, qos, retain: packet.retain, dup: false }, () => {});
  });
  aedes.on('publish', (packet, sender) => {
    if (!sender || !client.connected) return;
    const qos = packet.qos > 1 ? 1 : packet.qos;
    client.publish(packet.topic, Buffer.from(packet.payload), { qos, retain: packet.retain }, () => {});
  });
  return client;
}

const SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/opt/homebrew/sbin', '/usr/local/opt/mosquitto/sbin'];

/** Path of the mosquitto binary, from PATH or the usual sbin folders (Debian installs it in /usr/sbin). */
export function findMosquitto(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, 'mosquitto');
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

class Mosquitto {
  private exited = false;
  private readonly exitPromise: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly dir: string,
  ) {
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', () => {
        this.exited = true;
        resolve();
      });
    });
  }

  /** Kills mosquitto and removes its folder when this process dies without closing it (see brokerWatchdog). */
  watchdog: ChildProcess | undefined;

  static async start(binary: string): Promise<Mosquitto> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const dir = await mkdtemp(join(tmpdir(), 'iot-doctor-lab-mosquitto-'));
      const port = await reserveClosedPort('127.0.0.1');
      const conf = join(dir, 'mosquitto.conf');
      await writeFile(
        conf,
        [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous true',
          'persistence false',
          // AWS IoT: maximum QoS 1, keep-alive at most 1200 s (facts §3.1, §3.2). Payloads over 128 KB never reach
          // mosquitto (the front closes such connections), so its packet size stays unlimited and the bridge
          // cannot be broken by a large message.
          'max_qos 1',
          'max_keepalive 1200',
          'log_dest stderr',
          'log_type error',
          '',
        ].join('\n'),
      );
      const child = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (d: string) => {
        stderr = (stderr + d).slice(-2000);
      });
      child.on('error', () => {});
      const m = new Mosquitto(child, port, dir);
      m.watchdog = child.pid === undefined ? undefined : brokerWatchdog(child.pid, dir);
      try {
        await m.waitUntilListening();
        child.stderr?.removeAllListeners('data');
        child.stderr?.resume();
        return m;
      } catch (err) {
        lastError = stderr.trim() ? new Error(stderr.trim().split('\n').at(-1)) : err;
        await m.close();
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  private async waitUntilListening(): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error('mosquitto exited at start');
      const ok = await new Promise<boolean>((resolve) => {
        const s = createConnection({ host: '127.0.0.1', port: this.port });
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('mosquitto did not listen within 5 s');
  }

  async close(): Promise<void> {
    this.watchdog?.kill('SIGKILL');
    if (!this.exited) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 2_000);
      await this.exitPromise;
      clearTimeout(timer);
    }
    this.child.stderr?.destroy();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * A shell that outlives nothing: it waits on a pipe from this process, and when that pipe closes, because this process
 * ended for any reason (SIGKILL included), it kills mosquitto (PID) and removes its folder (DIR). `close()` kills the
 * watchdog first. Unreferenced, so it never keeps this process alive; a spawn failure leaves it absent (no watchdog,
 * as before).
 */
function brokerWatchdog(pid: number, dir: string): ChildProcess | undefined {
  try {
    const dog = spawn('sh', ['-c', 'read _; kill "$1" 2>/dev/null; rm -rf "$2"', 'sh', String(pid), dir], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    dog.on('error', () => {});
    dog.stdin?.on('error', () => {});
    dog.unref();
    (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return dog;
  } catch {
    return undefined;
  }
}
