/**
 * The WebSocket upgrade by-hand line of `mqtt-wss-443` quotes every value it interpolates: a shell reading it gets
 * each value as one word, whatever the target holds (the region, the endpoint, the profile, the --connect-to rule).
 * The words are read by a real shell (bash `set --`), not by a pattern.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { wssUpgradeCommand } from '../../checks/route-reproduce.js';
import { routeInstance } from '../../checks/route-plan.js';
import { targetFor } from '../helpers/servers.js';

/** The words bash makes of `line` (without running any command in it). */
function words(line: string): string[] {
  const out = execFileSync('bash', ['-c', `set -- ${line}; printf '%s\\0' "$@"`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('wssUpgradeCommand quotes each interpolated value', () => {
  it('a region and profile with a space and a semicolon stay one word each in the presign call', () => {
    const target = targetFor({}, { signingRegion: 'xx y;rm', awsProfile: "dev's profile", routes: ['mqtt-wss-443'] });
    const line = wssUpgradeCommand(target, routeInstance('mqtt-wss-443', target), { address: '::1', port: 4443 });
    const curl = line.split('\n')[1]!;
    const presign = /"\$\((iot-doctor presign .*)\)"$/.exec(curl)?.[1];
    expect(presign).toBeDefined();
    expect(words(presign!)).toEqual([
      'iot-doctor',
      'presign',
      '--endpoint',
      target.endpoint,
      '--scheme',
      'https',
      '--region',
      'xx y;rm',
      '--profile',
      "dev's profile",
    ]);
    const connectTo = words(curl.slice(0, curl.indexOf('"$(')));
    expect(connectTo[connectTo.indexOf('--connect-to') + 1]).toBe(`${target.endpoint}:443:[::1]:4443`);
  });
});
