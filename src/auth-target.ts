/**
 * The flags of the routes that do not use the data endpoint's mTLS: the credential provider (`--role-alias`,
 * `--thing-name`, `--credentials-endpoint`; field notes §6). Each parser throws `UsageError` with one line.
 */
import { UsageError } from './errors.js';
import { parseEndpoint, type CredentialProviderTarget } from './target.js';

/** The flags as yargs parsed them. */
export interface AuthRouteArgs {
  'role-alias'?: string;
  'thing-name'?: string;
  'credentials-endpoint'?: string;
}

/** Role alias names: 1–128 of `[\w=,@-]` (AWS CreateRoleAlias `roleAlias` pattern). */
const ROLE_ALIAS = /^[\w=,@-]{1,128}$/;
/** Thing names: 1–128 of `[a-zA-Z0-9:_-]` (AWS CreateThing `thingName` pattern). */
const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

/**
 * `--thing-name`, validated: one option for both its uses (the credential provider's `x-amzn-iot-thingname` header
 * and the thing cloud.connectivity asks about). Throws `UsageError` with one line on a name AWS would refuse.
 */
export function parseThingName(thing: string | undefined): string | undefined {
  if (thing !== undefined && !THING_NAME.test(thing))
    throw new UsageError(`--thing-name "${thing}" is not a thing name ([A-Za-z0-9:_-], 1-128)`);
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
  if (!ROLE_ALIAS.test(alias))
    throw new UsageError(`--role-alias "${alias}" is not a role alias name ([A-Za-z0-9_=,@-], 1-128)`);
  const thing = parseThingName(args['thing-name']);
  const endpoint = args['credentials-endpoint'];
  return {
    roleAlias: alias,
    ...(thing !== undefined ? { thingName: thing } : {}),
    ...(endpoint ? { endpoint: parseEndpoint(endpoint).replace('--endpoint', '--credentials-endpoint') } : {}),
  };
}

/** Route kinds a run adds by default because of these flags: `credentials-443` with `--role-alias`. */
export function defaultAuthRoutes(args: AuthRouteArgs): string[] {
  return args['role-alias'] !== undefined ? ['credentials-443'] : [];
}
