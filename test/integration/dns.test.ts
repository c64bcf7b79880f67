import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeRoute } from '../../checks/route.js';
import { ROUTES, type CheckResult } from '../../src/model/index.js';
import { resolveWithServer } from '../../src/probes/dns.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { closeAll, contextFor, credentialsFor, makePki, targetFor, tlsServer, type Pki } from '../helpers/servers.js';

let dns: Awaited<ReturnType<typeof startDnsServer>>;
let pki: Pki;
beforeAll(async () => {
  dns = await startDnsServer();
  pki = makePki('ec');
});
afterAll(async () => {
  await dns.close();
  await closeAll();
});

async function dnsStage(endpoint: string, timeoutMs = 1500): Promise<CheckResult[]> {
  const target = targetFor({}, { endpoint, dnsServer: dns.address, timeoutMs, connectTo: [] });
  return probeRoute(ROUTES['mqtt-8883'], contextFor(target, credentialsFor(pki)));
}

describe('DNS stage against a real DNS server on loopback (--dns-server)', () => {
  it('NXDOMAIN is DNS_NXDOMAIN and blocks the later stages', async () => {
    const results = await dnsStage('nx.a1b2c3-ats.iot.eu-west-1.amazonaws.com');
    expect(results[0]).toMatchObject({ stage: 'dns', status: 'fail', code: 'DNS_NXDOMAIN' });
    // The server's own port, which nslookup takes as -port=N (it would ask port 53 otherwise).
    const port = dns.address.split(':')[1]!;
    expect(results[0]!.reproduce).toBe(`nslookup -port=${port} nx.a1b2c3-ats.iot.eu-west-1.amazonaws.com 127.0.0.1`);
    expect(results[1]).toMatchObject({ stage: 'tcp', status: 'skip', summary: 'blocked by dns: DNS_NXDOMAIN' });
  });

  it('a name with no address records is DNS_NO_ANSWER', async () => {
    expect((await dnsStage('nodata.a1b2c3-ats.iot.eu-west-1.amazonaws.com'))[0]!.code).toBe('DNS_NO_ANSWER');
  });

  it('SERVFAIL is DNS_TEMPORARY_FAILURE', async () => {
    expect((await dnsStage('servfail.a1b2c3-ats.iot.eu-west-1.amazonaws.com'))[0]!.code).toBe('DNS_TEMPORARY_FAILURE');
  });

  it('a server that never answers is DNS_TIMEOUT, within about the timeout', async () => {
    const started = Date.now();
    const results = await dnsStage('silent.a1b2c3-ats.iot.eu-west-1.amazonaws.com', 600);
    expect(results[0]!.code).toBe('DNS_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('an endpoint name that resolves to a loopback address is a warning, and the route goes on', async () => {
    const { port } = await tlsServer({ cert: pki.server, clientCa: pki.deviceCa });
    const target = targetFor(
      {},
      {
        endpoint: 'a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com',
        dnsServer: dns.address,
        connectTo: [{ host: '', port: 8883, address: '', toPort: port }],
      },
    );
    // The connect-to rule above changes only the port, so the name is still resolved through DNS.
    const results = await probeRoute(ROUTES['mqtt-8883'], contextFor(target, credentialsFor(pki)));
    expect(results[0]).toMatchObject({ status: 'warn', code: 'DNS_PRIVATE_ADDRESS' });
    expect(results[0]!.evidence.addresses).toEqual(['127.0.0.1']);
    expect(results.find((r) => r.stage === 'client-auth')!.status).toBe('pass');
    const direct = await resolveWithServer('a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com', dns.address, 1000);
    expect(direct).toMatchObject({ ok: true, addresses: [{ address: '127.0.0.1', family: 4 }] });
  });

  it('routes share one DNS answer per run', async () => {
    const before = dns.queries();
    const target = targetFor(
      {},
      { endpoint: 'nx.shared-ats.iot.eu-west-1.amazonaws.com', dnsServer: dns.address, connectTo: [] },
    );
    const ctx = contextFor(target, credentialsFor(pki));
    await Promise.all(target.routes.map((r) => probeRoute(ROUTES[r], ctx)));
    expect(dns.queries() - before).toBe(2); // one A and one AAAA query for four routes
  });
});
