/**
 * How a failed MQTT step becomes a stage outcome: CONNACK/SUBACK/PUBACK refused (MQTT 3.1.1 §3.2.2.3, MQTT 5 reason
 * codes), the connection closed after a packet (AWS IoT's answer to an unauthorized MQTT 3.1.1 client: facts §3),
 * no answer in time, or a client error. Shared by the MQTT protocol and round-trip stages.
 */
import type { Evidence, RouteSpec } from '../../src/model/index.js';
import type { MqttStep } from '../../src/probes/mqtt.js';
import type { RouteCode } from '../route-codes.js';
import type { StageOutcome } from '../route-stage.js';

/** The MQTT step that failed. */
export type MqttWhat = 'connect' | 'subscribe' | 'publish' | 'receive';

/** What a failure outcome needs to name the client, topic and command. */
export interface MqttFailureContext {
  spec: RouteSpec;
  clientId: string;
  topic: string;
  reproduce: string;
  evidence: Evidence;
}

type Failed = Exclude<MqttStep<unknown>, { ok: true }>;

const closedAfterConnectHint = (clientId: string): string =>
  'AWS IoT closes the connection after CONNECT, without a reason, when the certificate is not registered in this ' +
  'account and region, is not ACTIVE, has no policy attached, or its policy does not allow iot:Connect on ' +
  `client/${clientId}. The cloud checks tell these apart (cloud.certificate, cloud.policy-attached, ` +
  'cloud.authorization); without AWS credentials, check them in the console or with aws iot describe-certificate / ' +
  'list-attached-policies / test-authorization.';

const REFUSED: Record<Exclude<MqttWhat, 'receive'>, [RouteCode, string]> = {
  connect: ['MQTT_CONNACK_REFUSED', 'CONNACK'],
  subscribe: ['MQTT_SUBACK_REFUSED', 'SUBACK'],
  publish: ['MQTT_PUBACK_REFUSED', 'PUBACK'],
};
const CLOSED: Record<MqttWhat, RouteCode> = {
  connect: 'MQTT_CLOSED_AFTER_CONNECT',
  subscribe: 'MQTT_CLOSED_AFTER_SUBSCRIBE',
  publish: 'MQTT_CLOSED_AFTER_PUBLISH',
  receive: 'MQTT_CLOSED_BEFORE_DELIVERY',
};
const TIMEOUT: Record<MqttWhat, RouteCode> = {
  connect: 'MQTT_NO_CONNACK',
  subscribe: 'MQTT_NO_SUBACK',
  publish: 'MQTT_NO_PUBACK',
  receive: 'MQTT_MESSAGE_NOT_RECEIVED',
};

function refused(
  step: Extract<Failed, { kind: 'refused' }>,
  what: MqttWhat,
  ctx: MqttFailureContext,
): Partial<StageOutcome> {
  const [code, packet] = REFUSED[what === 'receive' ? 'publish' : what];
  const notAuthorized = step.code === 0x87 || step.code === 5;
  const action = what === 'subscribe' ? 'Subscribe on topicfilter' : 'Publish on topic';
  return {
    code,
    evidence: { ...ctx.evidence, step: what, reasonCode: step.code, reason: step.reason },
    summary: `${packet} refused: ${step.reason}`,
    hint: !notAuthorized
      ? `The broker refused the ${what}: ${step.reason}.`
      : what === 'connect'
        ? `Not authorized: no policy on this certificate allows iot:Connect on client/${ctx.clientId} ` +
          '(or the certificate is not ACTIVE). See cloud.authorization.'
        : `Not authorized: the policy does not allow iot:${action}/${ctx.topic}. ` +
          'Add it, or probe with --topic set to ' +
          'a topic the policy allows.',
  };
}

function closed(
  step: Extract<Failed, { kind: 'closed' }>,
  what: MqttWhat,
  ctx: MqttFailureContext,
): Partial<StageOutcome> {
  const extra = step.alert
    ? ` (TLS alert ${step.alert})`
    : step.disconnectReason
      ? ` (DISCONNECT ${step.disconnectReason})`
      : '';
  return {
    code: CLOSED[what],
    evidence: {
      ...ctx.evidence,
      step: what,
      ...(step.alert ? { alert: step.alert } : {}),
      ...(step.disconnectReason ? { disconnectReason: step.disconnectReason } : {}),
    },
    summary:
      what === 'connect'
        ? `the server closed the connection ${step.durationMs} ms after CONNECT, with no CONNACK${extra}`
        : `the server closed the connection after ${what.toUpperCase()}${extra}`,
    hint:
      what === 'connect'
        ? closedAfterConnectHint(ctx.clientId)
        : what === 'subscribe'
          ? `With MQTT 3.1.1 AWS IoT closes the connection when the policy does not allow iot:Subscribe on ` +
            `topicfilter/${ctx.topic}.`
          : `With MQTT 3.1.1 AWS IoT closes the connection when the policy does not allow ` +
            'iot:Publish (or iot:Receive) ' +
            `on topic/${ctx.topic}.`,
  };
}

function timedOut(
  step: Extract<Failed, { kind: 'timeout' }>,
  what: MqttWhat,
  ctx: MqttFailureContext,
): Partial<StageOutcome> {
  const hint =
    what === 'connect'
      ? ctx.spec.port === 443
        ? `On 443 a missing or ignored ALPN (${ctx.spec.alpn}) makes AWS IoT wait silently: ` +
          'check that nothing in the ' +
          'path strips ALPN.'
        : 'The connection is open but the broker does not answer: a proxy that holds the stream, or a server that is ' +
          'not AWS IoT.'
      : what === 'receive'
        ? `Check that the policy allows iot:Receive on topic/${ctx.topic}.`
        : undefined;
  return {
    code: TIMEOUT[what],
    evidence: { ...ctx.evidence, step: what },
    summary:
      what === 'receive'
        ? `the published message did not come back within ${step.durationMs} ms`
        : `no answer to ${what.toUpperCase()} within ${step.durationMs} ms`,
    hint,
  };
}

/** A middlebox or another service answered: its bytes are named, and no certificate or policy advice is given. */
const NOT_AWS_HINT =
  'The server answered, but not with the MQTT AWS IoT speaks: a proxy, captive portal or other middlebox in the ' +
  'path, or another service on this port. This is not a certificate or policy problem: find what answers ' +
  '(the bytes are in the summary) and bypass it, or check the endpoint name and --connect-to.';

function notMqtt(step: Extract<Failed, { kind: 'invalid' | 'too-large' }>, what: MqttWhat, ctx: MqttFailureContext) {
  return {
    code: step.kind === 'invalid' ? ('MQTT_NOT_MQTT' as const) : ('MQTT_PACKET_TOO_LARGE' as const),
    evidence: { ...ctx.evidence, step: what },
    summary: step.message,
    hint: NOT_AWS_HINT,
  };
}

/**
 * The failure outcome of one MQTT step, in the row `stage` (`protocol` for CONNECT, `round-trip` for the rest):
 * code by step and kind (e.g. connect + closed → MQTT_CLOSED_AFTER_CONNECT), the packet's reason in the evidence.
 */
export function mqttFailure(
  stage: 'protocol' | 'round-trip',
  step: Failed,
  what: MqttWhat,
  ctx: MqttFailureContext,
): StageOutcome {
  const base = { stage, status: 'fail' as const, durationMs: step.durationMs, reproduce: ctx.reproduce };
  const detail =
    step.kind === 'refused'
      ? refused(step, what, ctx)
      : step.kind === 'closed'
        ? closed(step, what, ctx)
        : step.kind === 'timeout'
          ? timedOut(step, what, ctx)
          : step.kind === 'invalid' || step.kind === 'too-large'
            ? notMqtt(step, what, ctx)
            : { code: 'MQTT_ERROR' as const, evidence: { ...ctx.evidence, step: what }, summary: step.message };
  const { hint, ...rest } = detail;
  return { ...base, ...(rest as Pick<StageOutcome, 'code' | 'summary' | 'evidence'>), ...(hint ? { hint } : {}) };
}
