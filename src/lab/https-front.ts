/**
 * The HTTPS side of the TLS front.
 *
 * - Publish (8443, and 443 with ALPN x-amzn-http-ca): `POST /topics/<url-encoded topic>?qos=0|1[&retain=true]`
 *   authenticated by the client certificate. 200 `{"message":"OK","traceId":...}` when the certificate is registered,
 *   ACTIVE and a policy allows iot:Publish on topic/<topic>; otherwise 403 ForbiddenException
 *   `{"message":"Forbidden","traceId":...}`. Other paths 404, other methods 405.
 * - 443 without ALPN: the client certificate does not authenticate there (SigV4 / custom authorizer path), so every
 *   request gets 403 `{"message":"Missing Authentication Token",...}`.
 *
 * Every response carries `date` (the lab clock, skewed in the clock-skew scenario) and `x-amzn-RequestId`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Authorizer } from './authz.js';
import type { LabBroker } from './broker.js';

export interface HttpsFrontDeps {
  authorizer: Authorizer;
  broker: LabBroker;
  /** Added to the lab clock for the `date` header. */
  dateSkewMs: number;
  log: (message: string) => void;
}

/** Publish payload limit of AWS IoT (128 KB). */
const MAX_PAYLOAD = 128 * 1024;

function send(
  res: ServerResponse,
  deps: HttpsFrontDeps,
  status: number,
  body: Record<string, unknown>,
  extraHeaders: Record<string, string> = {},
): void {
  const traceId = randomUUID();
  const text = JSON.stringify({ ...body, traceId });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    date: new Date(Date.now() + deps.dateSkewMs).toUTCString(),
    'x-amzn-RequestId': traceId,
    connection: 'keep-alive',
    ...extraHeaders,
  });
  res.end(text);
}

function forbidden(res: ServerResponse, deps: HttpsFrontDeps, message: string): void {
  send(res, deps, 403, { message }, { 'x-amzn-ErrorType': 'ForbiddenException:' });
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The HTTPS publish API behind mTLS (8443, and 443 with ALPN x-amzn-http-ca): `POST /topics/<topic>?qos=` checked
 * against iot:Publish like MQTT, answered with AWS's status shapes and `date` header (facts §4).
 */
export function createPublishServer(deps: HttpsFrontDeps): Server {
  const server = createServer({ keepAlive: true }, (req, res) => {
    handlePublish(req, res, deps).catch(() => {
      if (!res.headersSent) {
        send(res, deps, 500, { message: 'Internal failure' }, { 'x-amzn-ErrorType': 'InternalFailureException:' });
      } else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}

async function handlePublish(req: IncomingMessage, res: ServerResponse, deps: HttpsFrontDeps): Promise<void> {
  const reply = (status: number, message: string, errorType: string): void => {
    req.resume();
    send(res, deps, status, { message }, { 'x-amzn-ErrorType': `${errorType}:` });
  };
  // The gateway authenticates the certificate before it looks at the request.
  const socket = req.socket as TLSSocket;
  const der = socket.getPeerCertificate?.(true)?.raw;
  const auth = der ? deps.authorizer.authenticate(der) : undefined;
  if (!auth?.ok) {
    deps.log(`https: ${req.method} ${req.url} refused (${auth?.reason ?? 'no client certificate'}): 403`);
    reply(403, 'Forbidden', 'ForbiddenException');
    return;
  }
  const url = new URL(req.url ?? '/', 'https://lab.invalid');
  const match = /^\/topics\/(.+)$/.exec(url.pathname);
  if (!match) return reply(404, 'Not Found', 'ResourceNotFoundException');
  if (req.method !== 'POST') return reply(405, 'Method Not Allowed', 'MethodNotAllowedException');
  let topic: string;
  try {
    topic = decodeURIComponent(match[1] ?? '');
  } catch {
    return reply(400, 'Invalid topic name', 'InvalidRequestException');
  }
  const qosParam = url.searchParams.get('qos') ?? '0';
  const retainParam = url.searchParams.get('retain') ?? 'false';
  if ((qosParam !== '0' && qosParam !== '1') || (retainParam !== 'true' && retainParam !== 'false')) {
    return reply(400, 'Invalid request', 'InvalidRequestException');
  }
  if (topic.includes('#') || topic.includes('+')) return reply(400, 'Invalid topic name', 'InvalidRequestException');
  const retain = retainParam === 'true';

  const body = await readBody(req, MAX_PAYLOAD);
  // Over 128 KB (facts §3.1): the status is not documented; 400 InvalidRequestException is the error of the
  // service model's Publish list for a request it cannot take (facts §4), not the invented 413.
  if (body === 'too-large') return reply(400, 'Payload size exceeds the 128 KB limit', 'InvalidRequestException');

  const identity = {
    certificateId: auth.cert.certificateId,
    ...(socket.remoteAddress ? { sourceIp: socket.remoteAddress } : {}),
  };
  const allowed =
    deps.authorizer.allowed(identity, 'iot:Publish', 'topic', topic) &&
    (!retain || deps.authorizer.allowed(identity, 'iot:RetainPublish', 'topic', topic));
  if (!allowed) {
    deps.log(`https: POST ${topic} denied by policy: 403`);
    return reply(403, 'Forbidden', 'ForbiddenException');
  }
  await deps.broker.publish(topic, body, qosParam === '1' ? 1 : 0, retain);
  deps.log(`https: POST ${topic} published (${body.length} bytes)`);
  send(res, deps, 200, { message: 'OK' });
}

/** 443 without a selected ALPN protocol: the certificate does not authenticate, nothing is authorized. */
export function createUnauthenticatedServer(deps: HttpsFrontDeps): Server {
  const server = createServer({ keepAlive: true }, (req, res) => {
    req.resume();
    const auth = req.headers['authorization'];
    const signed = typeof auth === 'string' && auth.startsWith('AWS4-HMAC-SHA256');
    const why = signed ? 'SigV4 not supported by the lab' : 'Missing Authentication Token';
    deps.log(`https-443 (no ALPN): ${req.method} ${req.url}: 403 ${why}`);
    forbidden(res, deps, signed ? 'SigV4 authentication is not available in the iot-doctor lab' : why);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}
