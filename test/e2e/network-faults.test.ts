/**
 * Real networks: iot-doctor in a client namespace, the lab on the real ports of a server namespace, a router
 * namespace in between that applies the fault (iptables, a TLS-inspecting proxy), and a slow lossy TUN link.
 * The endpoint name resolves through the client namespace's hosts file: no override flags, as in the field.
 *
 * Needs root and `ip netns`; without them the suite prints one line and skips.
 */
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_IDS, type Report, type RouteId } from '../../src/model/index.js';
import { ADDR, Bed, bedUnavailableReason, ensureBuilt } from './bed.js';
import {
  blockedRoute,
  cell,
  diagnosisCodes,
  healthyRoute,
  observedRoute,
  routeLine,
  runCheck,
  startLabInBed,
  type RunningLab,
} from './doctor.js';
import { dropPort, interceptPort, makeInspectionPki, prohibitPort, resetPort, ruleHits, sniFilter } from './faults.js';

const unavailable = bedUnavailableReason();
if (unavailable) console.log(`e2e network tests skipped: ${unavailable}`);

/** Once the diagnosis rules exist, the report must name one of these root causes. */
function expectDiagnosis(report: Report, anyOf: string[]): void {
  const codes = diagnosisCodes(report);
  if (codes.length === 0) return;
  expect(
    codes.filter((c) => anyOf.includes(c)),
    `diagnosis ${codes.join(', ')}; expected one of ${anyOf.join(', ')}`,
  ).not.toEqual([]);
}

/** Findings that say something is broken (a healthy network must have none). */
function seriousFindings(report: Report): string[] {
  return (report.diagnosis ?? []).filter((d) => d.severity === 'critical' || d.severity === 'error').map((d) => d.code);
}

function expectRoutes(report: Report, expected: Partial<Record<RouteId, ReturnType<typeof healthyRoute>>>): void {
  for (const route of ROUTE_IDS) {
    const want = expected[route] ?? healthyRoute(route);
    expect(observedRoute(report, route), `${route}: ${routeLine(report, route)}`).toEqual(want);
  }
}

describe.skipIf(unavailable !== null)('real networks: firewall, latency and middleboxes in network namespaces', () => {
  let bed: Bed | undefined;
  let lab: RunningLab;

  const theBed = (): Bed => {
    if (!bed) throw new Error('the bed was not created');
    return bed;
  };

  beforeAll(async () => {
    ensureBuilt();
    bed = await Bed.create();
    lab = await startLabInBed(bed, 'healthy');
  }, 120_000);

  afterEach(() => {
    bed?.clearFaults();
  });

  afterAll(async () => {
    if (!bed) return;
    await lab?.stop().catch(() => {});
    await bed.destroy();
    const left = bed.leftovers();
    if (left.length) throw new Error(`the bed left things behind: ${left.join(', ')}`);
  }, 30_000);

  it('the bed is sealed: every route of every namespace stays inside 198.51.100.0/24, names resolve locally', async () => {
    const b = theBed();
    for (const ns of Object.values(b.ns)) {
      const routes = (await b.run(null, 'ip', ['-n', ns, '-4', 'route', 'show'])).stdout
        .trim()
        .split('\n')
        .filter(Boolean);
      expect(routes.length, ns).toBeGreaterThan(0);
      for (const line of routes) expect(line, `${ns}: ${line}`).toMatch(/^198\.51\.100\.\d+(\/\d+)? /);
      expect((await b.run(null, 'ip', ['-n', ns, '-6', 'route', 'show'])).stdout.trim(), ns).toBe('');
    }
    const hosts = await b.run(b.ns.client, 'getent', ['hosts', lab.endpoint]);
    expect(hosts.stdout.trim().split(/\s+/)).toEqual([ADDR.server, lab.endpoint]);
    const resolv = await b.run(b.ns.client, 'cat', ['/etc/resolv.conf']);
    expect(resolv.stdout).toMatch(/^nameserver 127\.0\.0\.1$/m);
  });

  it('healthy network: every cell passes; the name resolves to the server through the namespace hosts file', async () => {
    const { report, run } = await runCheck(theBed(), theBed().ns.client, lab);
    expectRoutes(report, {});
    for (const route of ROUTE_IDS) {
      const tcp = cell(report, route, 'tcp');
      expect(tcp.evidence.address).toBe(ADDR.server);
      expect(tcp.evidence.port).toBe(route === 'mqtt-8883' ? 8883 : route === 'https-8443' ? 8443 : 443);
      expect(cell(report, route, 'dns').evidence.addresses).toEqual([ADDR.server]);
    }
    expect(report.target.connectTo).toEqual([]);
    expect(
      report.results.filter((r) => r.status === 'fail' || r.status === 'error').map((r) => `${r.id} ${r.code}`),
    ).toEqual([]);
    expect(report.exitCode).toBe(0);
    expect(run.exitCode).toBe(0);
    expectDiagnosis(report, ['HEALTHY']);
    expect(seriousFindings(report)).toEqual([]);
  });

  it('8883 silently dropped: TCP_TIMEOUT after --timeout, paid once; the other routes pass', async () => {
    const b = theBed();
    dropPort(b, 8883);
    const timeoutMs = 1500;
    const { report, run } = await runCheck(b, b.ns.client, lab, { timeoutMs });
    expectRoutes(report, { 'mqtt-8883': blockedRoute('mqtt-8883', 'tcp', 'TCP_TIMEOUT') });
    const tcp = cell(report, 'mqtt-8883', 'tcp');
    expect(tcp.durationMs).toBeGreaterThanOrEqual(timeoutMs - 50);
    expect(tcp.durationMs).toBeLessThan(timeoutMs + 500);
    // The blocked port costs its timeout once, not once per stage or per retry. The process waited it whole; the
    // report's own clock starts after the head start's SYN (src/check-start.ts), so it may show a little less.
    expect(run.durationMs).toBeGreaterThanOrEqual(timeoutMs - 50);
    expect(report.durationMs).toBeLessThan(2 * timeoutMs);
    expect(ruleHits(b, 'DROP')).toBeGreaterThan(0);
    expect(report.exitCode).toBe(1);
    expect(run.exitCode).toBe(1);
    expectDiagnosis(report, ['PORT_BLOCKED']);
  });

  it('8443 answered with a TCP reset by the firewall: TCP_REFUSED within milliseconds', async () => {
    const b = theBed();
    resetPort(b, 8443);
    const { report } = await runCheck(b, b.ns.client, lab);
    expectRoutes(report, { 'https-8443': blockedRoute('https-8443', 'tcp', 'TCP_REFUSED') });
    expect(cell(report, 'https-8443', 'tcp').durationMs).toBeLessThan(500);
    expect(cell(report, 'https-8443', 'tcp').evidence.error).toBe('ECONNREFUSED');
    expect(report.exitCode).toBe(1);
    expectDiagnosis(report, ['PORT_BLOCKED']);
  });

  it('8883 rejected with ICMP admin-prohibited: TCP_UNREACHABLE', async () => {
    const b = theBed();
    prohibitPort(b, 8883);
    const { report } = await runCheck(b, b.ns.client, lab);
    expectRoutes(report, { 'mqtt-8883': blockedRoute('mqtt-8883', 'tcp', 'TCP_UNREACHABLE') });
    expect(cell(report, 'mqtt-8883', 'tcp').evidence.error).toBe('EHOSTUNREACH');
    expect(cell(report, 'mqtt-8883', 'tcp').durationMs).toBeLessThan(500);
    expect(report.exitCode).toBe(1);
    expectDiagnosis(report, ['PORT_BLOCKED']);
  });

  it('SNI filter on 443: TCP connects, the ClientHello naming the endpoint is reset (TLS_RESET)', async () => {
    const b = theBed();
    sniFilter(b, lab.endpoint, 443);
    const { report } = await runCheck(b, b.ns.client, lab);
    expectRoutes(report, {
      'mqtt-443': blockedRoute('mqtt-443', 'tls', 'TLS_RESET'),
      'https-443': blockedRoute('https-443', 'tls', 'TLS_RESET'),
    });
    for (const route of ['mqtt-443', 'https-443'] as const) {
      expect(cell(report, route, 'tls').evidence.sni).toBe(lab.endpoint);
      expect(cell(report, route, 'tls').evidence.error).toBe('ECONNRESET');
    }
    // The reset came from the string match on the name, once per ClientHello.
    expect(ruleHits(b, 'STRING match')).toBeGreaterThanOrEqual(2);
    expect(report.exitCode).toBe(1);
    expectDiagnosis(report, ['SNI_FILTERED']);
  });

  it('TLS-inspecting proxy on 443: chain from "Corporate TLS Inspection CA"; trusted, it shows ALPN stripped', async () => {
    const b = theBed();
    const pki = makeInspectionPki(join(b.tmp, 'inspection'), lab.endpoint);
    const proxy = await interceptPort(b, pki, 443);
    try {
      // A device that trusts only its own CA: the handshake completes but the chain is not trusted.
      const first = await runCheck(b, b.ns.client, lab);
      expectRoutes(first.report, {
        'mqtt-443': blockedRoute('mqtt-443', 'tls', 'TLS_CHAIN_UNTRUSTED'),
        'https-443': blockedRoute('https-443', 'tls', 'TLS_CHAIN_UNTRUSTED'),
      });
      for (const route of ['mqtt-443', 'https-443'] as const) {
        const chain = cell(first.report, route, 'tls').evidence.chain as { subject: string; issuer: string }[];
        expect(chain[0]?.issuer).toContain('Corporate TLS Inspection CA');
        expect(chain[0]?.subject).toContain(lab.endpoint);
      }
      expect(first.report.exitCode).toBe(1);
      expectDiagnosis(first.report, ['TLS_INTERCEPTED']);
      // Only 443 goes through the proxy: the finding names those routes and explains every failure.
      const intercepted = first.report.diagnosis.find((f) => f.code === 'TLS_INTERCEPTED');
      expect(intercepted?.params['routes']).toEqual(['mqtt-443', 'https-443']);
      expect(first.report.diagnosis.map((f) => f.code)).not.toContain('UNEXPLAINED_FAILURE');

      // A device whose trust file also holds the inspection CA (as corporate IT installs it): TLS passes, and the
      // proxy's missing ALPN answer shows.
      const bundle = join(b.tmp, 'inspection', 'bundle.pem');
      writeFileSync(bundle, readFileSync(lab.files.ca, 'utf8') + pki.caPem);
      const second = await runCheck(b, b.ns.client, lab, { ca: bundle });
      expectRoutes(second.report, {
        'mqtt-443': blockedRoute('mqtt-443', 'alpn', 'ALPN_NOT_SELECTED'),
        'https-443': blockedRoute('https-443', 'alpn', 'ALPN_NOT_SELECTED'),
      });
      expect(cell(second.report, 'mqtt-443', 'alpn').evidence).toMatchObject({
        offered: 'x-amzn-mqtt-ca',
        selected: null,
      });
      expect(cell(second.report, 'https-443', 'alpn').evidence).toMatchObject({
        offered: 'x-amzn-http-ca',
        selected: null,
      });
      expectDiagnosis(second.report, ['ALPN_STRIPPED']);
    } finally {
      const seen = await proxy.stop();
      expect(seen?.connections).toBeGreaterThanOrEqual(4);
      expect(seen?.sni).toContain(lab.endpoint);
      expect(seen?.alpnSelected.every((a) => a === false)).toBe(true);
    }
  });

  it('slow lossy link (150 ms each way, 2% loss, TUN relay): every cell passes and the timings show the round trip', async () => {
    const b = theBed();
    // Seed 12 drops the 5th and the 24th packet through the relay: the handshakes recover from real losses.
    const slow = await b.addTunClient({ name: 'slow', delayMs: 150, loss: 0.02, seed: 12 });
    const { report } = await runCheck(b, slow.ns, lab, { timeoutMs: 5000 });
    const stats = await slow.stats();
    expectRoutes(report, {});
    for (const route of ROUTE_IDS) {
      expect(cell(report, route, 'tcp').evidence.address).toBe(ADDR.server);
      // One round trip is 300 ms: the TCP connect and the TLS 1.3 handshake each take at least one.
      expect(cell(report, route, 'tcp').durationMs).toBeGreaterThanOrEqual(290);
      expect(cell(report, route, 'tls').durationMs).toBeGreaterThanOrEqual(290);
    }
    expect(report.durationMs).toBeLessThan(20_000);
    expect(seriousFindings(report)).toEqual([]);
    expect(stats?.forwarded).toBeGreaterThan(50);
    expect(stats?.dropped).toBeGreaterThanOrEqual(1);
    expect(stats?.stopped).toBe('SIGTERM');
  }, 60_000);
});
