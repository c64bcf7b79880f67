/**
 * cloud.connectivity: what AWS IoT recorded about the thing's connection (GetThingConnectivityData, field notes
 * §7.2): connected or not, since when, and the last `disconnectReason` (facts §3.3; meanings in field notes §7.3),
 * mapped to the catalogue. The thing is `--thing-name`, else the thing attached to the certificate that is named
 * like the client id, else the only one attached.
 */
import type { Evidence } from '../src/model/index.js';
import { buildResult, type Outcome } from '../src/model/result.js';
import type { ConnectivityInfo } from '../src/probes/iot-api.js';
import { CLOUD_COMMON_CODES, cloudCheck, iso, type Started } from './cloud-check-util.js';
import { awsIot } from './cloud-cli-util.js';
import { failureOutcome } from './cloud-failure-util.js';
import { inventoryFor, likelyThingNames } from './cloud-inventory-util.js';
import { principalFor } from './cloud-principal-util.js';
import type { CheckContext, DoctorCheck } from './types.js';

const META = { id: 'cloud.connectivity', title: 'AWS IoT records no refused or taken-over connection for the thing' };

/** Result codes of cloud.connectivity. */
export const CLOUD_CONNECTIVITY_CODES = [
  'CONNECTIVITY_OK',
  'RECORDED_DUPLICATE_CLIENT_ID',
  'RECORDED_AUTH_ERROR',
  'RECORDED_THROTTLED',
  'RECORDED_DISCONNECT',
  'NO_THING_TO_ASK',
  ...CLOUD_COMMON_CODES,
] as const;

type ConnectivityCode = (typeof CLOUD_CONNECTIVITY_CODES)[number];

/** What each recorded `disconnectReason` means for the diagnosis (field notes §7.3); unknown values are shown as is. */
const REASONS: Record<string, { code: ConnectivityCode; meaning: string }> = {
  DUPLICATE_CLIENTID: {
    code: 'RECORDED_DUPLICATE_CLIENT_ID',
    meaning: 'another client connected with the same client id and AWS IoT closed this connection',
  },
  AUTH_ERROR: { code: 'RECORDED_AUTH_ERROR', meaning: 'authentication or authorization failed' },
  FORBIDDEN_ACCESS: {
    code: 'RECORDED_AUTH_ERROR',
    meaning: 'the connection was not allowed (e.g. a denied source IP)',
  },
  THROTTLED: {
    code: 'RECORDED_THROTTLED',
    meaning: 'a rate limit was exceeded (e.g. 1 CONNECT per second per client id)',
  },
  CLIENT_ERROR: {
    code: 'RECORDED_DISCONNECT',
    meaning: 'the client misbehaved (e.g. a second CONNECT, a payload over the limit)',
  },
  CONNECTION_LOST: {
    code: 'RECORDED_DISCONNECT',
    meaning: 'the connection was cut (network loss or very high latency)',
  },
  MQTT_KEEP_ALIVE_TIMEOUT: { code: 'RECORDED_DISCONNECT', meaning: 'no traffic for 1.5 × the keep-alive' },
  SERVER_ERROR: { code: 'RECORDED_DISCONNECT', meaning: 'an unexpected server problem' },
  SERVER_INITIATED_DISCONNECT: { code: 'RECORDED_DISCONNECT', meaning: 'AWS IoT closed it for operational reasons' },
  API_INITIATED_DISCONNECT: { code: 'RECORDED_DISCONNECT', meaning: 'closed through DeleteConnection' },
  WEBSOCKET_TTL_EXPIRATION: { code: 'RECORDED_DISCONNECT', meaning: 'the WebSocket connection reached its 24 h limit' },
  CUSTOMAUTH_TTL_EXPIRATION: {
    code: 'RECORDED_DISCONNECT',
    meaning: "the custom authorizer's disconnectAfterInSeconds elapsed",
  },
};
/** Reasons that say nothing went wrong: connected now, never connected, or the client left by itself. */
const BENIGN = new Set(['NONE', 'UNKNOWN', 'CLIENT_INITIATED_DISCONNECT']);

/** The thing to ask about: --thing-name, else the attached thing named like a probe client id, else the only one. */
async function thingFor(ctx: CheckContext, c: Extract<Started, { ok: true }>): Promise<string | Outcome> {
  if (ctx.target.thingName) return ctx.target.thingName;
  // Asked ahead for the names the thing likely has (memoized; unused unless it is the thing chosen below), so the
  // answer does not wait for the certificate's ARN and its list of things (issue 16).
  for (const guess of likelyThingNames(ctx)) void c.api.getThingConnectivityData(guess);
  const p = await principalFor(ctx, c.api, c.session);
  if (!p.ok) return p.outcome;
  // Only the list of things is needed: the GetThingConnectivityData call does not wait for the thing-group reads of
  // the inventory (issue 16). The same calls, memoized: a failed ListAttachedPolicies gives the inventory's outcome.
  const [attached, listed] = await Promise.all([
    c.api.listAttachedPolicies(p.value.certArn),
    c.api.listPrincipalThings(p.value.certArn),
  ]);
  if (!attached.ok) {
    const inv = await inventoryFor(ctx, c.api, c.session, p.value);
    if (!inv.ok) return inv.outcome;
  }
  const things = listed.ok ? listed.value : [];
  const named = things.find((t) => t === ctx.target.clientId);
  if (named ?? things.length === 1) return named ?? things[0]!;
  return {
    status: 'skip',
    code: 'NO_THING_TO_ASK',
    summary: things.length
      ? `the certificate is attached to ${things.length} things (${things.slice(0, 5).join(', ')}): name one with --thing-name`
      : 'no thing is attached to the certificate and --thing-name was not given',
    evidence: { things },
  };
}

/** The outcome for one connectivity record (see the file comment). */
export function connectivityOutcome(info: ConnectivityInfo, reproduce: string): Outcome {
  const reason = info.disconnectReason ?? 'UNKNOWN';
  const evidence: Evidence = { thingName: info.thingName, connected: info.connected, disconnectReason: reason };
  const since = iso(info.timestamp);
  if (since) evidence['since'] = since;
  if (info.clientId) evidence['clientId'] = info.clientId;
  if (info.sourceIp) evidence['sourceIp'] = `${info.sourceIp}${info.sourcePort ? `:${info.sourcePort}` : ''}`;
  const state = info.connected
    ? `connected${since ? ` since ${since}` : ''}`
    : `not connected${since ? ` since ${since}` : ''}`;
  if (BENIGN.has(reason)) {
    const last = reason === 'CLIENT_INITIATED_DISCONNECT' ? "; the last disconnect was the client's own" : '';
    return {
      status: 'pass',
      code: 'CONNECTIVITY_OK',
      summary: `thing ${info.thingName}: ${state}${last}`,
      evidence,
      reproduce,
    };
  }
  const known = REASONS[reason];
  const meaning = known?.meaning ?? 'a reason this tool does not know';
  return {
    status: 'warn',
    code: known?.code ?? 'RECORDED_DISCONNECT',
    summary: `recorded by AWS IoT: thing ${info.thingName} is ${state}; last disconnect reason ${reason} (${meaning})`,
    evidence: { ...evidence, recordedBy: 'GetThingConnectivityData' },
    reproduce,
  };
}

/** cloud.connectivity (see the file comment); skipped naming iot:GetThingConnectivityData when denied. */
export const cloudConnectivityCheck: DoctorCheck = cloudCheck(META, async (ctx, started, c) => {
  const thing = await thingFor(ctx, c);
  if (typeof thing !== 'string') return [buildResult(META, started, thing)];
  const reproduce = awsIot(ctx.target, c.session, 'get-thing-connectivity-data', [['--thing-name', thing]]);
  const data = await c.api.getThingConnectivityData(thing);
  if (!data.ok)
    return [
      buildResult(META, started, failureOutcome(data, `the connectivity data of ${thing}`, reproduce, ctx.target)),
    ];
  return [buildResult(META, started, connectivityOutcome(data.value, reproduce))];
});
