/**
 * The `check` flags as a run's `Target`: each value validated by its parser (target.ts, auth-target.ts,
 * field-args.ts). Kept apart from commands.ts so that `check` can build its target, and start the routes' DNS and TCP
 * (src/probes/head-start.ts), before the runner, the catalogue and the reporters are loaded (issue 16).
 */
import { fieldFields, type FieldArgs } from './field-args.js';
import { UsageError } from './errors.js';
import { defaultTopicFor, parseKeepalive, parseTopic } from './flag-limits.js';
import { resolveSiteProfile, siteProfileRoutes } from './site-profile.js';
import {
  parseClientId,
  parseConnectTo,
  parseDnsServer,
  parseEndpoint,
  parseResolve,
  parseRoutes,
  parseTimeout,
  parseRegion,
  regionFromEndpoint,
  type CredentialProviderTarget,
  type Target,
} from './target.js';
import {
  credentialProviderFromArgs,
  customAuthFromArgs,
  defaultAuthRoutes,
  requireSigningInput,
  withSecretEnv,
  parseThingName,
  type AuthRouteArgs,
} from './auth-target.js';

/** The flags of `check` (and of `demo`, which fills them from its lab), as the command line parsed them. */
export interface CommonCheckArgs extends FieldArgs, AuthRouteArgs {
  endpoint?: string;
  cert?: string;
  key?: string;
  ca?: string;
  'key-passphrase'?: string;
  routes?: string[];
  timeout?: number;
  'connect-to'?: string[];
  resolve?: string[];
  'dns-server'?: string;
  'client-id'?: string;
  topic?: string;
  'mqtt-version'?: string;
  keepalive?: number;
  'warn-days'?: number;
  region?: string;
  /** `--profile`: the AWS profile for the cloud checks (not `--site-profile`). */
  profile?: string;
  protocol?: boolean;
  cloud?: boolean;
  'api-endpoint'?: string;
  'certificate-id'?: string;
  'site-profile'?: string;
  'log-group'?: string;
  logs?: boolean;
  'hold-ms'?: number;
}

function parseApiEndpoint(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    return value;
  } catch {
    throw new UsageError(`--api-endpoint must be a URL such as https://iot.eu-west-1.amazonaws.com, got "${value}"`);
  }
}

function parseCertificateId(value: string): string {
  const id = value.trim().replace(/^0x/i, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(id))
    throw new UsageError(
      `--certificate-id must be the 64-hex AWS IoT certificate id (SHA-256 of the DER), got "${value}"`,
    );
  return id;
}

/** The credential-file flags (`check` and `cert`). */
export type CredentialArgs = {
  cert?: string;
  key?: string;
  ca?: string;
  'key-passphrase'?: string;
  'warn-days'?: number;
};

/**
 * The credential files, the key passphrase (flag or IOT_DOCTOR_KEY_PASSPHRASE) and the expiry warning window. Throws
 * `UsageError` for a negative `--warn-days`.
 */
export function credentialFields(
  args: CredentialArgs,
): Pick<Target, 'certPath' | 'keyPath' | 'caPath' | 'keyPassphrase' | 'warnDays'> {
  const warnDays = args['warn-days'] ?? 30;
  if (!Number.isFinite(warnDays) || warnDays < 0)
    throw new UsageError(`--warn-days must be zero or more, got ${warnDays}`);
  const passphrase = args['key-passphrase'] ?? process.env.IOT_DOCTOR_KEY_PASSPHRASE;
  return {
    ...(args.cert ? { certPath: args.cert } : {}),
    ...(args.key ? { keyPath: args.key } : {}),
    ...(args.ca ? { caPath: args.ca } : {}),
    ...(passphrase ? { keyPassphrase: passphrase } : {}),
    warnDays,
  };
}

/**
 * Builds the run's `Target` from the `check` flags. Each value is validated by its parser in target.ts; any problem
 * throws `UsageError` with one line naming the flag. Routes: `--routes`, else those the site profile names, else all.
 */
export function targetFromArgs(given: CommonCheckArgs): Target {
  const args = withSecretEnv(given, process.env, [given.routes ?? []].flat());
  if (!args.endpoint)
    throw new UsageError(
      '--endpoint is required (the iot:Data-ATS endpoint, e.g. abc123-ats.iot.eu-west-1.amazonaws.com)',
    );
  const endpoint = parseEndpoint(args.endpoint);
  const { clientId, fromUser } = parseClientId(args['client-id']);
  const mqttVersion = args['mqtt-version'] ?? '3.1.1';
  if (mqttVersion !== '3.1.1' && mqttVersion !== '5')
    throw new UsageError(`--mqtt-version must be 3.1.1 or 5, got ${mqttVersion}`);
  const keepalive = parseKeepalive(args.keepalive);
  const topic = args.topic === undefined ? defaultTopicFor(clientId) : parseTopic(args.topic);
  const region = args.region !== undefined ? parseRegion(args.region) : regionFromEndpoint(endpoint);
  const routes = parseRoutes(
    args.routes ?? (args['site-profile'] ? siteProfileRoutes(resolveSiteProfile(args['site-profile'])) : undefined),
    defaultAuthRoutes(args),
  );
  const customAuth = customAuthFromArgs(args);
  if (routes.includes('mqtt-custom-auth-443') && !customAuth) {
    throw new UsageError(
      'the mqtt-custom-auth-443 route needs --authorizer, --token, --username or --password (or IOT_DOCTOR_PASSWORD)',
    );
  }
  requireSigningInput(routes, args.profile);
  return {
    endpoint,
    routes,
    connectTo: (args['connect-to'] ?? []).map(parseConnectTo),
    resolve: (args.resolve ?? []).map(parseResolve),
    ...(args['dns-server'] ? { dnsServer: parseDnsServer(args['dns-server']) } : {}),
    ...credentialFields(args),
    clientId,
    clientIdFromUser: fromUser,
    topic,
    topicFromUser: args.topic !== undefined,
    mqttVersion: mqttVersion === '5' ? 5 : 4,
    keepaliveSeconds: keepalive,
    timeoutMs: parseTimeout(args.timeout),
    protocol: args.protocol ?? true,
    cloud: args.cloud ?? true,
    ...(args['api-endpoint'] ? { apiEndpoint: parseApiEndpoint(args['api-endpoint']) } : {}),
    ...(args['certificate-id'] ? { certificateId: parseCertificateId(args['certificate-id']) } : {}),
    ...(region ? { region } : {}),
    ...(args.profile ? { awsProfile: args.profile } : {}),
    ...withCredentialProvider(credentialProviderFromArgs(args)),
    ...(customAuth ? { customAuth } : {}),
    ...signingRegionOf(args.region),
    ...recordFields(args),
    ...fieldFields(args, endpoint),
  };
}

/**
 * The flags about AWS's records and takeovers: --thing-name, --log-group, --no-logs, --hold-ms (0-60000 ms).
 * Throws `UsageError` naming the flag on a bad value.
 */
function recordFields(args: CommonCheckArgs): Pick<Target, 'thingName' | 'logGroup' | 'noLogs' | 'holdMs'> {
  const hold = args['hold-ms'];
  if (hold !== undefined && (!Number.isInteger(hold) || hold < 0 || hold > 60_000))
    throw new UsageError(`--hold-ms must be 0..60000 milliseconds, got ${hold}`);
  const name = parseThingName(args['thing-name']);
  const group = args['log-group'];
  if (group !== undefined && !/^[.\-_/#A-Za-z0-9]{1,512}$/.test(group))
    throw new UsageError(`--log-group must be a CloudWatch Logs group name, got "${group}"`);
  return {
    ...(name ? { thingName: name } : {}),
    ...(group ? { logGroup: group } : {}),
    ...(args.logs === false ? { noLogs: true } : {}),
    ...(hold !== undefined ? { holdMs: hold } : {}),
  };
}

/**
 * The region SigV4 signs with when one is set: `--region`, else `AWS_REGION` (field notes §4.1; the SDKs' order).
 * @throws UsageError when the value is not an AWS region name (parseRegion).
 */
function signingRegionOf(flag: string | undefined): Pick<Target, 'signingRegion' | 'signingRegionFrom'> {
  if (flag) return { signingRegion: parseRegion(flag), signingRegionFrom: '--region' };
  const env = process.env['AWS_REGION'];
  return env ? { signingRegion: parseRegion(env, 'AWS_REGION'), signingRegionFrom: 'AWS_REGION' } : {};
}

function withCredentialProvider(c: CredentialProviderTarget | undefined): Pick<Target, 'credentials'> {
  return c ? { credentials: c } : {};
}
