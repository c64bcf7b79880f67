/**
 * The custom-authentication route's by-hand `mosquitto_pub` line names, in its note, only the shell variables the line
 * reads: a token, a signature and a password are each optional (field notes §5), and a note asking for a PASSWORD the
 * command never uses sends the technician looking for one.
 */
import { describe, expect, it } from 'vitest';
import { customAuthMosquitto } from '../../checks/route-custom-auth.js';
import { ROUTES } from '../../src/model/route.js';
import type { CustomAuthTarget } from '../../src/target.js';
import { targetFor } from '../helpers/servers.js';

function line(customAuth: CustomAuthTarget): string {
  const target = targetFor({ 443: 8443 }, { customAuth });
  const spec = ROUTES['mqtt-custom-auth-443']!;
  return customAuthMosquitto(target, spec, { address: '127.0.0.1', port: 8443 }, 'device-1', 'dt/device-1');
}

describe('custom-auth by-hand line', () => {
  it('asks only for the variables it uses', () => {
    const tokenOnly = line({ authorizer: 'a', token: 't0k', tokenKeyName: 'tok' });
    expect(tokenOnly).toMatch(/; set TOKEN\n/);
    expect(tokenOnly).toContain('tok=$TOKEN');
    expect(tokenOnly).not.toMatch(/SIGNATURE|PASSWORD/);

    const all = line({ authorizer: 'a', token: 't', tokenKeyName: 'tok', signature: 's', password: 'p' });
    expect(all).toMatch(/; set TOKEN, SIGNATURE, PASSWORD\n/);
    expect(all).toContain('-P "$PASSWORD"');

    const passwordOnly = line({ authorizer: 'a', username: 'u', password: 'p' });
    expect(passwordOnly).toMatch(/\(e\.g\. in \/etc\/hosts\); set PASSWORD\n/);
    for (const l of [tokenOnly, all, passwordOnly]) expect(l).not.toMatch(/t0k|=s\b|"p"/);
  });
});
