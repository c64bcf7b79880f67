/**
 * Opening a control-plane session: the SDK client, the region and the AWS credentials, each step bounded by the call
 * deadline, or the `ApiFailure` that says why the cloud checks cannot run.
 */
import { statSync } from 'node:fs';
import type { IoTClient, IoTClientConfig } from '@aws-sdk/client-iot';
import { regionFromEndpoint } from '../../target.js';
import { credentialSourceHint, halfKeyPair, loadIotSdk, sourceKind } from './aws-credentials.js';
import { describeProcessFault, processFaultOf, type ProcessFault } from './credential-process.js';
import { oneLine, withDeadline } from './failures.js';
import { warmAgents } from './warm-agent.js';
import type { ApiFailure, ApiFailureKind, CloudSession, IotApiOptions, Sdk } from './types.js';

/** An open session: the loaded SDK, its client and what the session resolved. */
export interface Ready {
  sdk: Sdk;
  client: IoTClient;
  session: CloudSession;
}

/** The outcome of `openSession`. */
export type ReadyOutcome = { ok: true; value: Ready } | ApiFailure;

function fail(kind: ApiFailureKind, errorName: string, message: string): ApiFailure {
  return { ok: false, kind, operation: '', permission: '', errorName, message: oneLine(message) };
}

/**
 * An SDK logger that drops everything but the "multiple credential sources" warning, kept as a note, and the first
 * failed credential_process of the credential chain's debug log, kept in `faults` without the process's output.
 */
function notingLogger(notes: string[], faults: ProcessFault[]): IoTClientConfig['logger'] {
  return {
    debug: (...args: unknown[]): void => {
      const fault = faults.length ? undefined : processFaultOf(args.map(String).join(' '));
      if (fault) faults.push(fault);
    },
    info: (): void => undefined,
    warn: (...args: unknown[]): void => {
      const text = args.map(String).join(' ');
      if (/Multiple credential sources/i.test(text)) {
        notes.push('AWS_PROFILE and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are both set: the SDK uses the profile');
      }
    },
    error: (): void => undefined,
  };
}

/** The region from the options, else from the data endpoint's name (`undefined`: ask the SDK). */
function givenRegion(options: IotApiOptions): { region?: string; regionFrom: CloudSession['regionFrom'] } {
  if (options.region) return { region: options.region, regionFrom: 'target' };
  if (options.dataEndpoint) {
    const region = regionFromEndpoint(options.dataEndpoint);
    return { ...(region ? { region } : {}), regionFrom: 'endpoint-name' };
  }
  return { regionFrom: 'target' };
}

function clientConfig(
  options: IotApiOptions,
  region: string | undefined,
  log: IoTClientConfig['logger'],
  agents: ReturnType<typeof warmAgents>,
): IoTClientConfig {
  const { timeoutMs } = options;
  return {
    retryMode: 'standard',
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      throwOnRequestTimeout: true,
      ...(agents ?? {}),
    },
    logger: log,
    ...(region ? { region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  };
}

/** The SDK's own region (AWS_REGION, the profile), within the deadline; undefined when there is none. */
async function sdkRegion(client: IoTClient, timeoutMs: number): Promise<string | undefined> {
  try {
    return await withDeadline(client.config.region(), timeoutMs, 'region lookup');
  } catch {
    return undefined;
  }
}

interface Identity {
  sourceMarks: Record<string, unknown> | undefined;
  accountId: string | undefined;
}

/**
 * Resolves the AWS credentials through the SDK's chain within the deadline: only their source and account id. When
 * the chain finds nothing and a credential_process failed on the way (`faults`), the failure names it.
 */
async function lookupIdentity(
  client: IoTClient,
  options: IotApiOptions,
  profile: string,
  faults: readonly ProcessFault[],
): Promise<Identity | ApiFailure> {
  try {
    const identity = await withDeadline(client.config.credentials(), options.timeoutMs, 'the AWS credential lookup');
    return {
      sourceMarks: (identity as { $source?: Record<string, unknown> }).$source,
      // An AWS account id is 12 digits; anything else (a mistyped AWS_ACCOUNT_ID) is not used to build ARNs.
      accountId:
        typeof identity.accountId === 'string' && /^\d{12}$/.test(identity.accountId.trim())
          ? identity.accountId.trim()
          : undefined,
    };
  } catch (err) {
    const name = err instanceof Error ? err.name : 'Error';
    const raw = err instanceof Error ? err.message : String(err);
    const noneFound = /Could not load credentials from any providers/i.test(raw);
    const reason = !noneFound
      ? raw
      : faults[0]
        ? describeProcessFault(faults[0])
        : options.profile || process.env['AWS_PROFILE']
          ? `no AWS credentials found for profile "${profile}" ` +
            '(not in the shared config or credentials file, or without usable credentials)'
          : `no AWS credentials found (${missingCredentialsDetail(process.env)}; tried the environment, shared ` +
            'config and credentials files, SSO, container or instance role)';
    return fail('no-credentials', name, reason);
  }
}

/** Where the API endpoint URL comes from when it is overridden: the target, or the SDK's environment variables. */
function endpointOverride(options: IotApiOptions): Pick<CloudSession, 'endpointUrl' | 'endpointFrom'> {
  if (options.endpoint) return { endpointUrl: options.endpoint, endpointFrom: 'target' };
  if (process.env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'] === 'true') return {};
  const iotUrl = process.env['AWS_ENDPOINT_URL_IOT'];
  if (iotUrl) return { endpointUrl: iotUrl, endpointFrom: 'AWS_ENDPOINT_URL_IOT' };
  const url = process.env['AWS_ENDPOINT_URL'];
  if (url) return { endpointUrl: url, endpointFrom: 'AWS_ENDPOINT_URL' };
  return {};
}

/**
 * What the environment lacks for its keys, for the no-credentials message: the missing half when only one of
 * `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` is set, and `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE` named
 * when they point at a directory. Names variables and paths only, never a value of a key.
 */
function missingCredentialsDetail(env: NodeJS.ProcessEnv): string {
  const parts = [halfKeyPair(env) ?? 'no AWS_ACCESS_KEY_ID'];
  for (const name of ['AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE']) {
    const path = env[name];
    if (path && isDirectory(path)) parts.push(`${name} (${JSON.stringify(path)}) is a directory`);
  }
  return parts.join(', ');
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Opens the session of one run: checks that some AWS credential source exists (without the SDK), loads
 * `@aws-sdk/client-iot`, makes a client in standard retry mode (`maxAttempts`, per-request timeouts of `timeoutMs`),
 * resolves the region (options, endpoint name, then the SDK's AWS_REGION/profile) and the AWS credentials through
 * the SDK's chain, each lookup bounded by `timeoutMs` milliseconds.
 * Never throws: a missing credential source or region, an SDK that cannot load or a failed credential lookup is an
 * `ApiFailure` (`no-credentials`, `no-region`, `sdk-unavailable`, `service-error`) with an empty `operation`.
 */
export async function openSession(options: IotApiOptions): Promise<ReadyOutcome> {
  if (!credentialSourceHint({ ...(options.profile ? { awsProfile: options.profile } : {}) })) {
    return fail(
      'no-credentials',
      'NoCredentials',
      `no AWS credentials found (${missingCredentialsDetail(process.env)}, no profile, shared config or credentials ` +
        'file, web identity or container credentials, and not an EC2 instance)',
    );
  }
  // The API's connections open while the SDK loads (warm-agent.ts): the first calls find them ready.
  const agents = warmAgents(options);
  let sdk: Sdk;
  try {
    sdk = await loadIotSdk();
  } catch (err) {
    agents?.httpAgent.destroy();
    agents?.httpsAgent.destroy();
    const why = err instanceof Error ? err.message : String(err);
    return fail('sdk-unavailable', 'ImportError', `@aws-sdk/client-iot could not be loaded: ${why}`);
  }
  const notes: string[] = [];
  const faults: ProcessFault[] = [];
  const profile = options.profile ?? process.env['AWS_PROFILE'] ?? 'default';
  let { region, regionFrom } = givenRegion(options);
  let client: IoTClient;
  try {
    client = new sdk.IoTClient(clientConfig(options, region, notingLogger(notes, faults), agents));
  } catch (err) {
    return fail('service-error', 'ClientError', err instanceof Error ? err.message : String(err));
  }
  if (!region) {
    region = await sdkRegion(client, options.timeoutMs);
    regionFrom = 'aws-config';
    if (!region) {
      client.destroy();
      const message =
        'no AWS region: none given (--region), none in the endpoint name, none in AWS_REGION or the profile';
      return fail('no-region', 'RegionMissing', message);
    }
  }
  const identity = await lookupIdentity(client, options, profile, faults);
  if ('ok' in identity) {
    client.destroy();
    return identity;
  }
  const session: CloudSession = { region, regionFrom, source: sourceKind(identity.sourceMarks, profile), notes };
  if (options.profile || process.env['AWS_PROFILE']) session.profile = profile;
  if (identity.accountId) session.accountId = identity.accountId;
  Object.assign(session, endpointOverride(options));
  return { ok: true, value: { sdk, client, session } };
}
