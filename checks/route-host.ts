/**
 * The host name of a route that is not the data endpoint, found when the run starts: the credential-provider
 * endpoint from `--credentials-endpoint`, else the account's `iot:CredentialProvider` endpoint from DescribeEndpoint
 * when AWS credentials allow it (field notes §6.1; facts §6).
 */
import { credentialSourceHint } from '../src/probes/iot-api/aws-credentials.js';
import { iotApiFor } from '../src/probes/iot-api/per-run.js';
import type { RouteRun } from './route-stage.js';
import { destinationFor } from './route-destination.js';

/**
 * Fills `run.dest` (name and host) for a credentials route without `--credentials-endpoint`, through DescribeEndpoint
 * (`iot:CredentialProvider`, bounded by the run's timeout). Returns why it could not (one line), or undefined when the
 * name is now known.
 */
export async function discoverRouteHost(run: RouteRun): Promise<string | undefined> {
  const { target } = run.ctx;
  if (run.spec.host !== 'credentials') return `no host name for ${run.spec.id}`;
  if (!target.cloud || !credentialSourceHint(target)) {
    return 'no AWS credentials to look it up with DescribeEndpoint (iot:CredentialProvider)';
  }
  const answer = await iotApiFor(run.ctx).describeEndpoint('iot:CredentialProvider');
  if (!answer.ok) return `DescribeEndpoint (iot:CredentialProvider) failed: ${answer.message}`;
  if (!answer.value) return 'DescribeEndpoint (iot:CredentialProvider) returned no address';
  Object.assign(run.dest, destinationFor(target, run.spec, answer.value));
  return undefined;
}
