/**
 * The flags of the routes that do not use the data endpoint's mTLS: the credential provider (`--role-alias`,
 * `--thing-name`, `--credentials-endpoint`; field notes §6) and custom authentication (`--authorizer`, `--token`,
 * `--token-key-name`, `--token-signature` or `--token-signing-key`, `--username`, `--password`; field notes §5). Each
 * parser throws `UsageError` with one line, which never repeats a token, a password or key material.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { errorMessage, UsageError } from './errors.js';
import { readInputFile } from './input-file.js';
import { ROUTES, type RouteId } from './model/index.js';
import { credentialSourceHint, halfKeyPair, signingCredentialSource } from './probes/iot-api/aws-credentials.js';
import { parseEndpoint, type CredentialProviderTarget, type CustomAuthTarget } from './target.js';

/** The flags as the command line parsed them. */
export interface AuthRouteArgs {
  'role-alias'?: string;
  'thing-name'?: string;
  'credentials-endpoint'?: string;
  authorizer?: string;
  token?: string;
  'token-key-name'?: string;
  'token-signature'?: string;
  'token-signing-key'?: string;
  username?: string;
  password?: string;
  /** `--no-cloud` (false): then `mqtt-wss-443` is not added by default. */
  cloud?: boolean;
  /** `--profile`: the AWS profile that signs `mqtt-wss-443`. */
  profile?: string;
}

/**
 * Environment variables that stand in for the secret flags, as `IOT_DOCTOR_KEY_PASSPHRASE` does for
 * `--key-passphrase`: a command line is visible to every local user in `ps` and `/proc/<pid>/cmdline`, the environment
 * of another user's process is not. The flag wins over its variable; an empty variable counts as unset.
 */
export const SECRET_ENV = {
  token: 'IOT_DOCTOR_TOKEN',
  'token-signature': 'IOT_DOCTOR_TOKEN_SIGNATURE',
  password: 'IOT_DOCTOR_PASSWORD',
} as const;

/**
 * `args` with `--token`, `--token-signature` and `--password` taken from `SECRET_ENV` where the flag is absent. A
 * variable only supplies a value; it never selects the custom-authentication route by itself (an exported variable
 * must not change every later run): the token is taken when `--token-key-name` is given (the token travels under
 * it), the signature when a token is given and `--token-signing-key` is not, the password when another
 * custom-authentication flag is given or `routes` (the `--routes` words) names `mqtt-custom-auth-443`.
 */
export function withSecretEnv<T extends AuthRouteArgs>(
  args: T,
  env: Record<string, string | undefined>,
  routes: readonly string[] = [],
): T {
  const fromEnv = (name: string): string | undefined => (env[name] ? env[name] : undefined);
  const out: T = { ...args };
  const token = fromEnv(SECRET_ENV.token);
  if (out.token === undefined && out['token-key-name'] !== undefined && token !== undefined) out.token = token;
  const signature = fromEnv(SECRET_ENV['token-signature']);
  if (out['token-signature'] === undefined && out['token-signing-key'] === undefined && out.token !== undefined) {
    if (signature !== undefined) out['token-signature'] = signature;
  }
  const password = fromEnv(SECRET_ENV.password);
  const routed = routes.some((r) => r.split(/[\s,]+/).includes('mqtt-custom-auth-443'));
  if (out.password === undefined && password !== undefined && (wantsCustomAuth(out) || routed)) out.password = password;
  return out;
}

/** Authorizer names: 1–128 of `[\w=,@-]` (AWS CreateAuthorizer `authorizerName` pattern). */
const AUTHORIZER_NAME = /^[\w=,@-]{1,128}$/;
/** Token key names: `[a-zA-Z0-9_-]+` (AWS `tokenKeyName`, field notes §5.5), at most 128 here. */
const TOKEN_KEY_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
/** TestInvokeAuthorizer's `token` limit (field notes §5.5): 6144 characters. */
const MAX_TOKEN = 6144;
/**
 * An MQTT string is at most 65535 bytes (MQTT 3.1.1 §1.5.3); the username carries every value. The password is
 * binary data with the same two-byte length prefix, so the same cap (§3.1.3.5).
 */
const MAX_MQTT_STRING = 65535;
/** Key files bigger than this are not keys. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

/** Role alias names: 1–128 of `[\w=,@-]` (AWS CreateRoleAlias `roleAlias` pattern). */
const ROLE_ALIAS = /^[\w=,@-]{1,128}$/;
/** Thing names: 1–128 of `[a-zA-Z0-9:_-]` (AWS CreateThing `thingName` pattern). */
const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

/** The name rules of role aliases and things, as usage errors state them. */
export const ROLE_ALIAS_RULE = '[A-Za-z0-9_=,@-], 1-128';
export const THING_NAME_RULE = '[A-Za-z0-9:_-], 1-128';

/** True for a name AWS CreateRoleAlias accepts: 1–128 of `[\w=,@-]`. */
export function isRoleAliasName(name: string): boolean {
  return ROLE_ALIAS.test(name);
}

/** True for a name AWS CreateThing accepts: 1–128 of `[a-zA-Z0-9:_-]`. */
export function isThingName(name: string): boolean {
  return THING_NAME.test(name);
}

/**
 * `--thing-name`, validated: one option for both its uses (the credential provider's `x-amzn-iot-thingname` header
 * and the thing cloud.connectivity asks about). Throws `UsageError` with one line on a name AWS would refuse.
 */
export function parseThingName(thing: string | undefined): string | undefined {
  if (thing !== undefined && !isThingName(thing))
    throw new UsageError(`--thing-name "${thing}" is not a thing name (${THING_NAME_RULE})`);
  return thing;
}

/**
 * The credential-provider target, or undefined without `--role-alias`. `--credentials-endpoint` without
 * `--role-alias` is a usage error (it would silently do nothing); `--thing-name` alone is not: cloud.connectivity
 * reads it too.
 */
export function credentialProviderFromArgs(args: AuthRouteArgs): CredentialProviderTarget | undefined {
  const alias = args['role-alias'];
  if (alias === undefined) {
    if (args['credentials-endpoint'])
      throw new UsageError('--credentials-endpoint is used by the credentials-443 route: give --role-alias too');
    return undefined;
  }
  if (!isRoleAliasName(alias))
    throw new UsageError(`--role-alias "${alias}" is not a role alias name (${ROLE_ALIAS_RULE})`);
  const thing = parseThingName(args['thing-name']);
  const endpoint = args['credentials-endpoint'];
  return {
    roleAlias: alias,
    ...(thing !== undefined ? { thingName: thing } : {}),
    ...(endpoint ? { endpoint: parseEndpoint(endpoint).replace('--endpoint', '--credentials-endpoint') } : {}),
  };
}

/**
 * Route kinds a run adds by default because of these flags: `credentials-443` with `--role-alias`,
 * `mqtt-custom-auth-443` with any of `--authorizer`, `--token`, `--username`, `--password`, and `mqtt-wss-443` when
 * AWS credentials are available to sign it (`signingCredentialSource`: environment and shared files, no network;
 * issue 13 "Routes") unless `--no-cloud` says to leave AWS alone.
 */
export function defaultAuthRoutes(args: AuthRouteArgs, env: NodeJS.ProcessEnv = process.env): string[] {
  const signs = args.cloud !== false && signingCredentialSource(args.profile ? { awsProfile: args.profile } : {}, env);
  return [
    ...(args['role-alias'] !== undefined ? ['credentials-443'] : []),
    ...(wantsCustomAuth(args) ? ['mqtt-custom-auth-443'] : []),
    ...(signs ? ['mqtt-wss-443'] : []),
  ];
}

/**
 * Refuses a run whose every route signs with SigV4 (`mqtt-wss-443`) when no AWS credential source exists at all
 * (`credentialSourceHint`: environment keys, a profile, the shared files, web identity, container credentials, an EC2
 * instance; no SDK, no network): such a run could test nothing, and a report of skips with exit 0 would read as a
 * healthy network. Throws `UsageError` with one line naming what is missing and how to give it. A run with another
 * route too keeps the route's warning cell (UPGRADE_NO_SIGNING_INPUT); a source that exists but fails to resolve is
 * known only at run time, where that cell becomes an error when no other route runs (checks/stages/upgrade.ts).
 */
export function requireSigningInput(
  routes: readonly RouteId[],
  profile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (!routes.length || routes.some((id) => ROUTES[id]?.auth !== 'sigv4')) return;
  if (credentialSourceHint(profile ? { awsProfile: profile } : {}, env)) return;
  throw new UsageError(
    `${routes.join(', ')} signs its WebSocket URL with AWS credentials (SigV4) and there are none${halfKeys(env)}: ` +
      `${HOW_TO_GIVE_CREDENTIALS}; or add a route that needs none (--routes mqtt-8883,${routes.join(',')})`,
  );
}

const HOW_TO_GIVE_CREDENTIALS =
  'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give --profile NAME, or run aws configure';

/** ` (AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not)` or the reverse (`halfKeyPair`); else ''. */
function halfKeys(env: NodeJS.ProcessEnv): string {
  const half = halfKeyPair(env);
  return half ? ` (${half})` : '';
}

/**
 * Refuses a run made only of cloud checks (`--cloud-only`, `--from report.json`; `flag` names it) when no AWS
 * credential source exists at all (`credentialSourceHint`, as above): every check would skip, and a report of skips
 * with exit 0 would read as an account in order. Throws `UsageError` with one line naming what is missing and how to
 * give it; a source that exists but fails to resolve is reported by cloud.credentials at run time.
 */
export function requireCloudCredentials(
  flag: string,
  profile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (credentialSourceHint(profile ? { awsProfile: profile } : {}, env)) return;
  throw new UsageError(
    `${flag} asks the AWS IoT API about the device and needs AWS credentials, and there are none${halfKeys(env)}: ` +
      `${HOW_TO_GIVE_CREDENTIALS}`,
  );
}

/** True when a custom-authentication flag is given: the `mqtt-custom-auth-443` route is then part of the run. */
function wantsCustomAuth(args: AuthRouteArgs): boolean {
  return [args.authorizer, args.token, args.username, args.password].some((v) => v !== undefined);
}

/**
 * The base64 RSA-SHA256 signature of `token` with the PEM (or DER) private key in `file`, as the AWS docs make it with
 * `openssl dgst -sha256 -sign key | base64` (field notes §5.3). Throws `UsageError` (file unreadable, not a key, not
 * RSA) without echoing the file's content.
 */
export function signToken(token: string, file: string): string {
  // Regular files only, bounded: a FIFO or /dev/zero given as the key is named, never waited on or read whole.
  const data = readInputFile(file, {
    label: 'the token signing key',
    flag: '--token-signing-key',
    maxBytes: MAX_KEY_FILE_BYTES,
  });
  let key: ReturnType<typeof createPrivateKey>;
  try {
    const pem = data.includes('-----BEGIN');
    key = pem ? createPrivateKey(data) : createPrivateKey({ key: data, format: 'der', type: 'pkcs8' });
  } catch {
    throw new UsageError(`--token-signing-key ${file} is not a private key (PEM or PKCS#8 DER), or it is encrypted`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new UsageError(
      `--token-signing-key ${file} is a ${key.asymmetricKeyType ?? 'non-RSA'} key: AWS signs tokens with RSA`,
    );
  }
  return sign('sha256', Buffer.from(token, 'utf8'), key).toString('base64');
}

function checkTokenArgs(args: AuthRouteArgs): void {
  const { token } = args;
  const keyName = args['token-key-name'];
  if (args['token-signature'] !== undefined && args['token-signing-key'] !== undefined) {
    throw new UsageError('give either --token-signature or --token-signing-key, not both');
  }
  if (token === undefined) {
    const orphan =
      keyName !== undefined
        ? '--token-key-name'
        : args['token-signature'] !== undefined
          ? '--token-signature'
          : args['token-signing-key'] !== undefined
            ? '--token-signing-key'
            : '';
    if (orphan) throw new UsageError(`${orphan} goes with a token: give --token (or IOT_DOCTOR_TOKEN) too`);
    return;
  }
  if (token === '' || token.length > MAX_TOKEN) throw new UsageError(`--token must be 1-${MAX_TOKEN} characters`);
  if (keyName === undefined) {
    throw new UsageError("--token needs --token-key-name (the authorizer's tokenKeyName the token travels under)");
  }
  if (!TOKEN_KEY_NAME.test(keyName))
    throw new UsageError(`--token-key-name "${keyName}" is not a token key name ([A-Za-z0-9_-])`);
  const sig = args['token-signature'];
  if (sig !== undefined && !/^[A-Za-z0-9+/]+={0,2}$/.test(sig)) {
    throw new UsageError('--token-signature must be base64 (the RSA-SHA256 signature of the token)');
  }
}

/**
 * The custom-authentication target, or undefined when no custom-authentication flag is given. Rules: `--token` needs
 * `--token-key-name`; `--token-signature` and `--token-signing-key` exclude each other and need `--token`; the whole
 * username must fit an MQTT string and the password MQTT's binary data (≤ 65535 bytes). The signing key is read and used here and not kept.
 */
export function customAuthFromArgs(args: AuthRouteArgs): CustomAuthTarget | undefined {
  checkTokenArgs(args);
  if (!wantsCustomAuth(args)) return undefined;
  const name = args.authorizer;
  if (name !== undefined && !AUTHORIZER_NAME.test(name)) {
    throw new UsageError(`--authorizer "${name}" is not an authorizer name ([A-Za-z0-9_=,@-], 1-128)`);
  }
  const keyFile = args['token-signing-key'];
  const signature = keyFile !== undefined ? signToken(args.token!, keyFile) : args['token-signature'];
  const out: CustomAuthTarget = {
    ...(name !== undefined ? { authorizer: name } : {}),
    ...(args.token !== undefined ? { token: args.token, tokenKeyName: args['token-key-name']! } : {}),
    ...(signature !== undefined ? { signature, signatureFrom: keyFile !== undefined ? 'signing-key' : 'flag' } : {}),
    ...(args.username !== undefined ? { username: args.username } : {}),
    ...(args.password !== undefined ? { password: args.password } : {}),
  };
  if (args.password !== undefined && Buffer.byteLength(args.password, 'utf8') > MAX_MQTT_STRING) {
    throw new UsageError(
      `--password (or IOT_DOCTOR_PASSWORD) is ${Buffer.byteLength(args.password, 'utf8')} bytes; an MQTT password ` +
        `is at most ${MAX_MQTT_STRING} (MQTT 3.1.1 §3.1.3.5)`,
    );
  }
  if (Buffer.byteLength(customAuthUsername(out)) > MAX_MQTT_STRING) {
    throw new UsageError(
      'the MQTT username (--username with the authorizer name, signature and token) exceeds 65535 bytes',
    );
  }
  return out;
}

/**
 * The MQTT username of a custom-authentication CONNECT (field notes §5.2):
 * `<user>?x-amz-customauthorizer-name=<name>&x-amz-customauthorizer-signature=<sig>&<tokenKeyName>=<token>`, each value
 * URL-encoded (the signature's `+`, `/`, `=` must be), parameters that were not given left out, no `?` without any.
 */
export function customAuthUsername(c: CustomAuthTarget): string {
  const query: string[] = [];
  if (c.authorizer !== undefined) query.push(`x-amz-customauthorizer-name=${encodeURIComponent(c.authorizer)}`);
  if (c.signature !== undefined) query.push(`x-amz-customauthorizer-signature=${encodeURIComponent(c.signature)}`);
  if (c.token !== undefined && c.tokenKeyName) query.push(`${c.tokenKeyName}=${encodeURIComponent(c.token)}`);
  const user = c.username ?? '';
  return query.length ? `${user}?${query.join('&')}` : user;
}
