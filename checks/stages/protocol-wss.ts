/**
 * The MQTT session of `mqtt-wss-443` (rows `protocol` and `round-trip`) over the WebSocket stream the `upgrade` stage
 * opened. A CONNECT closed after a successful upgrade is WSS_CONNECT_REFUSED: the IAM identity's right to iot:Connect,
 * not a certificate, is in question (field notes §4.2), so the certificate rules do not apply to it. A close that
 * followed a WebSocket protocol error of the server (an invalid frame, a frame above the cap) is a foreign answer
 * (MQTT_NOT_MQTT), never a denied identity.
 */
import { endMqttStream, webSocketError } from '../../src/probes/websocket-mqtt.js';
import type { RouteRun, StageOutcome } from '../route-stage.js';
import { mqttSession } from './protocol-mqtt.js';

/** A middlebox or another service broke the WebSocket framing: named as a foreign answer, not as IAM. */
const BROKEN_FRAMING_HINT =
  'The server answered the upgrade, then broke the WebSocket framing (RFC 6455 §5): a proxy or other middlebox in ' +
  'the path, or another service on this port. This is not a certificate or policy problem: find what answers and ' +
  'bypass it, or check the endpoint name and --connect-to.';

/** The `protocol` and `round-trip` rows of MQTT over WebSocket. */
export async function wssSession(run: RouteRun): Promise<StageOutcome[]> {
  const outcomes = await mqttSession(run);
  // The DISCONNECT just written goes out before the close frame; the route's TLS close follows.
  await endMqttStream(run.channel, 250);
  const broken = webSocketError(run.channel);
  return outcomes.map((o) =>
    broken && o.status === 'fail' && /CLOSED|NO_CONNACK|NOT_MQTT/.test(String(o.code))
      ? {
          ...o,
          code: 'MQTT_NOT_MQTT',
          summary: `after the WebSocket upgrade, the server broke the WebSocket protocol: ${broken}`,
          evidence: { ...o.evidence, webSocketError: broken },
          hint: BROKEN_FRAMING_HINT,
        }
      : o.stage === 'protocol' && (o.code === 'MQTT_CLOSED_AFTER_CONNECT' || o.code === 'MQTT_CONNACK_REFUSED')
        ? {
            ...o,
            code: 'WSS_CONNECT_REFUSED',
            summary: `after the WebSocket upgrade, ${o.summary}`,
            hint:
              'The signature was accepted, then the CONNECT was refused: the IAM identity that signed may not iot:Connect ' +
              'with this client id (check its IAM policy, e.g. aws iam simulate-principal-policy --action-names iot:Connect).',
          }
        : o,
  );
}
