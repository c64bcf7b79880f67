/**
 * MQTT over WebSocket signed with SigV4, as AWS IoT wants it (field notes §4.1; facts §1 row 4): the URL
 * `wss://<endpoint>/mqtt?<SigV4 query>` presigned with the SDK's own signer (`@smithy/signature-v4`, loaded when
 * first used) for service `iotdevicegateway`, only `host` signed, the payload hash of the empty string, and a session
 * token appended after signing; then `GET /mqtt` upgraded with `ws` (`Sec-WebSocket-Protocol: mqtt`) over the route's
 * own TLS socket, bounded by a deadline. A refused upgrade keeps its status, `x-amzn-ErrorType`, `date` and the start
 * of its body. Secrets (the secret key, the session token, the signature) never leave this module in a result.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

/** The SigV4 service name of the WebSocket gateway (facts §1; field notes §4.1). */
export const WSS_SIGNING_SERVICE = 'iotdevicegateway';
/** X-Amz-Expires of the presigned URL: 86400 s, as in the captures (field notes §4.1). */
const EXPIRES_SECONDS = 86400;
/** Bytes of a refused upgrade's body kept. */
const MAX_BODY_BYTES = 4096;

/** AWS credentials to sign with (from the SDK's credential chain). */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

/** Bytes of the signer's data (a string as UTF-8). */
const bytes = (d: SourceData): string | Buffer =>
  typeof d === 'string'
    ? d
    : d instanceof ArrayBuffer
      ? Buffer.from(new Uint8Array(d))
      : Buffer.from(d.buffer, d.byteOffset, d.byteLength);

/** A SHA-256 (or HMAC-SHA256 with a secret) over node:crypto, in the shape the SDK signer expects. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** The presigned path and what it was signed with (no secret). */
export interface PresignedMqttPath {
  /** `/mqtt?X-Amz-...` with the session token appended after signing when there is one. */
  path: string;
  amzDate: string;
  region: string;
  service: string;
  accessKeyId: string;
  sessionToken: boolean;
}

/**
 * Presigns `GET /mqtt` for `host` in `region` at `date` (field notes §4.1): SignedHeaders `host`, X-Amz-Expires 86400,
 * and, with temporary credentials, `X-Amz-Security-Token` appended after the signature (the IoT rule). Rejects only
 * when the signer cannot load.
 */
export async function presignMqttPath(
  host: string,
  region: string,
  creds: SigningCredentials,
  date: Date,
): Promise<PresignedMqttPath> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const signer = new SignatureV4({
    service: WSS_SIGNING_SERVICE,
    region,
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    sha256: NodeSha256,
  });
  const request = { method: 'GET', protocol: 'wss:', hostname: host, path: '/mqtt', headers: { host }, query: {} };
  const signed = await signer.presign(request, { signingDate: date, expiresIn: EXPIRES_SECONDS });
  const query = Object.entries(signed.query ?? {}).map(
    ([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(Array.isArray(v) ? v.join(',') : String(v))}`,
  );
  if (creds.sessionToken) query.push(`X-Amz-Security-Token=${encodeURIComponent(creds.sessionToken)}`);
  const amzDate = String(signed.query?.['X-Amz-Date'] ?? '');
  return {
    path: `/mqtt?${query.join('&')}`,
    amzDate,
    region,
    service: WSS_SIGNING_SERVICE,
    accessKeyId: creds.accessKeyId,
    sessionToken: !!creds.sessionToken,
  };
}

/** The MQTT byte stream over a WebSocket, and the WebSocket protocol error that ended it, if one did. */
type WebSocketStream = Duplex & { webSocketError?: string };

/**
 * The WebSocket protocol error (RFC 6455 §5: an invalid frame, a frame longer than the 512 KB cap) that ended the
 * stream `upgradeToMqtt` returned, or undefined (still open, or closed without one). `stream` may be any value.
 */
export function webSocketError(stream: unknown): string | undefined {
  return (stream as WebSocketStream | undefined)?.webSocketError;
}

/**
 * Ends the MQTT byte stream `upgradeToMqtt` returned with the WebSocket closing handshake (RFC 6455 §7: a close frame
 * after the data already written, e.g. the MQTT DISCONNECT), waiting at most `ms` milliseconds for the server's
 * close. Without it the TLS close can overtake the last frames, and the server logs CONNECTION_LOST. Never rejects.
 */
export function endMqttStream(stream: Duplex | undefined, ms: number): Promise<void> {
  if (!stream || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      resolve();
    }
    stream.once('close', done);
    stream.once('error', done);
    stream.end();
  });
}

/** The outcome of the upgrade. */
export type UpgradeOutcome =
  | { ok: true; stream: Duplex; protocol: string; durationMs: number; date?: string }
  | {
      ok: false;
      kind: 'refused';
      status: number;
      errorType?: string;
      date?: string;
      body: string;
      durationMs: number;
    }
  | { ok: false; kind: 'timeout' | 'error'; message: string; durationMs: number };

/**
 * `GET <path>` upgraded to WebSocket with subprotocol `mqtt` over `socket` (already TLS), within `timeoutMs`. On 101
 * the MQTT byte stream (binary frames; frames above 512 KB end it, `webSocketError`) is returned; otherwise the refusal's status, `x-amzn-ErrorType`, `date` and up
 * to 4 KB of its body, a timeout, or an error. Never rejects.
 */
export async function upgradeToMqtt(
  socket: TLSSocket,
  host: string,
  path: string,
  timeoutMs: number,
): Promise<UpgradeOutcome> {
  const { WebSocket, createWebSocketStream } = await import('ws');
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: UpgradeOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(o);
    };
    const ws = new WebSocket(`wss://${host}${path}`, 'mqtt', {
      createConnection: () => socket,
      perMessageDeflate: false,
      maxPayload: 512 * 1024,
      handshakeTimeout: timeoutMs,
    });
    const timer = setTimeout(() => {
      finish({
        ok: false,
        kind: 'timeout',
        message: `no upgrade answer within ${timeoutMs} ms`,
        durationMs: elapsed(),
      });
      ws.terminate();
    }, timeoutMs);
    let date: string | undefined;
    ws.on('upgrade', (res) => (date = typeof res.headers.date === 'string' ? res.headers.date : undefined));
    ws.on('open', () => {
      const stream: WebSocketStream = createWebSocketStream(ws);
      // ws closes the connection on a protocol error (status 1002/1009): kept, so the MQTT session's "closed" is
      // told from a server that broke the WebSocket framing.
      ws.on('error', (err) => (stream.webSocketError ??= err.message));
      // A WebSocket close (the server's close frame, or the socket gone) is the end of the MQTT connection.
      ws.once('close', () => stream.destroy());
      finish({ ok: true, stream, protocol: ws.protocol, durationMs: elapsed(), ...(date ? { date } : {}) });
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        if (body.length < MAX_BODY_BYTES) body += d.toString('utf8').slice(0, MAX_BODY_BYTES - body.length);
      });
      const end = (): void => {
        const h = res.headers;
        const errorType = typeof h['x-amzn-errortype'] === 'string' ? h['x-amzn-errortype'] : undefined;
        finish({
          ok: false,
          kind: 'refused',
          status: res.statusCode ?? 0,
          ...(errorType ? { errorType } : {}),
          ...(typeof h.date === 'string' ? { date: h.date } : {}),
          body,
          durationMs: elapsed(),
        });
        socket.destroy();
      };
      res.on('end', end);
      res.on('error', end);
      setTimeout(end, Math.min(1000, timeoutMs)).unref();
    });
    ws.on('error', (err) => finish({ ok: false, kind: 'error', message: err.message, durationMs: elapsed() }));
  });
}
