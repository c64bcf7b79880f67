/**
 * `mqtt-wss-443` joins a run by default when AWS credentials are available to sign it (issue 13 "Routes"), decided
 * from the environment and the shared files only; `--no-cloud` and `--routes` keep their meaning.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultAuthRoutes } from '../../src/auth-target.js';
import { envSigningKeys, signingCredentialSource } from '../../src/probes/iot-api/aws-credentials.js';
import { parseRoutes } from '../../src/target.js';

const home = mkdtempSync(join(tmpdir(), 'iot-doctor-wss-home-'));
const savedHome = process.env.HOME;
process.env.HOME = home;
afterAll(() => {
  process.env.HOME = savedHome;
  rmSync(home, { recursive: true, force: true });
});

const file = (name: string, text: string): string => {
  const path = join(home, name);
  writeFileSync(path, text);
  return path;
};
// Shared files that do not exist unless a test names real ones.
const bare = { AWS_CONFIG_FILE: join(home, 'none-config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'none-creds') };

describe('signingCredentialSource: credentials to sign the WebSocket URL with, without the SDK or the network', () => {
  it('none: undefined (the run keeps the four mTLS routes)', () => {
    expect(signingCredentialSource({}, bare)).toBeUndefined();
    expect(signingCredentialSource({}, { ...bare, AWS_ACCESS_KEY_ID: 'AKID' })).toBeUndefined();
    expect(signingCredentialSource({}, { ...bare, AWS_WEB_IDENTITY_TOKEN_FILE: '/t' })).toBeUndefined();
  });

  it('environment keys, a profile, web identity with its role, container credentials', () => {
    expect(signingCredentialSource({}, { ...bare, AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 's' })).toBe('env');
    expect(signingCredentialSource({ awsProfile: 'support' }, bare)).toBe('profile');
    expect(signingCredentialSource({}, { ...bare, AWS_PROFILE: 'support' })).toBe('profile');
    const webIdentity = { ...bare, AWS_WEB_IDENTITY_TOKEN_FILE: '/t', AWS_ROLE_ARN: 'arn:aws:iam::1:role/r' };
    expect(signingCredentialSource({}, webIdentity)).toBe('web-identity');
    const container = { ...bare, AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:1/c' };
    expect(signingCredentialSource({}, container)).toBe('container');
  });

  it('shared files count only with a default profile that holds a credential setting', () => {
    const regionOnly = file('config-region', '[default]\nregion = eu-west-1\n');
    expect(signingCredentialSource({}, { ...bare, AWS_CONFIG_FILE: regionOnly })).toBeUndefined();
    const otherProfile = file('creds-other', '[work]\naws_access_key_id = AKID\naws_secret_access_key = s\n');
    expect(signingCredentialSource({}, { ...bare, AWS_SHARED_CREDENTIALS_FILE: otherProfile })).toBeUndefined();
    const creds = file('creds', '# keys\n[ default ]\r\naws_access_key_id=AKID\r\naws_secret_access_key = s\r\n');
    expect(signingCredentialSource({}, { ...bare, AWS_SHARED_CREDENTIALS_FILE: creds })).toBe('shared-files');
    const sso = file(
      'config-sso',
      '[profile default]\nsso_session = corp\n[sso-session corp]\nsso_region = eu-west-1\n',
    );
    expect(signingCredentialSource({}, { ...bare, AWS_CONFIG_FILE: sso })).toBe('shared-files');
    // A "default" section of the config file that is not a profile (an sso-session named default) does not count.
    const session = file('config-session', '[sso-session default]\nsso_start_url = https://x\n');
    expect(signingCredentialSource({}, { ...bare, AWS_CONFIG_FILE: session })).toBeUndefined();
  });

  it('~/.aws/credentials is read when AWS_SHARED_CREDENTIALS_FILE is unset', () => {
    mkdirSync(join(home, '.aws'), { recursive: true });
    writeFileSync(join(home, '.aws', 'credentials'), '[default]\naws_access_key_id = AKID\n');
    expect(signingCredentialSource({}, {})).toBe('shared-files');
    rmSync(join(home, '.aws'), { recursive: true });
    expect(signingCredentialSource({}, {})).toBeUndefined();
  });
});

describe('the routes of a run', () => {
  const keys = { ...bare, AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 's' };

  it('with credentials: mqtt-wss-443 after the four mTLS routes; without: the four alone', () => {
    expect(parseRoutes(undefined, defaultAuthRoutes({}, keys))).toEqual([
      'mqtt-8883',
      'mqtt-443',
      'https-8443',
      'https-443',
      'mqtt-wss-443',
    ]);
    expect(parseRoutes(undefined, defaultAuthRoutes({}, bare))).toEqual([
      'mqtt-8883',
      'mqtt-443',
      'https-8443',
      'https-443',
    ]);
  });

  it('--no-cloud leaves it out; --routes still chooses any subset', () => {
    expect(defaultAuthRoutes({ cloud: false }, keys)).toEqual([]);
    expect(parseRoutes(['mqtt-8883'], defaultAuthRoutes({}, keys))).toEqual(['mqtt-8883']);
    expect(parseRoutes(['mqtt-wss-443'], defaultAuthRoutes({}, bare))).toEqual(['mqtt-wss-443']);
  });

  it('--profile adds it (the cell says so when the profile then has no credentials)', () => {
    expect(defaultAuthRoutes({ profile: 'support' }, bare)).toEqual(['mqtt-wss-443']);
  });
});

describe('envSigningKeys: the static keys the SDK would take first', () => {
  it('keys and session token from the environment; none when a profile is named or a key is missing', () => {
    const env = { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't' };
    expect(envSigningKeys({}, env)).toEqual({ accessKeyId: 'AKID', secretAccessKey: 's', sessionToken: 't' });
    expect(envSigningKeys({}, { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 's' })).toEqual({
      accessKeyId: 'AKID',
      secretAccessKey: 's',
    });
    expect(envSigningKeys({ awsProfile: 'p' }, env)).toBeUndefined();
    expect(envSigningKeys({}, { ...env, AWS_PROFILE: 'p' })).toBeUndefined();
    expect(envSigningKeys({}, { AWS_ACCESS_KEY_ID: 'AKID' })).toBeUndefined();
  });
});
