/** The catalogue: every check of a `check` run, in the order the report lists them. */
import type { Target } from '../src/target.js';
import { caVerifiesEndpointCheck } from './ca-endpoint.js';
import { certChecks } from './cert.js';
import { clockSkewCheck } from './clock-skew.js';
import { cloudChecks } from './cloud.js';
import { probeClientIdCheck } from './probe-client-id.js';
import { routeCheck } from './route.js';
import type { DoctorCheck } from './types.js';

export function catalogue(target: Target): DoctorCheck[] {
  return [
    ...certChecks,
    ...(target.protocol && target.routes.some((r) => r.startsWith('mqtt')) ? [probeClientIdCheck] : []),
    ...target.routes.map(routeCheck),
    caVerifiesEndpointCheck,
    clockSkewCheck,
    ...(target.cloud ? cloudChecks : []),
  ];
}
