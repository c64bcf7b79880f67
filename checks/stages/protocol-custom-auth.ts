/**
 * The MQTT session of `mqtt-custom-auth-443` (rows `protocol` and `round-trip`): the same CONNECT, SUBSCRIBE,
 * PUBLISH and receive as the mTLS routes, without a client certificate, with the MQTT username carrying
 * `x-amz-customauthorizer-name`, `x-amz-customauthorizer-signature` and the token under its key name, and the password
 * (field notes §5.2). A refused CONNECT (MQTT 3.1.1: the connection closed; MQTT 5: CONNACK 0x86 or 0x87, which one
 * AWS uses is unconfirmed, field notes §5.6) is CUSTOM_AUTH_REFUSED: the certificate rules do not apply to it.
 * The token, the signature and the password are secrets: evidence and reproduce commands show placeholders.
 */
import type { CustomAuthTarget } from '../../src/target.js';
import { customAuthEvidence } from '../route-custom-auth.js';
import type { RouteRun, StageOutcome } from '../route-stage.js';
import { mqttSession } from './protocol-mqtt.js';

/** The protocol outcome of a refused CONNECT, as a custom-authentication refusal. */
function asRefusal(o: StageOutcome, c: CustomAuthTarget, reproduce: string): StageOutcome {
  const how =
    o.code === 'MQTT_CONNACK_REFUSED' ? o.summary : 'the connection was closed after CONNECT, without CONNACK';
  return {
    ...o,
    code: 'CUSTOM_AUTH_REFUSED',
    summary: `custom authentication refused: ${how}`,
    evidence: { ...(o.evidence ?? {}), ...customAuthEvidence(c) },
    reproduce,
    hint:
      'AWS IoT refused the custom-authentication CONNECT: the authorizer is missing or INACTIVE, the token signature ' +
      "does not verify with the authorizer's key, the authorizer Lambda said not authenticated (or failed), its " +
      'policy does not allow iot:Connect, or something in the path changed the request. With AWS credentials the ' +
      'cloud.custom-authorizer check (DescribeAuthorizer, TestInvokeAuthorizer) tells which.',
  };
}

/** The `protocol` and `round-trip` rows of `mqtt-custom-auth-443`: the MQTT session with custom credentials. */
export async function customAuthSession(run: RouteRun): Promise<StageOutcome[]> {
  const c = run.ctx.target.customAuth;
  if (!c) throw new Error('mqtt-custom-auth-443 runs only with custom-authentication flags');
  const outcomes = await mqttSession(run);
  return outcomes.map((o) => {
    const evidence = { ...(o.evidence ?? {}), ...customAuthEvidence(c) };
    const refused =
      o.stage === 'protocol' && (o.code === 'MQTT_CLOSED_AFTER_CONNECT' || o.code === 'MQTT_CONNACK_REFUSED');
    return refused ? asRefusal(o, c, o.reproduce ?? '') : { ...o, evidence };
  });
}
