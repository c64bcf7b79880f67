/**
 * Real clients for the lab tests: mqtt.js, node:https and the AWS SDK, aimed at a running lab on loopback.
 * These deliberately do not use iot-doctor's own probes, so the lab is checked against independent clients.
 */
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { IoTClient } from '@aws-sdk/client-iot';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import type { Lab } from '../../src/lab/index.js';

export interface Credentials {
  certPem?: string;
  keyPem?: string;
}

export type Port = 'mqtt8883' | 'tls443' | 'https8443';

export interface MqttAttemptOptions extends Credentials {
  port?: Port;
  alpn?: string[];
  version?: 4 | 5;
  clientId?: string;
  /** Defaults to the lab endpoint; null sends no SNI. */
  servername?: string | null;
  ca?: string;
  rejectUnauthorized?: boolean;
  /** How long to wait for CONNACK or close. */
  timeoutMs?: number;
  /** More mqtt.js options (a Last Will, a keep-alive, CONNECT properties). */
  options?: Partial<IClientOptions>;
}

export type MqttOutcome =
  | { kind: 'connack'; client: MqttClient; connack: IConnackPacket }
  | { kind: 'refused'; reasonCode: number; message: string; closed: Promise<void> }
  | { kind: 'closed'; error?: Error }
  | { kind: 'timeout'; client: MqttClient }
  | { kind: 'tls-error'; error: Error };

let counter = 0;
export function uniqueClientId(prefix = 'iot-doctor'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * One MQTT connection attempt with mqtt.js. Resolves with what the server did: CONNACK success, a CONNACK with an
 * error reason code (MQTT 5), a close without CONNACK (AWS's answer for MQTT 3.1.1), a TLS failure, or nothing.
 * `connectAsync` is not used: it never settles when the server closes silently.
 */
export function mqttAttempt(lab: Lab, opts: MqttAttemptOptions = {}): Promise<MqttOutcome> {
  const port = lab.ports[opts.port ?? 'mqtt8883'];
  const options: IClientOptions = {
    protocol: 'mqtts',
    host: lab.bind,
    port,
    ca: opts.ca ?? lab.caPem,
    cert: opts.certPem ?? lab.device.certPem,
    key: opts.keyPem ?? lab.device.keyPem,
    protocolVersion: opts.version ?? 4,
    clientId: opts.clientId ?? uniqueClientId(),
    reconnectPeriod: 0,
    // mqtt.js gives up later than this helper, so a silent server shows as 'timeout', not as mqtt.js closing.
    connectTimeout: (opts.timeoutMs ?? 5_000) + 5_000,
    keepalive: 30,
    rejectUnauthorized: opts.rejectUnauthorized ?? true,
    ...opts.options,
  };
  if (opts.servername !== null) (options as Record<string, unknown>)['servername'] = opts.servername ?? lab.endpoint;
  if (opts.alpn) (options as Record<string, unknown>)['ALPNProtocols'] = opts.alpn;
  if (opts.certPem === '') {
    delete options.cert;
    delete options.key;
  }
  return new Promise((resolve) => {
    const client = mqtt.connect(options);
    let settled = false;
    let lastError: Error | undefined;
    const finish = (o: MqttOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    const timer = setTimeout(() => finish({ kind: 'timeout', client }), opts.timeoutMs ?? 5_000);
    client.on('connect', (connack: IConnackPacket) => finish({ kind: 'connack', client, connack }));
    client.on('error', (err: Error & { code?: unknown }) => {
      lastError = err;
      if (typeof err.code === 'number') {
        finish({ kind: 'refused', reasonCode: err.code, message: err.message, closed });
        client.end(true);
        return;
      }
      if (
        typeof err.code === 'string' &&
        (err.code.startsWith('ERR_SSL') ||
          err.code.startsWith('ERR_TLS') ||
          err.code === 'CERT_HAS_EXPIRED' ||
          err.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
          err.code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
          err.code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' ||
          err.code === 'ERR_TLS_CERT_ALTNAME_INVALID')
      ) {
        finish({ kind: 'tls-error', error: err });
        client.end(true);
      }
    });
    client.on('close', () => {
      finish(lastError ? { kind: 'closed', error: lastError } : { kind: 'closed' });
      client.end(true);
    });
  });
}

/** Ends a connected mqtt.js client and waits for it; stray errors after end are ignored. */
export async function endClient(client: MqttClient): Promise<void> {
  client.removeAllListeners('error');
  client.on('error', () => {});
  await client.endAsync(true).catch(() => undefined);
}

/** Resolves true when the client's connection closes within `ms`. */
export function closesWithin(client: MqttClient, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (!client.connected) {
      resolve(true);
      return;
    }
    const timer = setTimeout(() => {
      client.off('close', onClose);
      resolve(false);
    }, ms);
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    client.once('close', onClose);
  });
}

export interface HttpsResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: Record<string, unknown> | undefined;
  alpnProtocol: string | false | null;
}

export interface HttpsOptions extends Credentials {
  port?: Port;
  alpn?: string[];
  method?: string;
  path?: string;
  topic?: string;
  qos?: 0 | 1;
  body?: string;
  servername?: string | null;
  headers?: Record<string, string>;
}

/** One HTTPS request with node:https (no agent, a fresh TLS connection each time). */
export function httpsCall(lab: Lab, opts: HttpsOptions = {}): Promise<HttpsResult> {
  const path = opts.path ?? `/topics/${encodeURIComponent(opts.topic ?? 'iot-doctor/test/probe')}?qos=${opts.qos ?? 1}`;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: lab.bind,
        port: lab.ports[opts.port ?? 'https8443'],
        method: opts.method ?? 'POST',
        path,
        ca: lab.caPem,
        ...(opts.certPem === ''
          ? {}
          : { cert: opts.certPem ?? lab.device.certPem, key: opts.keyPem ?? lab.device.keyPem }),
        ...(opts.servername === null ? {} : { servername: opts.servername ?? lab.endpoint }),
        ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
        headers: { 'content-type': 'application/json', ...(opts.headers ?? {}) },
        agent: false,
        timeout: 5_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(body) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json,
            alpnProtocol: (res.socket as TLSSocket | null)?.alpnProtocol ?? null,
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(opts.body ?? '{"probe":true}');
  });
}

export interface TlsResult {
  ok: boolean;
  error?: Error & { code?: string };
  alpnProtocol?: string | false;
  /** Subject CN of the certificate the server presented. */
  peerIssuerCN?: string;
  socket?: TLSSocket;
}

/** A bare TLS handshake (for SNI, ALPN and server-certificate checks). The socket is left open on success. */
export function tlsHandshake(
  lab: Lab,
  opts: Credentials & {
    port?: Port;
    alpn?: string[];
    servername?: string | null;
    ca?: string;
    rejectUnauthorized?: boolean;
    timeoutMs?: number;
  } = {},
): Promise<TlsResult> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: lab.bind,
      port: lab.ports[opts.port ?? 'mqtt8883'],
      ca: opts.ca ?? lab.caPem,
      ...(opts.certPem === ''
        ? {}
        : { cert: opts.certPem ?? lab.device.certPem, key: opts.keyPem ?? lab.device.keyPem }),
      ...(opts.servername === null ? {} : { servername: opts.servername ?? lab.endpoint }),
      ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
      rejectUnauthorized: opts.rejectUnauthorized ?? true,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, error: Object.assign(new Error('handshake timeout'), { code: 'TIMEOUT' }) });
    }, opts.timeoutMs ?? 4_000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const peer = socket.getPeerCertificate();
      resolve({
        ok: true,
        alpnProtocol: socket.alpnProtocol ?? false,
        peerIssuerCN: String(peer?.issuer?.CN ?? ''),
        socket,
      });
    });
    socket.once('error', (error: Error & { code?: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: false, error });
    });
  });
}

/** Resolves true if the socket closes within `ms` without the server sending any byte. */
export function silentUntilClosedOrTimeout(socket: TLSSocket, ms: number): Promise<{ closed: boolean; bytes: number }> {
  return new Promise((resolve) => {
    let bytes = 0;
    socket.on('data', (d: Buffer) => {
      bytes += d.length;
    });
    socket.on('error', () => {});
    const timer = setTimeout(() => {
      socket.off('close', onClose);
      resolve({ closed: false, bytes });
    }, ms);
    const onClose = (): void => {
      clearTimeout(timer);
      resolve({ closed: true, bytes });
    };
    socket.once('close', onClose);
  });
}

export function iotClient(lab: Lab, opts: { maxAttempts?: number } = {}): IoTClient {
  return new IoTClient({
    endpoint: lab.apiEndpoint,
    region: lab.region,
    credentials: { accessKeyId: 'AKIDLAB', secretAccessKey: 'lab' },
    maxAttempts: opts.maxAttempts ?? 3,
  });
}

/** The MQTT CONNECT bytes for MQTT 3.1.1, clean session, keep-alive 30 s. */
export function connectPacket311(clientId: string): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x1e]);
  const payload = Buffer.concat([Buffer.from([id.length >> 8, id.length & 0xff]), id]);
  const remaining = variable.length + payload.length;
  return Buffer.concat([Buffer.from([0x10, remaining]), variable, payload]);
}
