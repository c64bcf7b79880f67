/**
 * Stage `upgrade` (`route.<route>.upgrade`) of `mqtt-wss-443`: `GET /mqtt` presigned with SigV4 (service
 * `iotdevicegateway`, the region a device would use: `--region` / `AWS_REGION`, else the endpoint's own; field notes
 * §4.1) with the AWS credential chain of the cloud checks, upgraded to WebSocket with subprotocol `mqtt` over the
 * route's TLS connection. 101 sets `run.channel` to the MQTT byte stream; a refusal keeps status, `x-amzn-ErrorType`,
 * the server's `date` next to our `X-Amz-Date` (their offset), and the signing region next to the endpoint's (field
 * notes §4.2). Neither the secret key, the session token nor the signature reaches the evidence.
 */
import { ROUTES, type Evidence } from '../../src/model/index.js';
import { iotApiFor } from '../../src/probes/iot-api.js';
import { envSigningKeys } from '../../src/probes/iot-api/aws-credentials.js';
import { presignMqttPath, upgradeToMqtt, WSS_SIGNING_SERVICE } from '../../src/probes/websocket-mqtt.js';
import { regionFromEndpoint, type Target } from '../../src/target.js';
import { wssUpgradeCommand } from '../route-reproduce.js';
import type { RouteRun, StageDef, StageOutcome } from '../route-stage.js';
import { stepMs } from '../../src/runner/deadline.js';

/** `YYYYMMDDTHHMMSSZ` → epoch ms (NaN when malformed). */
function amzDateMs(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : NaN;
}

/** The region SigV4 signs with, and where it came from (field notes §4.1: the SDKs' order). */
export function signingRegion(target: Target, endpoint: string): { region: string; from: string } | undefined {
  if (target.signingRegion) return { region: target.signingRegion, from: target.signingRegionFrom ?? '--region' };
  const own = regionFromEndpoint(endpoint);
  if (own) return { region: own, from: 'endpoint name' };
  return target.region ? { region: target.region, from: '--region' } : undefined;
}

function outcome(
  status: StageOutcome['status'],
  code: StageOutcome['code'],
  summary: string,
  evidence: Evidence,
  durationMs = 0,
): StageOutcome {
  return { stage: 'upgrade', status, code, summary, evidence, durationMs };
}

/** The `upgrade` stage (see the file comment); every cell carries the upgrade's by-hand line. */
export const upgradeStage: StageDef = {
  id: 'upgrade',
  async run(run: RouteRun) {
    const outcomes = await upgrade(run);
    if (!run.peer) return outcomes;
    const reproduce = wssUpgradeCommand(run.ctx.target, run.spec, run.peer);
    return outcomes.map((o) => ({ ...o, reproduce }));
  },
};

/** Signs, upgrades and reads the answer (see the file comment). */
async function upgrade(run: RouteRun): Promise<StageOutcome[]> {
  const { target } = run.ctx;
  const host = run.dest.name;
  const region = signingRegion(target, host);
  const endpointRegion = regionFromEndpoint(host);
  if (!region) return [outcome('fail', 'UPGRADE_NO_SIGNING_INPUT', 'no region to sign with (--region)', {})];
  const keys = envSigningKeys(target);
  const creds = keys ? ({ ok: true, value: keys } as const) : await iotApiFor(run.ctx).signingCredentials();
  if (!creds.ok) {
    // Only SigV4 routes in the run: without credentials it tested nothing, a tool error (exit 2), not a warning.
    const alone = target.routes.every((id) => ROUTES[id]?.auth === 'sigv4');
    return [
      outcome(
        alone ? 'error' : 'warn',
        'UPGRADE_NO_SIGNING_INPUT',
        `no AWS credentials to sign the WebSocket URL with: ${creds.message}`,
        {
          reason: creds.message,
        },
      ),
    ];
  }
  if (stepMs(run.ctx) <= 0) {
    const why =
      'the run deadline (--timeout) passed before the upgrade could be sent' +
      (keys ? '' : ' (signing waited for the AWS credentials from the SDK)');
    return [outcome('warn', 'UPGRADE_NO_SIGNING_INPUT', why, { reason: why })];
  }
  const signedAt = new Date();
  const presigned = await presignMqttPath(host, region.region, creds.value, signedAt);
  const evidence: Evidence = {
    service: WSS_SIGNING_SERVICE,
    signingRegion: region.region,
    signingRegionFrom: region.from,
    ...(endpointRegion ? { endpointRegion } : {}),
    amzDate: presigned.amzDate,
    accessKeyId: `…${presigned.accessKeyId.slice(-4)}`,
    temporaryCredentials: presigned.sessionToken,
  };
  const up = await upgradeToMqtt(run.tls!.socket, host, presigned.path, stepMs(run.ctx));
  if (up.ok) {
    run.channel = up.stream;
    run.own(up.stream);
    return [
      outcome(
        'pass',
        'UPGRADE_OK',
        `101 Switching Protocols, subprotocol ${up.protocol || '(none)'}, SigV4 ${region.region}`,
        { ...evidence, status: 101, subprotocol: up.protocol },
        up.durationMs,
      ),
    ];
  }
  if (up.kind !== 'refused') {
    const code = up.kind === 'timeout' ? 'UPGRADE_NO_ANSWER' : 'UPGRADE_ERROR';
    return [outcome('fail', code, up.message, evidence, up.durationMs)];
  }
  const serverMs = up.date ? Date.parse(up.date) : NaN;
  const offset = Number.isFinite(serverMs) ? Math.round((serverMs - amzDateMs(presigned.amzDate)) / 1000) : undefined;
  const refused: Evidence = {
    ...evidence,
    status: up.status,
    ...(up.errorType ? { errorType: up.errorType } : {}),
    ...(up.date ? { serverDate: up.date } : {}),
    ...(offset !== undefined ? { clockOffsetSeconds: offset } : {}),
    ...(up.body ? { body: up.body.slice(0, 300) } : {}),
  };
  const code = up.status === 403 ? 'UPGRADE_FORBIDDEN' : 'UPGRADE_REFUSED';
  const said = `HTTP ${up.status}${up.errorType ? ` (${up.errorType})` : ''}`;
  return [outcome('fail', code, `the WebSocket upgrade was refused: ${said}`, refused, up.durationMs)];
}
