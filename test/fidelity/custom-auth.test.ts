/**
 * Fidelity of the lab's custom authentication on 443 to AWS IoT Core, checked with standard clients only: openssl
 * s_client, mosquitto_pub (through the lab's SOCKS5 proxy, under the endpoint's name) and the AWS SDK for the control
 * plane. Facts: aws-iot-facts.md §1 row 3 (MQTT, custom authentication, 443, ALPN `mqtt`; "Custom auth over MQTT
 * requires port 443 + ALPN mqtt + SNI"), field notes §5.2 (username layout), §5.3 (RSA-SHA256 token signature),
 * §5.5 (DescribeAuthorizer, TestInvokeAuthorizer), §5.6 (a failed custom authentication closes an MQTT 3.1.1
 * connection without a reason).
 */
import { sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki } from '../../src/lab/index.js';
import { uniqueClientId } from '../helpers/lab-clients.js';
import { run, startFidelityLab, type FidelityLab, type RunResult } from './fidelity-tools.js';

let f: FidelityLab;

beforeAll(async () => {
  f = await startFidelityLab({ pki: createLabPki('ec'), scenario: 'custom-auth-ok', mqtt5: 'off' });
}, 30_000);
afterAll(async () => {
  await f?.close();
});

/** The custom-auth username of field notes §5.2, every value URL-encoded. */
function username(token: string, signature: string, name = 'lab-authorizer', key = 'x-lab-token'): string {
  const enc = encodeURIComponent;
  return `device?x-amz-customauthorizer-name=${enc(name)}&x-amz-customauthorizer-signature=${enc(signature)}&${key}=${enc(token)}`;
}

/** mosquitto_pub to `<endpoint>:443` with ALPN mqtt, no client certificate, the given username; one QoS 1 message. */
function customAuthPub(user: string, extra: string[] = []): Promise<RunResult> {
  const id = uniqueClientId('ca');
  const args = ['-oL', '-eL', 'mosquitto_pub', '-h', f.lab.endpoint, '-p', '443'];
  args.push('--proxy', `socks5h://127.0.0.1:${f.proxy.port}`, '--cafile', f.files.ca, '--tls-alpn', 'mqtt');
  args.push('-V', 'mqttv311', '-u', user, '-i', id, '-t', `iot-doctor/${id}/probe`, '-m', 'x', '-q', '1', '-d');
  return run('stdbuf', [...args, ...extra], { timeoutMs: 8_000 });
}

describe('ALPN mqtt on 443 selects custom authentication (facts §1 row 3)', () => {
  it('openssl s_client -alpn mqtt without a client certificate: the server selects mqtt', async () => {
    const connect = `${f.lab.bind}:${f.lab.ports.tls443}`;
    const args = ['s_client', '-connect', connect, '-servername', f.lab.endpoint, '-CAfile', f.files.ca];
    const out = await run('openssl', [...args, '-alpn', 'mqtt', '-verify_return_error'], { timeoutMs: 8_000 });
    expect(out.all).toMatch(/ALPN protocol: mqtt/);
    expect(out.all).toMatch(/Verify return code: 0 \(ok\)/);
  });

  it('the signed token in the username (field notes §5.2, §5.3): CONNACK, PUBLISH acknowledged', async () => {
    const d = f.lab.customAuth!;
    const out = await customAuthPub(username(d.token, d.signature));
    expect(out.all).toMatch(/received CONNACK \(0\)/);
    expect(out.all).toMatch(/received PUBACK/);
  });
});

describe('a failed custom authentication closes the MQTT 3.1.1 connection without CONNACK (field notes §5.6)', () => {
  it('a signature made with another key (field notes §5.3: verified against tokenSigningPublicKeys)', async () => {
    const d = f.lab.customAuth!;
    const other = createLabPki('rsa').device.keyPem;
    const bad = sign('sha256', Buffer.from(d.token), other).toString('base64');
    const out = await customAuthPub(username(d.token, bad));
    expect(out.all).toMatch(/sending CONNECT/);
    expect(out.all).not.toMatch(/received CONNACK/);
  });

  it('a correctly signed token the Lambda does not accept (field notes §5.4: isAuthenticated false)', async () => {
    const d = f.lab.customAuth!;
    const token = `${d.token}-revoked`;
    const signature = sign('sha256', Buffer.from(token), d.signingKeyPem).toString('base64');
    const out = await customAuthPub(username(token, signature));
    expect(out.all).toMatch(/sending CONNECT/);
    expect(out.all).not.toMatch(/received CONNACK/);
  });

  it('an authorizer name the account does not have', async () => {
    const d = f.lab.customAuth!;
    const out = await customAuthPub(username(d.token, d.signature, 'no-such-authorizer'));
    expect(out.all).not.toMatch(/received CONNACK/);
  });
});

describe('control plane (field notes §5.5) through the AWS SDK', () => {
  it('DescribeAuthorizer returns the authorizer; TestInvokeAuthorizer runs its Lambda; unknown names are 404', async () => {
    const sdk = await import('@aws-sdk/client-iot');
    const client = new sdk.IoTClient({
      region: f.lab.region,
      endpoint: f.lab.apiEndpoint,
      credentials: { accessKeyId: 'AKIDFIDELITY', secretAccessKey: 'lab' },
      maxAttempts: 1,
    });
    try {
      const d = f.lab.customAuth!;
      const described = await client.send(new sdk.DescribeAuthorizerCommand({ authorizerName: d.authorizerName }));
      expect(described.authorizerDescription?.status).toBe('ACTIVE');
      expect(described.authorizerDescription?.tokenKeyName).toBe(d.tokenKeyName);
      expect(Object.values(described.authorizerDescription?.tokenSigningPublicKeys ?? {})[0]).toMatch(
        /BEGIN PUBLIC KEY/,
      );
      const ok = await client.send(
        new sdk.TestInvokeAuthorizerCommand({
          authorizerName: d.authorizerName,
          token: d.token,
          tokenSignature: d.signature,
          mqttContext: { clientId: 'fidelity-client', username: 'device', password: Buffer.from('pw') },
          tlsContext: { serverName: f.lab.endpoint },
        }),
      );
      expect(ok.isAuthenticated).toBe(true);
      expect(ok.policyDocuments?.length).toBeGreaterThan(0);
      const no = await client.send(
        new sdk.TestInvokeAuthorizerCommand({
          authorizerName: d.authorizerName,
          token: `${d.token}-revoked`,
          tokenSignature: sign('sha256', Buffer.from(`${d.token}-revoked`), d.signingKeyPem).toString('base64'),
        }),
      );
      expect(no.isAuthenticated).toBe(false);
      await expect(
        client.send(new sdk.DescribeAuthorizerCommand({ authorizerName: 'no-such-authorizer' })),
      ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    } finally {
      client.destroy();
    }
  });
});
