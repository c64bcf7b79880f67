/**
 * The lab's life cycle: loopback-only binding, generated files, the human description, and a close() that leaves
 * nothing behind (no socket, server, timer or child process), checked with process.getActiveResourcesInfo().
 */
import { readFile, stat } from 'node:fs/promises';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { DescribeEndpointCommand } from '@aws-sdk/client-iot';
import { afterAll, describe, expect, it } from 'vitest';
import { ALPN_MQTT } from '../../src/model/index.js';
import { createLabPki, describeLab, startLab } from '../../src/lab/index.js';
import {
  connectPacket311,
  endClient,
  httpsCall,
  iotClient,
  mqttAttempt,
  tlsHandshake,
} from '../helpers/lab-clients.js';

const pki = createLabPki('ec');
const scratch = mkdtempSync(join(tmpdir(), 'iot-doctor-lab-test-'));

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

function leaked(before: Map<string, number>, after: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [k, n] of after) if (n > (before.get(k) ?? 0)) out.push(`${k} +${n - (before.get(k) ?? 0)}`);
  return out;
}

describe('lab life cycle', () => {
  it('refuses to bind anything but loopback', async () => {
    await expect(startLab({ pki, bind: '0.0.0.0' })).rejects.toThrow(/only loopback addresses/);
    await expect(startLab({ pki, bind: '192.0.2.10' })).rejects.toThrow(/refuses to listen on 192\.0\.2\.10/);
    await expect(startLab({ pki, bind: 'example.com' })).rejects.toThrow(/not an IP address/);
  });

  it('binds any 127.0.0.0/8 address and reports it everywhere', async () => {
    const lab = await startLab({ pki, bind: '127.0.0.2', mqtt5: 'off' });
    try {
      expect(lab.bind).toBe('127.0.0.2');
      expect(lab.connectTo[0]).toBe(`${lab.endpoint}:8883:127.0.0.2:${lab.ports.mqtt8883}`);
      expect(lab.apiEndpoint).toBe(`http://127.0.0.2:${lab.ports.control}`);
      const outcome = await mqttAttempt(lab);
      expect(outcome.kind).toBe('connack');
      if (outcome.kind === 'connack') await endClient(outcome.client);
    } finally {
      await lab.close();
    }
  });

  it('IPv6 loopback with SNI not required: brackets in overrides, handshakes without SNI pass', async () => {
    let lab;
    try {
      lab = await startLab({ pki, bind: '::1', requireSni: false, mqtt5: 'off' });
    } catch (err) {
      if ((err as { code?: string }).code === 'EADDRNOTAVAIL') return; // no IPv6 loopback on this machine
      throw err;
    }
    try {
      expect(lab.connectTo[1]).toBe(`${lab.endpoint}:443:[::1]:${lab.ports.tls443}`);
      expect(lab.apiEndpoint).toBe(`http://[::1]:${lab.ports.control}`);
      const noSni = await tlsHandshake(lab, { servername: null, rejectUnauthorized: false });
      expect(noSni.ok).toBe(true);
      noSni.socket?.destroy();
      const outcome = await mqttAttempt(lab);
      expect(outcome.kind).toBe('connack');
      if (outcome.kind === 'connack') await endClient(outcome.client);
      const iot = iotClient(lab);
      const out = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
      iot.destroy();
      expect(out.endpointAddress).toBe(lab.endpoint);
    } finally {
      await lab.close();
    }
  });

  it('writeFiles: trust anchor, certificate, key with mode 0600, and a check command; describeLab', async () => {
    const lab = await startLab({ keyType: 'ec', mqtt5: 'off', scenario: 'clock-skew' });
    try {
      const dir = join(scratch, 'files');
      const files = await lab.writeFiles(dir);
      expect((await stat(files.key)).mode & 0o777).toBe(0o600);
      expect(await readFile(files.ca, 'utf8')).toBe(lab.caPem);
      const cert = new X509Certificate(await readFile(files.cert));
      expect(cert.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(lab.device.certificateId);
      expect(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(await readFile(files.key)))).toBe(
        true,
      );
      expect(files.checkCommand).toContain(`--endpoint ${lab.endpoint}`);
      // Every data-endpoint mapping; not the credential provider's (the line gives no --role-alias: it would be unused).
      for (const c of lab.connectTo) {
        if (c.startsWith(`${lab.credentialsEndpoint}:`)) expect(files.checkCommand).not.toContain(c);
        else expect(files.checkCommand).toContain(`--connect-to ${c}`);
      }
      expect(files.checkCommand).toContain(`AWS_ENDPOINT_URL_IOT=${lab.apiEndpoint}`);

      const temp = await lab.writeFiles();
      expect(existsSync(temp.key)).toBe(true);

      const text = describeLab(lab);
      for (const part of [
        lab.endpoint,
        lab.apiEndpoint,
        'clock-skew',
        String(lab.ports.mqtt8883),
        String(lab.ports.tls443),
        String(lab.ports.https8443),
      ]) {
        expect(text).toContain(part);
      }
      expect(text).not.toContain('PRIVATE KEY');

      await lab.close();
      expect(existsSync(temp.key)).toBe(false);
      expect(existsSync(files.key)).toBe(true);
    } finally {
      await lab.close();
    }
  });

  it('close() releases every socket, server, timer and child process, even with connections open', async () => {
    // Warm up lazily loaded modules so their one-time resources are not counted.
    const warm = await startLab({ pki, mqtt5: 'off' });
    const iotWarm = iotClient(warm);
    await iotWarm.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
    iotWarm.destroy();
    await warm.close();
    await new Promise((r) => setTimeout(r, 50));

    const before = resourceCounts();
    const lab = await startLab({ pki, scenario: 'tls-stall-8443' });
    const open = await mqttAttempt(lab, { version: lab.mqtt5Available ? 5 : 4 });
    expect(open.kind).toBe('connack');
    const v4 = await mqttAttempt(lab, { version: 4 });
    expect(v4.kind).toBe('connack');
    // A silent 443 connection (MQTT with an ALPN AWS does not know: none selected; `mqtt` would select custom
    // authentication, facts §1 row 3), a stalled 8443 handshake, an HTTPS keep-alive answer.
    const silent = await tlsHandshake(lab, { port: 'tls443', alpn: ['h2'] });
    silent.socket?.write(connectPacket311('silent-one'));
    const stalled = tlsHandshake(lab, { port: 'https8443', timeoutMs: 10_000 });
    expect((await httpsCall(lab, { port: 'tls443', alpn: ['x-amzn-http-ca'] })).status).toBe(200);
    expect((await tlsHandshake(lab, { port: 'tls443', alpn: [ALPN_MQTT] })).ok).toBe(true);
    const iot = iotClient(lab);
    await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
    iot.destroy();

    await lab.close();
    // The lab closed the client side's sockets too; let the clients notice.
    expect((await stalled).ok).toBe(false);
    if (open.kind === 'connack') await endClient(open.client);
    if (v4.kind === 'connack') await endClient(v4.client);
    silent.socket?.destroy();

    let extra: string[] = [];
    for (let i = 0; i < 40; i++) {
      extra = leaked(before, resourceCounts());
      if (extra.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(extra).toEqual([]);
  });
});
