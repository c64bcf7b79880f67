/**
 * The lab's field front: a security policy applied to the real ClientHello of Node's TLS client (TLS 1.3 only, a
 * TLS 1.2 suite list), answered with the RFC alert or a bare close, and everything else relayed to the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFieldFront, type FieldFront, type FrontPolicy } from '../../src/lab/field-front.js';
import { acceptedCiphers, tryHandshake } from '../../src/probes/device-tls.js';
import { connectTcp } from '../../src/probes/tcp.js';
import { ENDPOINT, closeAll, makePki, tlsServer } from '../helpers/servers.js';

describe('lab field front', () => {
  let upstream: number;
  const fronts: FieldFront[] = [];
  beforeAll(async () => {
    upstream = (await tlsServer({ cert: makePki('rsa').server })).port;
  });
  afterAll(async () => {
    await Promise.all(fronts.map((f) => f.close()));
    await closeAll();
  });
  const front = async (policy: FrontPolicy): Promise<FieldFront> => {
    const f = await startFieldFront({ bind: '127.0.0.1', upstream: { host: '127.0.0.1', port: upstream }, policy });
    fronts.push(f);
    return f;
  };
  const hello = async (port: number, opts: Parameters<typeof tryHandshake>[2]) => {
    const tcp = await connectTcp('127.0.0.1', port, 2000);
    if (!tcp.ok) throw new Error(tcp.message);
    return tryHandshake(tcp.socket, ENDPOINT, opts, 2000);
  };

  it('TLS 1.3 only: a TLS 1.2-only hello gets protocol_version (70), or a bare close; TLS 1.3 goes through', async () => {
    const alert = await front({ tls13Only: true, refusal: 'alert' });
    expect(await hello(alert.port, { maxVersion: 'TLSv1.2' })).toMatchObject({
      ok: false,
      alert: { number: 70, name: 'protocol_version' },
    });
    expect(await hello(alert.port, {})).toMatchObject({ ok: true, protocol: 'TLSv1.3' });
    const close = await front({ tls13Only: true, refusal: 'close' });
    const closed = await hello(close.port, { maxVersion: 'TLSv1.2' });
    expect(closed.ok).toBe(false);
    expect(closed).not.toHaveProperty('alert');
    expect(alert.refused).toEqual([70]);
    expect(close.refused).toEqual([0]);
  });

  it('a TLS 1.2 suite list: no shared suite gets handshake_failure (40); trying each suite alone finds the allowed ones', async () => {
    const f = await front({ tls12Suites: ['ECDHE-RSA-AES256-GCM-SHA384', 'AES128-SHA'], refusal: 'alert' });
    expect(await hello(f.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).toMatchObject({
      ok: false,
      alert: { number: 40 },
    });
    const open = async () => {
      const tcp = await connectTcp('127.0.0.1', f.port, 2000);
      return tcp.ok ? tcp.socket : null;
    };
    expect(await acceptedCiphers(open, ENDPOINT, 2000)).toEqual(['ECDHE-RSA-AES256-GCM-SHA384', 'AES128-SHA']);
  });
});
