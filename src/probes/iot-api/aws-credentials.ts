/**
 * The AWS credentials side of the cloud checks: whether any source exists (decided without the SDK), loading the SDK
 * lazily, and naming the source the SDK's chain used. Nothing here reads, prints or stores a key.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Target } from '../../target.js';
import type { Sdk } from './types.js';

function nonEmptyFile(path: string): boolean {
  try {
    return statSync(path).size > 0;
  } catch {
    return false;
  }
}

/** True on an EC2 instance (where an instance role may provide credentials), read from the DMI/hypervisor ids. */
function onEc2(): boolean {
  for (const [path, re] of [
    ['/sys/devices/virtual/dmi/id/sys_vendor', /amazon/i],
    ['/sys/devices/virtual/dmi/id/board_vendor', /amazon/i],
    ['/sys/hypervisor/uuid', /^ec2/i],
  ] as const) {
    try {
      if (re.test(readFileSync(path, 'utf8'))) return true;
    } catch {
      // not there: try the next one
    }
  }
  return false;
}

/**
 * The credential sources the environment names by itself, in the SDK chain's order: static keys (`env`), a profile
 * (`--profile`, `AWS_PROFILE`), web identity (`AWS_WEB_IDENTITY_TOKEN_FILE`, with `AWS_ROLE_ARN` when
 * `webIdentityNeedsRole`), container credentials. Undefined: none of them.
 */
function environmentSource(
  target: Pick<Target, 'awsProfile'>,
  env: NodeJS.ProcessEnv,
  webIdentityNeedsRole: boolean,
): string | undefined {
  if (env['AWS_ACCESS_KEY_ID'] && env['AWS_SECRET_ACCESS_KEY']) return 'env';
  if (target.awsProfile || env['AWS_PROFILE']) return 'profile';
  if (env['AWS_WEB_IDENTITY_TOKEN_FILE'] && (!webIdentityNeedsRole || env['AWS_ROLE_ARN'])) return 'web-identity';
  if (env['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'] || env['AWS_CONTAINER_CREDENTIALS_FULL_URI']) return 'container';
  return undefined;
}

/**
 * Where AWS credentials could come from, decided without loading the SDK: environment keys, a profile, the shared
 * config/credentials files, web identity or container credentials, or an EC2 instance role. Undefined: there are
 * none, and the cloud checks skip without paying for the SDK or waiting on the instance metadata address.
 */
export function credentialSourceHint(
  target: Pick<Target, 'awsProfile'>,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const named = environmentSource(target, env, false);
  if (named) return named;
  const aws = join(homedir(), '.aws');
  if (
    nonEmptyFile(env['AWS_SHARED_CREDENTIALS_FILE'] ?? join(aws, 'credentials')) ||
    nonEmptyFile(env['AWS_CONFIG_FILE'] ?? join(aws, 'config'))
  ) {
    return 'shared-files';
  }
  if (env['AWS_EC2_METADATA_DISABLED'] !== 'true' && onEc2()) return 'instance';
  return undefined;
}

/**
 * Which half of an environment key pair is missing: `AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not` or
 * the reverse; undefined when both or neither are set. Names the variables only, never a value.
 */
export function halfKeyPair(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['AWS_ACCESS_KEY_ID'] && !env['AWS_SECRET_ACCESS_KEY'])
    return 'AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not';
  if (env['AWS_SECRET_ACCESS_KEY'] && !env['AWS_ACCESS_KEY_ID'])
    return 'AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not';
  return undefined;
}

let sdkImport: Promise<Sdk> | undefined;
/** Import the SDK once. The run calls this before the routes start, so its parse time never lands in their timings. */
export function loadIotSdk(): Promise<Sdk> {
  // The SDK warns on every Node 20 start that future releases will need Node 22: noise on a diagnostic tool's stderr.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  // Off EC2 there is no instance role: never let the credential chain wait on the metadata address.
  if (!onEc2()) process.env['AWS_EC2_METADATA_DISABLED'] ??= 'true';
  sdkImport ??= import('./iot-sdk.js');
  return sdkImport;
}

/** Credential source kind from the SDK's credential feature markers (never the credentials themselves). */
export function sourceKind(sourceMarks: Record<string, unknown> | undefined, profile: string): string {
  const marks = new Set(Object.keys(sourceMarks ?? {}));
  if (
    marks.has('CREDENTIALS_PROFILE_SSO') ||
    marks.has('CREDENTIALS_PROFILE_SSO_LEGACY') ||
    marks.has('CREDENTIALS_SSO') ||
    marks.has('CREDENTIALS_SSO_LEGACY')
  ) {
    return 'sso';
  }
  if (
    marks.has('CREDENTIALS_PROFILE') ||
    marks.has('CREDENTIALS_PROFILE_SOURCE_PROFILE') ||
    marks.has('CREDENTIALS_PROFILE_NAMED_PROVIDER') ||
    marks.has('CREDENTIALS_PROFILE_PROCESS') ||
    marks.has('CREDENTIALS_PROFILE_STS_WEB_ID_TOKEN') ||
    marks.has('CREDENTIALS_PROFILE_LOGIN')
  ) {
    return `profile:${profile}`;
  }
  if (marks.has('CREDENTIALS_ENV_VARS')) return 'env';
  if (marks.has('CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN')) return 'web-identity';
  if (marks.has('CREDENTIALS_PROCESS')) return 'process';
  if (marks.has('CREDENTIALS_HTTP')) return 'container';
  if (marks.has('CREDENTIALS_LOGIN')) return 'login';
  if (marks.has('CREDENTIALS_CODE')) return 'code';
  if (process.env['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'] || process.env['AWS_CONTAINER_CREDENTIALS_FULL_URI'])
    return 'container';
  return 'instance';
}

/** Shared-file keys that make a profile a credential source (AWS SDKs and Tools reference, "Config file settings"). */
const PROFILE_CREDENTIAL_KEYS = new Set([
  'aws_access_key_id',
  'credential_process',
  'sso_session',
  'sso_start_url',
  'role_arn',
  'web_identity_token_file',
  'credential_source',
]);
/** A shared config or credentials file larger than this is not read at start-up (real ones are a few KiB). */
const SHARED_FILE_CAP = 1024 * 1024;

/** True when the INI file at `path` has a section named one of `sections` with a credential key in it. */
function sectionHasCredentials(path: string, sections: readonly string[]): boolean {
  let text: string;
  try {
    if (statSync(path).size > SHARED_FILE_CAP) return false;
    text = readFileSync(path, 'utf8');
  } catch {
    return false;
  }
  let inSection = false;
  for (const line of text.split(/\r?\n/)) {
    const head = /^\s*\[\s*([^\]]*?)\s*\]/.exec(line);
    if (head) inSection = sections.includes(head[1]!.replace(/\s+/g, ' '));
    else if (inSection && PROFILE_CREDENTIAL_KEYS.has(/^\s*([\w-]+)\s*=/.exec(line)?.[1]?.toLowerCase() ?? '')) {
      return true;
    }
  }
  return false;
}

/**
 * Whether the run has AWS credentials to sign `mqtt-wss-443`'s WebSocket URL with, decided from the environment and
 * the shared files only (no SDK, no network: the routes' first SYN must not wait for it): `AWS_ACCESS_KEY_ID` with
 * `AWS_SECRET_ACCESS_KEY`; a profile (`--profile`, `AWS_PROFILE`); `AWS_WEB_IDENTITY_TOKEN_FILE` with `AWS_ROLE_ARN`;
 * container credentials (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`/`_FULL_URI`); or a `default` profile with a
 * credential key in the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, `~/.aws/credentials`) or config
 * file (`AWS_CONFIG_FILE`, `~/.aws/config`). An EC2 instance role is not counted: finding it would mean asking the
 * instance metadata service. Returns the source's name, or undefined when there is none.
 */
export function signingCredentialSource(
  target: Pick<Target, 'awsProfile'>,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const named = environmentSource(target, env, true);
  if (named) return named;
  const aws = join(homedir(), '.aws');
  if (sectionHasCredentials(env['AWS_SHARED_CREDENTIALS_FILE'] || join(aws, 'credentials'), ['default'])) {
    return 'shared-files';
  }
  if (sectionHasCredentials(env['AWS_CONFIG_FILE'] || join(aws, 'config'), ['default', 'profile default'])) {
    return 'shared-files';
  }
  return undefined;
}

/**
 * The environment's static keys, as the SDK's first provider (`fromEnv`) reads them: `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` when there is one. Undefined when a profile is named (`--profile`,
 * `AWS_PROFILE`: the SDK then uses the profile) or a key is missing; the caller then asks the SDK's chain. Lets
 * `mqtt-wss-443` sign without waiting for the SDK to load. The values are secrets: never print or store them.
 */
export function envSigningKeys(
  target: Pick<Target, 'awsProfile'>,
  env: NodeJS.ProcessEnv = process.env,
): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined {
  const id = env['AWS_ACCESS_KEY_ID'];
  const secret = env['AWS_SECRET_ACCESS_KEY'];
  if (target.awsProfile || env['AWS_PROFILE'] || !id || !secret) return undefined;
  const token = env['AWS_SESSION_TOKEN'];
  return { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) };
}
