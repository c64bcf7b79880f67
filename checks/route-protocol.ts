/**
 * The protocol and round-trip stages, run over the socket the TLS stage opened (one TCP and one TLS handshake per
 * route). MQTT routes: CONNECT/CONNACK, then subscribe, publish QoS 1 and receive the message back. HTTPS routes:
 * POST /topics/<topic>?qos=1, then the message must arrive at an MQTT route's subscription.
 */
import { randomBytes } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { RouteSpec } from '../src/model/index.js';
import { httpsPublish, publishPath } from '../src/probes/https.js';
import { MqttSession, type MqttStep } from '../src/probes/mqtt.js';
import { shq } from '../src/probes/shell.js';
import type { ConnectionFate } from '../src/probes/tls.js';
import type { Target } from '../src/target.js';
import { sClientArgs, type StageOutcome } from './route.js';
import type { CheckContext } from './types.js';

/** Client id a route uses. Our own random id gets a per-route suffix so concurrent MQTT routes do not kick each other. */
export function routeClientId(target: Target, spec: RouteSpec): string {
  const mqttRoutes = target.routes.filter((r) => r.startsWith('mqtt'));
  if (target.clientIdFromUser || mqttRoutes.length < 2) return target.clientId;
  return `${target.clientId}-${spec.port}`;
}

/**
 * Topic an MQTT route subscribes and publishes to: the user's --topic, else one under its own client id, which
 * is what policies written with ${iot:ClientId} allow.
 */
export function routeTopic(target: Target, spec: RouteSpec): string {
  return topicForClientId(target, routeClientId(target, spec));
}

export function topicForClientId(target: Target, clientId: string): string {
  return target.topicFromUser ? target.topic : `iot-doctor/${clientId}/probe`;
}

function tlsFlags(target: Target): string[] {
  const flags = [`--cafile ${shq(target.caPath ?? 'AmazonRootCA1.pem')}`];
  if (target.certPath) flags.push(`--cert ${shq(target.certPath)}`);
  if (target.keyPath) flags.push(`--key ${shq(target.keyPath)}`);
  return flags;
}

function hostsNote(target: Target, peer: { address: string; port: number }, spec: RouteSpec): string {
  return peer.address === target.endpoint || (peer.port === spec.port && !target.connectTo.length)
    ? ''
    : `# mosquitto connects to the name it verifies: first map ${target.endpoint} to ${peer.address} (e.g. in /etc/hosts)\n`;
}

export function mosquittoCommand(
  tool: 'mosquitto_pub' | 'mosquitto_sub',
  target: Target,
  spec: RouteSpec,
  peer: { address: string; port: number },
  clientId: string,
  topic: string,
): string {
  const parts = [tool, '-h', target.endpoint, '-p', String(peer.port), ...tlsFlags(target)];
  if (spec.alpn) parts.push('--tls-alpn', spec.alpn);
  if (target.mqttVersion === 5) parts.push('-V', 'mqttv5');
  parts.push('-i', shq(clientId), '-t', shq(topic), '-q', '1', '-d');
  if (tool === 'mosquitto_pub') parts.push('-m', shq('{"probe":"by hand"}'));
  else parts.push('-C', '1', '-W', String(Math.max(5, Math.ceil(target.timeoutMs / 1000) * 2)));
  return hostsNote(target, peer, spec) + parts.join(' ');
}

export function httpsPublishCommand(target: Target, spec: RouteSpec, peer: { address: string; port: number }, topic: string): string {
  const url = `https://${target.endpoint}:${spec.port}${publishPath(topic)}`;
  if (!spec.alpn) {
    const parts = ['curl', '--cacert', shq(target.caPath ?? 'AmazonRootCA1.pem')];
    if (target.certPath) parts.push('--cert', shq(target.certPath));
    if (target.keyPath) parts.push('--key', shq(target.keyPath));
    if (peer.address !== target.endpoint || peer.port !== spec.port) {
      parts.push('--connect-to', `${target.endpoint}:${spec.port}:${peer.address.includes(':') ? `[${peer.address}]` : peer.address}:${peer.port}`);
    }
    parts.push('-X', 'POST', '-H', "'content-type: application/json'", '-d', shq('{"probe":"by hand"}'), '-D', '-', shq(url));
    return parts.join(' ');
  }
  // curl cannot offer a custom ALPN protocol: speak HTTP through openssl s_client instead.
  const body = '{"probe":"by hand"}';
  const req = `POST ${publishPath(topic)} HTTP/1.1\\r\\nHost: ${target.endpoint}\\r\\nContent-Type: application/json\\r\\nContent-Length: ${body.length}\\r\\nConnection: close\\r\\n\\r\\n${body}`;
  return `printf ${shq(req)} | ${[...sClientArgs(target, spec, peer.address, peer.port), '-quiet'].join(' ')}`;
}

const closedAfterConnectHint = (clientId: string): string =>
  `AWS IoT closes the connection after CONNECT, without a reason, when the certificate is not registered in this account and region, is not ACTIVE, has no policy attached, or its policy does not allow iot:Connect on client/${clientId}. The cloud checks tell these apart (cloud.certificate, cloud.policy-attached, cloud.authorization); without AWS credentials, check them in the console or with aws iot describe-certificate / list-attached-policies / test-authorization.`;

function mqttFailure(
  stage: 'protocol' | 'round-trip',
  step: Exclude<MqttStep<unknown>, { ok: true }>,
  what: 'connect' | 'subscribe' | 'publish' | 'receive',
  ctx: { spec: RouteSpec; clientId: string; topic: string; reproduce: string; evidence: Record<string, unknown> },
): StageOutcome {
  const base = { stage, status: 'fail' as const, durationMs: step.durationMs, reproduce: ctx.reproduce };
  const evidence = { ...ctx.evidence, step: what };
  if (step.kind === 'refused') {
    const code = what === 'connect' ? 'MQTT_CONNACK_REFUSED' : what === 'subscribe' ? 'MQTT_SUBACK_REFUSED' : 'MQTT_PUBACK_REFUSED';
    const packet = what === 'connect' ? 'CONNACK' : what === 'subscribe' ? 'SUBACK' : 'PUBACK';
    return {
      ...base, code, evidence: { ...evidence, reasonCode: step.code, reason: step.reason },
      summary: `${packet} refused: ${step.reason}`,
      hint: step.code === 0x87 || step.code === 5
        ? what === 'connect'
          ? `Not authorized: no policy on this certificate allows iot:Connect on client/${ctx.clientId} (or the certificate is not ACTIVE). See cloud.authorization.`
          : `Not authorized: the policy does not allow iot:${what === 'subscribe' ? 'Subscribe on topicfilter' : 'Publish on topic'}/${ctx.topic}. Add it, or probe with --topic set to a topic the policy allows.`
        : `The broker refused the ${what}: ${step.reason}.`,
    };
  }
  if (step.kind === 'closed') {
    const code =
      what === 'connect' ? 'MQTT_CLOSED_AFTER_CONNECT'
        : what === 'subscribe' ? 'MQTT_CLOSED_AFTER_SUBSCRIBE'
          : what === 'publish' ? 'MQTT_CLOSED_AFTER_PUBLISH' : 'MQTT_CLOSED_BEFORE_DELIVERY';
    const extra = step.alert ? ` (TLS alert ${step.alert})` : step.disconnectReason ? ` (DISCONNECT ${step.disconnectReason})` : '';
    return {
      ...base, code,
      evidence: { ...evidence, ...(step.alert ? { alert: step.alert } : {}), ...(step.disconnectReason ? { disconnectReason: step.disconnectReason } : {}) },
      summary: what === 'connect'
        ? `the server closed the connection ${step.durationMs} ms after CONNECT, with no CONNACK${extra}`
        : `the server closed the connection after ${what.toUpperCase()}${extra}`,
      hint: what === 'connect'
        ? closedAfterConnectHint(ctx.clientId)
        : what === 'subscribe'
          ? `With MQTT 3.1.1 AWS IoT closes the connection when the policy does not allow iot:Subscribe on topicfilter/${ctx.topic}.`
          : `With MQTT 3.1.1 AWS IoT closes the connection when the policy does not allow iot:Publish (or iot:Receive) on topic/${ctx.topic}.`,
    };
  }
  if (step.kind === 'timeout') {
    const code = what === 'connect' ? 'MQTT_NO_CONNACK' : what === 'subscribe' ? 'MQTT_NO_SUBACK' : what === 'publish' ? 'MQTT_NO_PUBACK' : 'MQTT_MESSAGE_NOT_RECEIVED';
    return {
      ...base, code, evidence,
      summary: what === 'receive' ? `the published message did not come back within ${step.durationMs} ms` : `no answer to ${what.toUpperCase()} within ${step.durationMs} ms`,
      hint: what === 'connect'
        ? ctx.spec.port === 443
          ? `On 443 a missing or ignored ALPN (${ctx.spec.alpn}) makes AWS IoT wait silently: check that nothing in the path strips ALPN.`
          : 'The connection is open but the broker does not answer: a proxy that holds the stream, or a server that is not AWS IoT.'
        : what === 'receive'
          ? `Check that the policy allows iot:Receive on topic/${ctx.topic}.`
          : undefined,
    };
  }
  return { ...base, code: 'MQTT_ERROR', evidence, summary: step.message };
}

async function mqttStages(spec: RouteSpec, socket: TLSSocket, fate: ConnectionFate, ctx: CheckContext, peer: { address: string; port: number }): Promise<StageOutcome[]> {
  const { target, hub } = ctx;
  const clientId = routeClientId(target, spec);
  const topic = routeTopic(target, spec);
  const lock = target.clientIdFromUser ? await hub.takeClientId() : undefined;
  if (fate.closed) {
    // The connection died while this route waited for the other MQTT route to release the client id.
    lock?.release();
    return [{
      stage: 'protocol', status: 'fail', code: 'MQTT_CLOSED_BEFORE_CONNECT', durationMs: 0,
      summary: `${fate.describe()} before CONNECT was sent (while waiting ${lock?.waitedMs ?? 0} ms for the client id)`,
      evidence: { clientId, waitedForClientIdMs: lock?.waitedMs ?? 0 },
      hint: 'The server does not keep an idle TLS connection open: a proxy or load balancer with a short idle timeout, or a server that closes unauthenticated connections.',
      reproduce: mosquittoCommand('mosquitto_pub', target, spec, peer, clientId, topic),
    }];
  }
  const session = new MqttSession(socket, {
    clientId, version: target.mqttVersion, keepaliveSeconds: target.keepaliveSeconds, timeoutMs: target.timeoutMs,
  });
  const version = target.mqttVersion === 5 ? '5' : '3.1.1';
  const evidence = { clientId, mqttVersion: version, topic, ...(lock?.waitedMs ? { waitedForClientIdMs: lock.waitedMs } : {}) };
  const pub = mosquittoCommand('mosquitto_pub', target, spec, peer, clientId, topic);
  const sub = mosquittoCommand('mosquitto_sub', target, spec, peer, clientId, topic);
  const fctx = { spec, clientId, topic, evidence };
  const out: StageOutcome[] = [];
  try {
    const connack = await session.connect();
    if (!connack.ok) {
      out.push(mqttFailure('protocol', connack, 'connect', { ...fctx, reproduce: pub }));
      return out;
    }
    out.push({
      stage: 'protocol', status: 'pass', code: 'MQTT_CONNACK_OK', durationMs: connack.durationMs,
      summary: `CONNACK accepted (MQTT ${version}, client id ${clientId})`,
      evidence: { ...evidence, sessionPresent: connack.sessionPresent, ...(connack.properties ? { connackProperties: connack.properties } : {}) },
    });
    const subscribed = await session.subscribe(topic);
    if (!subscribed.ok) {
      out.push(mqttFailure('round-trip', subscribed, 'subscribe', { ...fctx, reproduce: sub }));
      return out;
    }
    hub.subscriberReady(spec.id, topic, async (marker) => (await session.receive(marker)).ok);
    const marker = randomBytes(8).toString('hex');
    const payload = JSON.stringify({ iotDoctor: marker, route: spec.id, sentAt: new Date().toISOString() });
    const published = await session.publish(topic, payload);
    if (!published.ok) {
      out.push(mqttFailure('round-trip', published, 'publish', { ...fctx, reproduce: pub }));
      return out;
    }
    const received = await session.receive(marker);
    if (!received.ok) {
      out.push(mqttFailure('round-trip', received, 'receive', { ...fctx, reproduce: `${sub}\n${pub}` }));
      return out;
    }
    const total = subscribed.durationMs + published.durationMs + received.durationMs;
    out.push({
      stage: 'round-trip', status: 'pass', code: 'MQTT_ROUND_TRIP_OK', durationMs: total,
      summary: `subscribed, published QoS 1 and received it back on ${topic}`,
      evidence: { ...evidence, subscribeMs: subscribed.durationMs, grantedQos: subscribed.grantedQos, publishMs: published.durationMs, deliveryMs: received.durationMs },
    });
    // Keep the subscription for the HTTPS routes' round trip, then leave cleanly.
    await hub.whenHttpsDone(target.timeoutMs);
    return out;
  } finally {
    hub.mqttEnded(spec.id);
    session.end();
    lock?.release();
  }
}

async function httpsStages(spec: RouteSpec, socket: TLSSocket, fate: ConnectionFate, ctx: CheckContext, peer: { address: string; port: number }): Promise<StageOutcome[]> {
  const { target, hub } = ctx;
  const out: StageOutcome[] = [];
  const waitStarted = performance.now();
  const subscriber = await hub.whenSubscriber(target.timeoutMs, fate.whenClosed());
  const waitedForSubscriberMs = Math.round(performance.now() - waitStarted);
  // Publish where an MQTT route listens, so the round trip can be seen.
  const topic = subscriber?.topic ?? target.topic;
  const reproduce = httpsPublishCommand(target, spec, peer, topic);
  if (fate.closed) {
    out.push({
      stage: 'protocol', status: 'fail', code: 'HTTP_CLOSED_WITHOUT_RESPONSE', durationMs: 0, reproduce,
      summary: `${fate.describe()} ${waitedForSubscriberMs} ms after the handshake, before the request was sent`,
      evidence: { topic, waitedForSubscriberMs },
      hint: 'The server dropped the connection without an answer. Check the certificate status and policy (cloud checks), or a proxy with a short idle timeout.',
    });
    return out;
  }
  const marker = randomBytes(8).toString('hex');
  const payload = JSON.stringify({ iotDoctor: marker, route: spec.id, sentAt: new Date().toISOString() });
  const res = await httpsPublish(socket, { host: target.endpoint, topic, payload, timeoutMs: target.timeoutMs });
  const evidence = { topic, path: publishPath(topic), waitedForSubscriberMs };
  if (!res.ok) {
    out.push({
      stage: 'protocol', status: 'fail', durationMs: res.durationMs, reproduce, evidence,
      code: res.kind === 'timeout' ? 'HTTP_NO_RESPONSE' : res.kind === 'closed' ? 'HTTP_CLOSED_WITHOUT_RESPONSE' : 'HTTP_ERROR',
      summary: res.message,
      hint: res.kind === 'timeout'
        ? 'The request went out over TLS but no HTTP answer came back: a proxy holding the stream, or a server that is not AWS IoT.'
        : 'The server dropped the request without an answer. Check the certificate status and policy (cloud checks).',
    });
    return out;
  }
  const httpEvidence = {
    ...evidence, status: res.status, ...(res.errorType ? { errorType: res.errorType } : {}), ...(res.message ? { message: res.message } : {}),
    ...(res.traceId ? { traceId: res.traceId } : {}), ...(res.serverDate ? { serverDate: res.serverDate } : {}), receivedAt: res.receivedAt,
  };
  if (res.status !== 200) {
    const missingToken = res.status === 403 && /missing authentication token/i.test(res.message ?? res.body);
    const code = missingToken ? 'HTTP_MISSING_AUTH_TOKEN'
      : res.status === 403 ? 'HTTP_FORBIDDEN' : res.status === 401 ? 'HTTP_UNAUTHORIZED' : res.status === 404 ? 'HTTP_NOT_FOUND' : 'HTTP_UNEXPECTED_STATUS';
    out.push({
      stage: 'protocol', status: 'fail', code, durationMs: res.durationMs, reproduce, evidence: httpEvidence,
      summary: `HTTP ${res.status}${res.errorType ? ` ${res.errorType}` : ''}: ${res.message ?? (res.body.slice(0, 120) || 'no body')}`,
      hint: missingToken
        ? `The gateway did not use the client certificate: on 443 that happens when ALPN ${spec.alpn ?? 'x-amzn-http-ca'} is not negotiated. Use 8443, or make sure ALPN reaches AWS.`
        : res.status === 403
          ? `Forbidden: the certificate is not registered/ACTIVE here, or no policy allows iot:Publish on topic/${topic}. See the cloud checks.`
          : res.status === 404
            ? 'The path was not found: the host is probably not an AWS IoT data endpoint.'
            : 'See the status and body in the evidence.',
    });
    return out;
  }
  out.push({
    stage: 'protocol', status: 'pass', code: 'HTTP_PUBLISH_OK', durationMs: res.durationMs, evidence: httpEvidence,
    summary: `HTTP 200 ${res.message ?? ''}`.trim() + (res.traceId ? ` (traceId ${res.traceId})` : ''),
  });
  if (!subscriber) {
    out.push({
      stage: 'round-trip', status: 'skip', code: 'NO_MQTT_SUBSCRIBER', durationMs: 0, evidence,
      summary: 'no MQTT route was up to receive the published message',
    });
    return out;
  }
  const deliveryStarted = performance.now();
  const arrived = await hub.confirm(subscriber.route, marker);
  const deliveryMs = Math.round(performance.now() - deliveryStarted);
  out.push(
    arrived
      ? {
          stage: 'round-trip', status: 'pass', code: 'HTTP_ROUND_TRIP_OK', durationMs: deliveryMs,
          summary: `the message arrived at the ${subscriber.route} subscription`, evidence: { ...evidence, subscriber: subscriber.route, deliveryMs },
        }
      : {
          stage: 'round-trip', status: 'fail', code: 'HTTP_MESSAGE_NOT_RECEIVED', durationMs: deliveryMs, reproduce,
          summary: `published with 200 but the message did not reach the ${subscriber.route} subscription within ${target.timeoutMs} ms`,
          evidence: { ...evidence, subscriber: subscriber.route },
          hint: `Check that the policy allows iot:Receive on topic/${topic} for the subscribing client.`,
        },
  );
  return out;
}

export async function runProtocolStages(
  spec: RouteSpec,
  socket: TLSSocket,
  fate: ConnectionFate,
  ctx: CheckContext,
  peer: { address: string; port: number },
): Promise<StageOutcome[]> {
  return spec.protocol === 'mqtt' ? mqttStages(spec, socket, fate, ctx, peer) : httpsStages(spec, socket, fate, ctx, peer);
}
