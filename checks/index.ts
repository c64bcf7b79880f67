/**
 * The catalogue: every check of a `check` run, in the order the report lists them. Loading this module validates the
 * whole catalogue (every check any run may include): a `needs` entry that names no check throws `CatalogueError`.
 */
import type { Check } from '../src/model/check.js';
import { ROUTES, routeCheckId, routeKindOf, type RouteId } from '../src/model/index.js';
import { validateCatalogue } from '../src/runner/index.js';
import type { Target } from '../src/target.js';
import { caVerifiesEndpointCheck } from './ca-verifies-endpoint.js';
import { certChecks } from './cert.js';
import { clockCertValidityCheck } from './clock-cert-validity.js';
import { clockSkewCheck } from './clock-skew.js';
import { cloudChecks } from './cloud.js';
import { cloudCustomAuthorizerCheck } from './cloud-custom-authorizer.js';
import { cloudWssIdentityCheck } from './cloud-wss-identity.js';
import { cloudRoleAliasCheck } from './cloud-role-alias.js';
import { probeClientIdCheck } from './probe-client-id.js';
import { routeCheck } from './route.js';
import { routeInstance } from './route-plan.js';
import type { DoctorCheck } from './types.js';

/**
 * The checks of a `check` run for `target`, in report order: local credential checks, the probe client id (MQTT
 * routes with protocol stages), one route check per planned route instance (`target.routes` holds instance ids,
 * checks/route-plan.ts), then ca.verifies-endpoint, the clock checks and, with `--cloud`, the cloud checks (and
 * `cloud.custom-authorizer` when the run has custom authentication, `cloud.wss-identity` with the WebSocket route, `cloud.role-alias` with `--role-alias`). Each check lives in
 * `checks/<id with . replaced by ->.ts`.
 */
export function catalogue(target: Target): DoctorCheck[] {
  const planned = [
    ...certChecks,
    ...(target.protocol && target.routes.some((r) => r.startsWith('mqtt')) ? [probeClientIdCheck] : []),
    ...target.routes.map((id) => routeCheck(routeInstance(id, target))),
    caVerifiesEndpointCheck,
    clockSkewCheck,
    clockCertValidityCheck,
    ...(target.cloud ? cloudChecksFor(target) : []),
  ];
  return planned.map((check) => withInstanceNeeds(check, target.routes));
}

/**
 * The cloud checks of a run for `target`, in report order: `cloudChecks`, then `cloud.custom-authorizer` when the run
 * has custom authentication, `cloud.role-alias` with a role alias, `cloud.wss-identity` with the WebSocket route. The
 * same list for a full `check`, `--cloud-only` and `--from` a report.
 */
export function cloudChecksFor(target: Target): DoctorCheck[] {
  return [
    ...cloudChecks,
    ...(target.customAuth ? [cloudCustomAuthorizerCheck] : []),
    ...(target.credentials ? [cloudRoleAliasCheck] : []),
    ...(target.routes.some((r) => routeKindOf(r) === 'mqtt-wss-443') ? [cloudWssIdentityCheck] : []),
  ];
}

/**
 * `check` with each `needs` entry that names the route check of a KIND (`route.https-8443`) joined by the route checks
 * of every instance of that kind the run probes (`route.https-8443 via proxy`, `route.https-8443 IPv6`): a check that
 * reads the routes reads them whatever family or proxy they took. A need absent from the run is not waited for (the
 * runner), so the kind entries stay; the check itself is returned when no instance is added.
 */
export function withInstanceNeeds(check: DoctorCheck, routes: readonly RouteId[]): DoctorCheck {
  const needs = check.needs ?? [];
  const added = routes
    .map(routeCheckId)
    .filter((id) => !needs.includes(id) && needs.includes(routeCheckId(routeKindOf(id.slice('route.'.length)))));
  return added.length === 0 ? check : { ...check, needs: [...needs, ...added] };
}

/** Every check any run may include (the route checks of every registered route kind). */
export const ALL_CHECKS: readonly Check<never>[] = [
  ...certChecks,
  probeClientIdCheck,
  ...Object.keys(ROUTES).map((id) => routeCheck(id)),
  caVerifiesEndpointCheck,
  clockSkewCheck,
  clockCertValidityCheck,
  ...cloudChecks,
  cloudCustomAuthorizerCheck,
  cloudWssIdentityCheck,
  cloudRoleAliasCheck,
];

const ALL_IDS = new Set(ALL_CHECKS.map((c) => c.id));

/** True when `id` is the id of a check of the catalogue (for `RunOptions.isKnownCheck`). */
export function isCatalogueCheckId(id: string): boolean {
  return ALL_IDS.has(id);
}

validateCatalogue(ALL_CHECKS as readonly Check<unknown>[]);
