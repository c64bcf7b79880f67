/**
 * The API options a run's Target gives (region, profile, API endpoint, data endpoint, timeout): light, so that
 * `check` can start the API worker's session before the rest of it loads (src/check-start.ts).
 */
import type { Target } from '../../target.js';
import type { IotApiOptions } from './types.js';

/** Options for the API from a run's Target. */
export function iotApiOptions(
  target: Pick<Target, 'region' | 'awsProfile' | 'apiEndpoint' | 'endpoint' | 'timeoutMs'>,
): IotApiOptions {
  return {
    timeoutMs: target.timeoutMs,
    ...(target.region ? { region: target.region } : {}),
    ...(target.awsProfile ? { profile: target.awsProfile } : {}),
    ...(target.apiEndpoint ? { endpoint: target.apiEndpoint } : {}),
    ...(target.endpoint ? { dataEndpoint: target.endpoint } : {}),
  };
}
