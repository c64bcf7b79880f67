/**
 * The CONNECT decision of an MQTT connection that arrived with ALPN `mqtt` on 443 (custom authentication, facts §1
 * row 3; field notes §5): the authorizer of custom-auth.ts authenticates it from the username and password, then the
 * policies the authorizer returned must allow iot:Connect on client/<clientId> (facts §7), as for a certificate.
 */
import type { TLSSocket } from 'node:tls';
import type { IConnectPacket } from 'mqtt-packet';
import type { Authorizer, ConnectionIdentity } from './authz.js';
import { authenticateCustom, requestFromConnect, type CustomAuthStore } from './custom-auth.js';
import type { Authenticated, Refusal } from './mqtt-front.js';

/** How the lab's custom authentication behaves, per scenario. */
export interface CustomAuthBehaviour {
  /** MQTT 5 CONNACK reason code of a refused authentication: 0x86 or 0x87 (unconfirmed, field notes §5.6). */
  refusalCode: 0x86 | 0x87;
  /**
   * `intact`: the CONNECT reaches AWS IoT as sent. `strip-query`: a middlebox in the path rewrites the MQTT username
   * to its part before `?` (a network fault, not AWS behaviour): the authorizer never sees the token.
   */
  path: 'intact' | 'strip-query';
}

/** The default behaviour: refusals answer 0x86 on MQTT 5, the request arrives intact. */
export const DEFAULT_CUSTOM_AUTH: CustomAuthBehaviour = { refusalCode: 0x86, path: 'intact' };

/**
 * The `authenticate` hook of the MQTT front for custom authentication over `store`: a refusal (authorizer missing or
 * INACTIVE, signature, Lambda said no) or the principal with its policies, and an authorization refusal when they do
 * not allow iot:Connect on the client id.
 */
export function customAuthenticate(
  store: CustomAuthStore,
  authorizer: Authorizer,
  behaviour: CustomAuthBehaviour,
): (socket: TLSSocket, connect: IConnectPacket) => Authenticated | Refusal {
  return (socket, connect) => {
    const seen =
      behaviour.path === 'strip-query' && connect.username !== undefined
        ? { ...connect, username: connect.username.split('?')[0] ?? '' }
        : connect;
    const sni = socket.servername || undefined;
    const result = authenticateCustom(store, requestFromConnect(store, seen, sni), behaviour.refusalCode);
    if (!result.ok) return { why: result.why, code: result.code };
    const customPolicies = result.policyDocuments.map((document, i) => ({
      policyName: `${result.principalId}-policy-${i + 1}`,
      document,
    }));
    const identity: ConnectionIdentity = {
      certificateId: result.principalId,
      clientId: connect.clientId,
      customPolicies,
    };
    if (socket.remoteAddress) identity.sourceIp = socket.remoteAddress;
    const decision = authorizer.check(identity, 'iot:Connect', 'client', connect.clientId);
    if (decision.decision !== 'ALLOWED') return { identity, refusal: { why: `iot:Connect ${decision.decision}` } };
    return { identity };
  };
}
