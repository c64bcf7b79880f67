/**
 * Stage `protocol` (`route.<route>.protocol`): the route's application protocol answers over its connection. One
 * session per protocol (`protocol-<protocol>.ts`) settles both this row and `round-trip`, since both run over the
 * same session. A new protocol is one new file and one entry in `SESSIONS`.
 */
import type { RouteProtocol } from '../../src/model/index.js';
import type { RouteRun, StageDef, StageOutcome } from '../route-stage.js';
import { credentialsSession } from './protocol-credentials.js';
import { settleClientAuth } from './client-auth.js';
import { customAuthSession } from './protocol-custom-auth.js';
import { wssSession } from './protocol-wss.js';
import { httpsSession } from './protocol-https.js';
import { mqttSession } from './protocol-mqtt.js';

/** The session that runs the `protocol` and `round-trip` rows, by the route's protocol. */
export const SESSIONS: Readonly<Record<RouteProtocol, (run: RouteRun) => Promise<StageOutcome[]>>> = {
  mqtt: mqttSession,
  https: httpsSession,
  credentials: credentialsSession,
};

/**
 * The `protocol` stage: not run under `--no-protocol` (PROTOCOL_NOT_REQUESTED). MQTT with custom authentication
 * (`RouteSpec.auth`) runs the MQTT session with the authorizer's credentials instead of the certificate. Its outcome
 * also settles a pending client-auth verdict (see `settleClientAuth`).
 */
export const protocolStage: StageDef = {
  id: 'protocol',
  protocolLevel: true,
  run: async (run) =>
    settleClientAuth(
      run,
      await (run.spec.auth === 'custom'
        ? customAuthSession(run)
        : run.spec.auth === 'sigv4'
          ? wssSession(run)
          : SESSIONS[run.spec.protocol](run)),
    ),
};
