/**
 * The `aws iot ...` and `aws configure` commands the cloud checks give as reproduce commands.
 */
import type { CloudSession } from '../src/probes/iot-api.js';
import { shq } from '../src/probes/shell.js';
import type { Target } from '../src/target.js';

/** `aws iot <sub> <args> --region R [--profile P] [--endpoint-url U]`, every value shell-quoted. */
export function awsIot(
  target: Target,
  session: CloudSession | undefined,
  sub: string,
  args: (string | [string, string])[],
): string {
  const parts = ['aws', 'iot', sub];
  for (const a of args) {
    if (Array.isArray(a)) parts.push(a[0], shq(a[1]));
    else parts.push(a);
  }
  const region = session?.region ?? target.region;
  if (region) parts.push('--region', shq(region));
  if (target.awsProfile) parts.push('--profile', shq(target.awsProfile));
  if (target.apiEndpoint) parts.push('--endpoint-url', shq(target.apiEndpoint));
  return parts.join(' ');
}

/** `aws configure list [--profile P]`: shows where the AWS CLI would take credentials and region from. */
export function awsConfigureList(target: Target): string {
  return `aws configure list${target.awsProfile ? ` --profile ${shq(target.awsProfile)}` : ''}`;
}
