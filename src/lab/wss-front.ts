/**
 * MQTT over WebSocket on 443 without ALPN (facts §1 row 4; field notes §4): `GET /mqtt?<SigV4 query>` upgraded with
 * `ws`. The presigned query is verified with the lab's credentials (any access key id, secret `lab`), its clock (the
 * scenario's skew included) and its region (sigv4-verify.ts); every refusal is the same `403 Forbidden` with
 * `x-amzn-ErrorType: ForbiddenException:` and a `date` header (field notes §4.2; the body text is unconfirmed). Whether
 * the identity may `iot:Connect` is the scenario's IAM switch; where AWS refuses a denied identity is unconfirmed, so
 * both are variants: at the upgrade (the same 403) or at the CONNECT (closed without CONNACK). After 101 the MQTT bytes
 * go to the MQTT front with the IAM identity's permissions.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Authorizer, ConnectionIdentity } from './authz.js';
import { handleMqttConnection, type MqttFrontDeps } from './mqtt-front.js';
import { verifyPresignedQuery } from './sigv4-verify.js';

/** The lab's IAM answer for the signing identity (a scenario switch). */
export type WssIamDecision = 'allow' | 'deny-at-upgrade' | 'deny-at-connect';

/** The secret key the lab accepts for any access key id. */
export const LAB_SECRET_ACCESS_KEY = 'lab';

/** What the WebSocket front needs. */
export interface WssFrontDeps {
  endpoint: string;
  region: string;
  /** Added to the lab clock (the scenario's skew). */
  dateSkewMs: number;
  iam: WssIamDecision;
  authorizer: Authorizer;
  mqttDeps: MqttFrontDeps;
  log: (message: string) => void;
}

/** The policy of an IAM identity the switch allows: every IoT action (the lab plays a permissive IAM policy). */
function iamPolicy(authorizer: Authorizer): object {
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iot:*', Resource: authorizer.arn('client', '*').replace(/client\/\*$/, '*') },
    ],
  };
}

function forbidden(socket: Duplex, date: Date): void {
  const body = JSON.stringify({ message: 'Forbidden', traceId: randomUUID() });
  socket.end(
    'HTTP/1.1 403 Forbidden\r\n' +
      'content-type: application/json\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      `date: ${date.toUTCString()}\r\n` +
      `x-amzn-RequestId: ${randomUUID()}\r\n` +
      'x-amzn-ErrorType: ForbiddenException:\r\n' +
      'connection: close\r\n\r\n' +
      body,
  );
}

type WsModule = typeof import('ws');
let wsModule: Promise<WsModule> | undefined;

/** Handles an HTTP upgrade on 443 without ALPN (see the file comment). Never throws. */
export function handleWssUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, deps: WssFrontDeps): void {
  socket.on('error', () => {});
  const now = new Date(Date.now() + deps.dateSkewMs);
  const url = new URL(req.url ?? '/', 'https://lab.invalid');
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  const verdict =
    url.pathname === '/mqtt'
      ? verifyPresignedQuery(url.searchParams, '/mqtt', {
          now,
          region: deps.region,
          host,
          secretFor: () => LAB_SECRET_ACCESS_KEY,
        })
      : ({ ok: false, reason: 'malformed', message: `path ${url.pathname} is not /mqtt` } as const);
  if (!verdict.ok || deps.iam === 'deny-at-upgrade') {
    deps.log(`443 (WSS): upgrade refused: ${verdict.ok ? 'IAM denies iot:Connect' : verdict.message}: 403`);
    forbidden(socket, now);
    return;
  }
  wsModule ??= import('ws');
  void wsModule.then(({ WebSocketServer, createWebSocketStream }) => {
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 256 * 1024 });
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => {});
      deps.log(`443 (WSS): upgraded for ${verdict.accessKeyId}`);
      const authenticate = (_s: TLSSocket, connect: { clientId: string }) => {
        if (deps.iam === 'deny-at-connect') return { why: `IAM denies iot:Connect for ${verdict.accessKeyId}` };
        const identity: ConnectionIdentity = {
          certificateId: `iam:${verdict.accessKeyId}`,
          clientId: connect.clientId,
          customPolicies: [{ policyName: 'lab-iam-identity', document: iamPolicy(deps.authorizer) }],
        };
        return { identity };
      };
      handleMqttConnection(stream as unknown as TLSSocket, Buffer.alloc(0), '443 (WSS)', {
        ...deps.mqttDeps,
        authenticate,
      });
    });
  });
}
