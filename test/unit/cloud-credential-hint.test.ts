import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { credentialSourceHint } from '../../src/probes/iot-api.js';

const home = mkdtempSync(join(tmpdir(), 'iot-doctor-home-'));
const savedHome = process.env.HOME;
process.env.HOME = home;
afterAll(() => {
  process.env.HOME = savedHome;
  rmSync(home, { recursive: true, force: true });
});

// An environment with nothing AWS in it; EC2 detection is turned off so the answer does not depend on the host.
const bare = { AWS_EC2_METADATA_DISABLED: 'true' };

describe('credentialSourceHint: where credentials could come from, without loading the SDK', () => {
  it('nothing at all: undefined, so the cloud checks skip without the SDK or the metadata address', () => {
    expect(credentialSourceHint({}, bare)).toBeUndefined();
  });

  it('environment keys, a profile, web identity, container credentials', () => {
    expect(credentialSourceHint({}, { ...bare, AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 's' })).toBe('env');
    expect(credentialSourceHint({}, { ...bare, AWS_ACCESS_KEY_ID: 'AKID' })).toBeUndefined();
    expect(credentialSourceHint({ awsProfile: 'support' }, bare)).toBe('profile');
    expect(credentialSourceHint({}, { ...bare, AWS_PROFILE: 'support' })).toBe('profile');
    expect(credentialSourceHint({}, { ...bare, AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token' })).toBe('web-identity');
    expect(credentialSourceHint({}, { ...bare, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials' })).toBe(
      'container',
    );
  });

  it('shared files count only when they exist and are not empty', () => {
    mkdirSync(join(home, '.aws'), { recursive: true });
    writeFileSync(join(home, '.aws', 'config'), '');
    expect(credentialSourceHint({}, bare)).toBeUndefined();
    writeFileSync(join(home, '.aws', 'config'), '[default]\nregion = eu-west-1\n');
    expect(credentialSourceHint({}, bare)).toBe('shared-files');
    const other = join(home, 'creds');
    writeFileSync(other, '[default]\naws_access_key_id = x\n');
    expect(
      credentialSourceHint({}, { ...bare, AWS_CONFIG_FILE: join(home, 'missing'), AWS_SHARED_CREDENTIALS_FILE: other }),
    ).toBe('shared-files');
  });
});
