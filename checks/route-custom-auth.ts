/**
 * What the custom-authentication route sends and shows (field notes §5.2): the CONNECT credentials, the non-secret
 * evidence, and the `mosquitto_pub` line that repeats it by hand with the secrets left as shell variables.
 */
import { customAuthUsername } from '../src/auth-target.js';
import type { RouteSpec } from '../src/model/index.js';
import { shq } from '../src/probes/shell.js';
import type { CustomAuthTarget, Target } from '../src/target.js';
import type { Peer } from './route-reproduce.js';

/** Escapes text for a double-quoted shell word. */
const dq = (s: string): string => s.replace(/[\\"$`]/g, (c) => `\\${c}`);

/**
 * The username with the secrets as shell variables, for a double-quoted shell word: `$TOKEN` and `$SIGNATURE`
 * (URL-encoded by whoever fills them in).
 */
export function shellUsername(c: CustomAuthTarget): string {
  const query: string[] = [];
  if (c.authorizer !== undefined) query.push(`x-amz-customauthorizer-name=${dq(encodeURIComponent(c.authorizer))}`);
  if (c.signature !== undefined) query.push('x-amz-customauthorizer-signature=$SIGNATURE');
  if (c.token !== undefined && c.tokenKeyName) query.push(`${c.tokenKeyName}=$TOKEN`);
  const user = dq(c.username ?? '');
  return query.length ? `${user}?${query.join('&')}` : user;
}

/** What the CONNECT carries: the username (with the authorizer query) and the password. Throws without the flags. */
export function customAuthCredentials(target: Target): { username: string; password?: string } {
  const c = target.customAuth;
  if (!c) throw new Error('mqtt-custom-auth-443 runs only with custom-authentication flags');
  return { username: customAuthUsername(c), ...(c.password !== undefined ? { password: c.password } : {}) };
}

/** The non-secret facts of the CONNECT: which authorizer, which token key, whether a signature and password went. */
export function customAuthEvidence(c: CustomAuthTarget): Record<string, string | boolean | number> {
  return {
    authorizer: c.authorizer ?? '(account default)',
    ...(c.tokenKeyName ? { tokenKeyName: c.tokenKeyName } : {}),
    tokenSent: c.token !== undefined,
    signatureSent: c.signature !== undefined,
    ...(c.signatureFrom ? { signatureFrom: c.signatureFrom } : {}),
    ...(c.username ? { username: c.username } : {}),
    passwordSent: c.password !== undefined,
  };
}

/**
 * `mosquitto_pub` with ALPN `mqtt`, no client certificate and the custom-auth username, the secrets as shell
 * variables the technician fills in (`TOKEN`, `SIGNATURE`, `PASSWORD`: those the run used, named in the line's note).
 */
export function customAuthMosquitto(
  target: Target,
  spec: RouteSpec,
  peer: Peer,
  clientId: string,
  topic: string,
): string {
  const c = target.customAuth!;
  const parts = ['mosquitto_pub', '-h', target.endpoint, '-p', String(peer.port)];
  parts.push('--cafile', shq(target.caPath ?? 'AmazonRootCA1.pem'), '--tls-alpn', spec.alpn ?? 'mqtt');
  if (target.mqttVersion === 5) parts.push('-V', 'mqttv5');
  parts.push('-u', `"${shellUsername(c)}"`);
  if (c.password !== undefined) parts.push('-P', '"$PASSWORD"');
  parts.push('-i', shq(clientId), '-t', shq(topic), '-q', '1', '-d', '-m', shq('{"probe":"by hand"}'));
  // Only the variables this line reads: a token, a signature and a password are each optional.
  const vars = [
    ...(c.token !== undefined && c.tokenKeyName ? ['TOKEN'] : []),
    ...(c.signature !== undefined ? ['SIGNATURE'] : []),
    ...(c.password !== undefined ? ['PASSWORD'] : []),
  ];
  const fill = vars.length ? `; set ${vars.join(', ')}` : '';
  const note =
    peer.address === target.endpoint || !target.connectTo.length
      ? ''
      : `# first map ${target.endpoint} to ${peer.address} (e.g. in /etc/hosts)${fill}\n`;
  return note + parts.join(' ');
}
