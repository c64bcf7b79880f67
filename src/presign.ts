/**
 * `presign`: prints the SigV4 query-signed URL of `GET /mqtt` on the data endpoint (service `iotdevicegateway`,
 * SignedHeaders `host`, X-Amz-Expires 86400, a session token appended after signing; field notes §4.1) for the
 * user's own AWS credentials, with the same signer and credential chain as the `mqtt-wss-443` route. It is what the
 * route's by-hand lines call (`"$(iot-doctor presign …)"`): the URL carries the access key id and, with temporary
 * credentials, the session token, so it is printed only here, on request, and never inside a `check` report.
 */
import { UsageError } from './errors.js';
import { IotApi } from './probes/iot-api.js';
import { presignMqttPath } from './probes/websocket-mqtt.js';
import { parseEndpoint, parseRegion, parseTimeout, regionFromEndpoint } from './target.js';

/** The flags of `presign`. */
export interface PresignArgs {
  endpoint?: string;
  region?: string;
  profile?: string;
  scheme?: string;
  timeout?: number;
}

/** The URL schemes `presign` prints: `wss` for WebSocket clients, `https` for curl's HTTP/1.1 upgrade request. */
const SCHEMES = ['wss', 'https'] as const;

/**
 * The region SigV4 signs with: `--region`, else `AWS_REGION` (as the SDKs and the route do), else the endpoint's own
 * (field notes §4.1). Throws `UsageError` when none is known (a custom domain without `--region`) or the one given
 * is not an AWS region name (parseRegion).
 */
function presignRegion(args: PresignArgs, endpoint: string): string {
  if (args.region !== undefined) return parseRegion(args.region);
  const env = process.env['AWS_REGION'];
  const region = env ? parseRegion(env, 'AWS_REGION') : regionFromEndpoint(endpoint);
  if (!region) throw new UsageError(`--region is required: ${endpoint} names no region`);
  return region;
}

/**
 * Runs `presign`: resolves the AWS credentials through the SDK's chain (`--profile`, bounded by `--timeout` ms),
 * signs and writes `<scheme>://<endpoint>/mqtt?X-Amz-…` and a newline to stdout; resolves to 0. Bad flags throw
 * `UsageError` (exit 2); credentials that cannot be resolved are one line on stderr and exit 2.
 */
export async function presignCommand(args: PresignArgs): Promise<number> {
  if (!args.endpoint) throw new UsageError('--endpoint is required (the iot:Data-ATS endpoint the URL is for)');
  const endpoint = parseEndpoint(args.endpoint);
  const scheme = args.scheme ?? 'wss';
  if (!(SCHEMES as readonly string[]).includes(scheme))
    throw new UsageError(`--scheme must be ${SCHEMES.join(' or ')}, got "${scheme}"`);
  const region = presignRegion(args, endpoint);
  const timeoutMs = parseTimeout(args.timeout);
  const api = new IotApi({ region, timeoutMs, inThread: true, ...(args.profile ? { profile: args.profile } : {}) });
  try {
    const creds = await api.signingCredentials();
    if (!creds.ok) {
      process.stderr.write(`iot-doctor: no AWS credentials to sign with: ${creds.message}\n`);
      return 2;
    }
    const signed = await presignMqttPath(endpoint, region, creds.value, new Date());
    process.stdout.write(`${scheme}://${endpoint}${signed.path}\n`);
    return 0;
  } finally {
    api.destroy();
  }
}
