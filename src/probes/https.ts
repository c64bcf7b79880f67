/** HTTPS publish (`POST /topics/<topic>?qos=1`) over the route's own TLS socket: no second handshake. */
import { request } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorMessage } from '../errors.js';
import { describeBytes } from './bytes.js';

/** The publish to make: Host header, topic, JSON payload, deadline in milliseconds. */
export interface HttpsPublishOptions {
  host: string;
  topic: string;
  payload: string;
  timeoutMs: number;
}

/** The HTTP answer (status, headers, body capped at 2000 characters) or why none came. */
export type HttpsPublishOutcome =
  | {
      ok: true;
      status: number;
      headers: Record<string, string>;
      body: string;
      /** `message` and `traceId` from AWS's JSON body, when present. */
      message?: string;
      traceId?: string;
      errorType?: string;
      serverDate?: string;
      /** Local clock when the response headers arrived, for skew measurement. */
      receivedAt: string;
      durationMs: number;
    }
  | {
      ok: false;
      /**
       * `invalid`: the answer is not HTTP (a middlebox or another service); `too-large`: its status line and headers
       * exceed MAX_HEADER_BYTES or its body MAX_BODY_BYTES.
       */
      kind: 'timeout' | 'closed' | 'error' | 'invalid' | 'too-large';
      message: string;
      durationMs: number;
    };

/** The AWS IoT HTTPS publish path for a topic, QoS 1: `/topics/<url-encoded topic>?qos=1` (facts §2). */
export function publishPath(topic: string): string {
  return `/topics/${encodeURIComponent(topic)}?qos=1`;
}

/** Cap on the answer's body: AWS IoT's answers are small JSON documents (facts §4); an endless body is cut here. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Cap on the status line plus headers (Node's parser limit, set explicitly): AWS sends well under 2 KB. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** How Node's HTTP parser error (`HPE_*`, with the bytes it choked on) reads as an outcome. */
function parseFailure(err: NodeJS.ErrnoException & { rawPacket?: unknown }, durationMs: number): HttpsPublishOutcome {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    const message = `the server's HTTP status line and headers exceed ${MAX_HEADER_BYTES} bytes`;
    return { ok: false, kind: 'too-large', message, durationMs };
  }
  const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket : undefined;
  const seen = raw && raw.length > 0 ? ` (${describeBytes(raw)})` : '';
  return { ok: false, kind: 'invalid', message: `the server answered with bytes that are not HTTP${seen}`, durationMs };
}

/** One HTTP/1.1 request over an open socket: method, path, `Host`, extra headers, body, deadline in milliseconds. */
export interface HttpRequestOptions {
  method: 'GET' | 'POST';
  host: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: string;
  timeoutMs: number;
}

/**
 * POST `payload` to `publishPath(topic)` over `socket` (the route's TLS socket or another open duplex) and read the
 * answer, within `opts.timeoutMs` milliseconds; the body is read up to 64 KiB (more is `too-large`). Never rejects: a timeout, a close
 * without a response or a socket error is `ok: false` with its kind.
 */
export function httpsPublish(socket: Duplex, opts: HttpsPublishOptions): Promise<HttpsPublishOutcome> {
  return httpOverSocket(socket, {
    method: 'POST',
    host: opts.host,
    path: publishPath(opts.topic),
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(opts.payload) },
    body: opts.payload,
    timeoutMs: opts.timeoutMs,
  });
}

/**
 * One HTTP request over `socket` (no second connection, no agent) and its answer: status, headers, body (read up to
 * MAX_BODY_BYTES, more is `too-large`; kept up to 2000 characters in `body`; the caller decides what of it may be shown), AWS's `message`,
 * `traceId`, `x-amzn-ErrorType` and `date`. Never rejects: timeout, close or error is `ok: false` with its kind.
 */
export function httpOverSocket(socket: Duplex, opts: HttpRequestOptions): Promise<HttpsPublishOutcome> {
  const started = performance.now();
  const ms = (): number => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (o: HttpsPublishOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const req = request({
      method: opts.method,
      host: opts.host,
      path: opts.path,
      headers: { host: opts.host, 'user-agent': 'iot-doctor', ...opts.headers },
      // No agent: with createConnection and no agent, Node uses this socket instead of dialling itself.
      createConnection: () => socket as never,
      maxHeaderSize: MAX_HEADER_BYTES,
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ ok: false, kind: 'timeout', message: `no HTTP response within ${opts.timeoutMs} ms`, durationMs: ms() });
    }, opts.timeoutMs);
    req.on('response', (res) => {
      const receivedAt = new Date().toISOString();
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY_BYTES) {
          chunks.push(c);
          return;
        }
        req.destroy();
        const message = `the server's HTTP ${res.statusCode ?? ''} body exceeds ${MAX_BODY_BYTES} bytes`;
        finish({ ok: false, kind: 'too-large', message, durationMs: ms() });
      });
      const done = (): void => {
        const body = Buffer.concat(chunks).toString('utf8');
        let parsed: { message?: unknown; traceId?: unknown } = {};
        try {
          parsed = JSON.parse(body) as typeof parsed;
        } catch {
          // not JSON: keep the raw body
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
        const errorType = headers['x-amzn-errortype']?.replace(/:.*$/, '');
        finish({
          ok: true,
          status: res.statusCode ?? 0,
          headers,
          body: body.slice(0, 2000),
          ...(typeof parsed.message === 'string' ? { message: parsed.message } : {}),
          ...(typeof parsed.traceId === 'string' ? { traceId: parsed.traceId } : {}),
          ...(errorType ? { errorType } : {}),
          ...(headers.date ? { serverDate: headers.date } : {}),
          receivedAt,
          durationMs: ms(),
        });
      };
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    req.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code?.startsWith('HPE_')) return finish(parseFailure(err as NodeJS.ErrnoException, ms()));
      finish({
        ok: false,
        kind: code === 'ECONNRESET' || code === 'EPIPE' ? 'closed' : 'error',
        message:
          code === 'ECONNRESET' ? 'the server closed the connection without an HTTP response' : errorMessage(err),
        durationMs: ms(),
      });
    });
    req.end(opts.body);
  });
}
