/**
 * The cloud checks, in catalogue order, and the split of work between a technician (who runs the network checks
 * on site, often without AWS access) and a support engineer (who runs the cloud checks later from the report).
 *
 * None of these modules loads the AWS SDK: `src/probes/iot-api.ts` imports it on the first API call.
 */
import { isRouteId, routeSpecOf, type CheckResult, type Report, type RouteId } from '../src/model/index.js';
import { isRoleAliasName, isThingName, ROLE_ALIAS_RULE, THING_NAME_RULE } from '../src/auth-target.js';
import { UsageError } from '../src/errors.js';
import { shorten } from '../src/flag-limits.js';
import type { Target } from '../src/target.js';
import { cloudAuthorizationCheck } from './cloud-authorization.js';
import { cloudCertificateCheck } from './cloud-certificate.js';
import { cloudConnectivityCheck } from './cloud-connectivity.js';
import { cloudCredentialsCheck } from './cloud-credentials.js';
import { cloudEndpointCheck } from './cloud-endpoint.js';
import { cloudLogsCheck } from './cloud-logs.js';
import { cloudPolicyAttachedCheck } from './cloud-policy-attached.js';
import { cloudThingCheck } from './cloud-thing.js';
import { routeClientIdSuffix } from './route-identity.js';
import type { DoctorCheck } from './types.js';

export type { CloudTarget } from './cloud-principal-util.js';

/** Catalogue order. They declare no `needs`: shared AWS answers are memoized per run, so all of them start at once. */
export const cloudChecks: DoctorCheck[] = [
  cloudCredentialsCheck,
  cloudEndpointCheck,
  cloudCertificateCheck,
  cloudPolicyAttachedCheck,
  cloudAuthorizationCheck,
  cloudThingCheck,
  cloudConnectivityCheck,
  cloudLogsCheck,
];

/** Whether a result belongs to the cloud checks (`cloud` or `cloud.*` ids). */
export function isCloudResult(r: Pick<CheckResult, 'id'>): boolean {
  return r.id === 'cloud' || r.id.startsWith('cloud.');
}

/**
 * What the cloud checks need, read from a report made by another run (`--from report.json`): endpoint, region,
 * routes, topic, certificate id, role alias and thing name (the credential provider's, for cloud.role-alias), and the
 * client id with `clientIdFromUser` set so that `routeClientId` gives the
 * same per-route ids the probes used (`<id>-8883`, `<id>-443` for our random id). The profile is not copied: the
 * person running the cloud checks uses their own.
 */
export function cloudTargetFromReport(report: Report): Partial<Target> & { certificateId?: string } {
  const t = report.target;
  const out: Partial<Target> & { certificateId?: string } = {};
  if (t.endpoint) out.endpoint = t.endpoint;
  if (t.region) out.region = t.region;
  if (t.topic) {
    out.topic = t.topic;
    // Our default topic follows the client id; anything else was the user's --topic.
    out.topicFromUser = t.topic !== `iot-doctor/${t.clientId ?? ''}/probe`;
  }
  const routes = (t.routes ?? []).filter((r): r is RouteId => typeof r === 'string' && isRouteId(r));
  if (routes.length) out.routes = routes;
  // Checked as the flags are: a hand-edited report must not send any string to AWS (or onto a by-hand line).
  if (t.thingName !== undefined && !isThingName(t.thingName))
    throw new UsageError(
      `the report's target.thingName ${JSON.stringify(shorten(t.thingName))} is not a thing name (${THING_NAME_RULE})`,
    );
  if (t.roleAlias !== undefined && !isRoleAliasName(t.roleAlias))
    throw new UsageError(
      `the report's target.roleAlias ${JSON.stringify(shorten(t.roleAlias))} is not a role alias name (${ROLE_ALIAS_RULE})`,
    );
  if (t.thingName) out.thingName = t.thingName;
  if (t.roleAlias) out.credentials = { roleAlias: t.roleAlias, ...(t.thingName ? { thingName: t.thingName } : {}) };

  const certificateId =
    t.certificateId ??
    evidenceString(report.results, 'certificateId', (r) => r.id === 'cert.identity' || r.id === 'cloud.certificate');
  if (certificateId) out.certificateId = certificateId.toLowerCase();

  // The client ids the MQTT routes really used, from their results.
  const used = new Map<RouteId, string>();
  for (const r of report.results) {
    if (!r.route || routeSpecOf(r.route)?.protocol !== 'mqtt') continue;
    const id = r.evidence?.['clientId'];
    if (typeof id === 'string' && id && !used.has(r.route)) used.set(r.route, id);
  }
  const base = t.clientId;
  if (base) {
    out.clientId = base;
    // Our random id gets a per-route suffix when several MQTT routes run; a user's id is used as it is.
    out.clientIdFromUser = used.size
      ? ![...used.entries()].some(([route, id]) => id.startsWith(`${base}-${routeClientIdSuffix(routeSpecOf(route)!)}`))
      : !/^iot-doctor-[0-9a-f]{8}$/.test(base);
  } else if (used.size) {
    out.clientId = [...used.values()][0]!;
    out.clientIdFromUser = true;
  }
  return out;
}

function evidenceString(
  results: readonly CheckResult[],
  key: string,
  where: (r: CheckResult) => boolean,
): string | undefined {
  for (const r of results) {
    if (!where(r)) continue;
    const v = r.evidence?.[key];
    if (typeof v === 'string' && /^(0x)?[0-9a-fA-F]{64}$/.test(v)) return v.replace(/^0x/i, '');
  }
  return undefined;
}

/**
 * The report's results with every `cloud.*` result replaced by the new ones, placed where the old ones were (at the
 * end when the report had none). The caller recomputes summary, diagnosis and exit code.
 */
export function mergeCloudResults(report: Report, cloudResults: CheckResult[]): CheckResult[] {
  const first = report.results.findIndex(isCloudResult);
  const kept = report.results.filter((r) => !isCloudResult(r));
  if (first < 0) return [...kept, ...cloudResults];
  return [...kept.slice(0, first), ...cloudResults, ...kept.slice(first)];
}
