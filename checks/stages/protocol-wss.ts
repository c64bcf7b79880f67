/**
 * The MQTT session of `mqtt-wss-443` (rows `protocol` and `round-trip`) over the WebSocket stream the `upgrade` stage
 * opened. A CONNECT closed after a successful upgrade is WSS_CONNECT_REFUSED: the IAM identity's right to iot:Connect,
 * not a certificate, is in question (field notes §4.2), so the certificate rules do not apply to it.
 */
import type { RouteRun, StageOutcome } from '../route-stage.js';
import { mqttSession } from './protocol-mqtt.js';

/** The `protocol` and `round-trip` rows of MQTT over WebSocket. */
export async function wssSession(run: RouteRun): Promise<StageOutcome[]> {
  const outcomes = await mqttSession(run);
  return outcomes.map((o) =>
    o.stage === 'protocol' && (o.code === 'MQTT_CLOSED_AFTER_CONNECT' || o.code === 'MQTT_CONNACK_REFUSED')
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
