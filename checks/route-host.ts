/**
 * The host name of a route that is not the data endpoint, found when the run starts: the credential-provider
 * endpoint from `--credentials-endpoint`, else the account's `iot:CredentialProvider` endpoint from DescribeEndpoint
 * when AWS credentials allow it (field notes §6.1; facts §6).
 */
import { credentialSourceHint } from '../src/probes/iot-api/aws-credentials.js';
import { iotApiFor } from '../src/probes/iot-api/per-run.js';
import type { RouteSpec } from '../src/model/index.js';
import type { Target } from '../src/target.js';
import type { Destination, RouteRun } from './route-stage.js';

/** The host name a route is for: the data endpoint, or the credential-provider endpoint (empty when unknown). */
export function routeHostName(target: Target, spec: RouteSpec): string {
  return spec.host === 'credentials' ? (target.credentials?.endpoint ?? '') : target.endpoint;
}

/** Where a route for host `name` connects: that name on the kind's port, or what a matching `--connect-to` says. */
export function destinationFor(target: Target, spec: RouteSpec, name: string): Destination {
  const lower = name.toLowerCase();
  const rule = target.connectTo.find(
    (r) => (r.host === '' || r.host.toLowerCase() === lower) && (r.port === 0 || r.port === spec.port),
  );
  if (!rule) return { name, host: name, port: spec.port, override: false };
  // A rule that only changes the port still resolves the endpoint name through DNS.
  return { name, host: rule.address || name, port: rule.toPort || spec.port, override: rule.address !== '' };
}

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
