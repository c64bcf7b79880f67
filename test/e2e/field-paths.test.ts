/**
 * Field paths in network namespaces, against real parts: Squid (HTTP CONNECT, basic_ncsa_auth, a CONNECT port
 * allow-list) and Dante (SOCKS5, a port block) in the router namespace, the lab on IPv4 and IPv6 (2001:db8::/32 on
 * the bed's links), and `openssl s_server` restricted to one TLS version, one cipher suite, a certificate chosen by
 * SNI, or a long chain. Every test asserts the matrix cells and the diagnosis code; the proxy password never
 * appears in any output.
 */
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult, Finding, Report } from '../../src/model/index.js';
import { danteCommand, proxiesUnavailableReason, squidCommand, waitReady } from '../helpers/proxies.js';
import { ADDR, ADDR6, Bed, bedUnavailableReason, ensureBuilt } from './bed.js';
import { runCheck, startLabInBed, type CheckRun, type RunningLab } from './doctor.js';
import { interceptPort, makeInspectionPki } from './faults.js';
import { makeFieldPki, startSServer, type FieldPki } from './field-servers.js';

const unavailable = bedUnavailableReason() ?? proxiesUnavailableReason();
if (unavailable) console.log(`e2e field-path tests skipped: ${unavailable}`);

const PASSWORD = 'Fi3ld-Pr0xy-S3cret';
const PROXY = ADDR.routerClientSide;
const KINDS = ['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443'];

/** Every stdout and stderr of the runs, to scan for the proxy password at the end. */
const outputs: string[] = [];

function cells(report: Report, route: string): CheckResult[] {
  return report.results.filter((r) => r.route === route);
}

/** "stage:status:code" of every cell of a route. */
function line(report: Report, route: string): string {
  return cells(report, route)
    .map((c) => `${c.stage}:${c.status}:${c.code}`)
    .join(' ');
}

function cell(report: Report, route: string, stage: string): CheckResult {
  const c = report.results.find((r) => r.route === route && r.stage === stage);
  if (!c)
    throw new Error(
      `no cell ${route}/${stage}: ${report.results
        .filter((r) => r.route)
        .map((r) => r.id)
        .join(', ')}`,
    );
  return c;
}

function top(report: Report): Finding {
  const f = report.diagnosis[0];
  if (!f) throw new Error('no diagnosis');
  return f;
}

function finding(report: Report, code: string): Finding {
  const f = report.diagnosis.find((d) => d.code === code);
  if (!f) throw new Error(`no ${code} in the diagnosis: ${report.diagnosis.map((d) => d.code).join(', ')}`);
  return f;
}

describe.skipIf(unavailable !== null)(
  'field paths: proxies, address families, the device TLS stack (namespaces)',
  () => {
    let bed: Bed;
    let lab: RunningLab;
    let pki: FieldPki;

    const check = async (opts: Parameters<typeof runCheck>[3] = {}): Promise<CheckRun> => {
      const run = await runCheck(bed, bed.ns.client, lab, { timeoutMs: 1500, ...opts });
      outputs.push(run.run.stdout, run.run.stderr);
      return run;
    };

    beforeAll(async () => {
      ensureBuilt();
      bed = await Bed.create();
      chmodSync(bed.tmp, 0o755);
      bed.enableIpv6();
      lab = await startLabInBed(bed, 'healthy', { bind: '::' });
      bed.setHostAddresses(lab.endpoint, [ADDR.server, ADDR6.server]);
      pki = makeFieldPki(join(bed.tmp, 'pki'), lab.endpoint);
      const squidAuth = squidCommand({
        dir: join(bed.tmp, 'squid-auth'),
        address: PROXY,
        port: 3128,
        users: { alice: PASSWORD },
      });
      const squid443 = squidCommand({ dir: join(bed.tmp, 'squid-443'), address: PROXY, port: 3129, allowPorts: [443] });
      // A third Squid that reaches the endpoint over IPv4 only (its own hosts file): the interception box is an IPv4 rule.
      const squidV4 = squidCommand({
        dir: join(bed.tmp, 'squid-v4'),
        address: PROXY,
        port: 3131,
        hosts: { [lab.endpoint]: ADDR.server },
      });
      const dante = danteCommand({
        dir: join(bed.tmp, 'dante'),
        address: PROXY,
        port: 1080,
        external: ADDR.routerServerSide,
        blockPorts: [8883],
      });
      const all = [
        ['squid-auth', squidAuth],
        ['squid-443', squid443],
        ['squid-v4', squidV4],
        ['dante', dante],
      ] as const;
      for (const [name, cmd] of all) bed.spawnHelper(name, bed.ns.router, cmd.cmd, cmd.args);
      await Promise.all(all.map(([, cmd]) => waitReady(cmd)));
    }, 120_000);

    afterEach(() => bed?.clearFaults());

    afterAll(async () => {
      await lab?.stop().catch(() => {});
      await bed?.destroy();
      expect(bed?.leftovers() ?? []).toEqual([]);
    }, 30_000);

    it('js#10: no DNS, direct ports dropped, HTTPS_PROXY set → PROXY_REQUIRED; every route works through Squid', async () => {
      bed.iptables('-A', 'FORWARD', '-s', ADDR.client, '-p', 'tcp', '-j', 'DROP');
      const env = { ...process.env, HTTPS_PROXY: `http://alice:${PASSWORD}@${PROXY}:3128` };
      const { report, run } = await check({ env, extra: ['--dns-server', '127.0.0.1'] });
      for (const kind of KINDS) {
        expect(cell(report, kind, 'dns').status, line(report, kind)).toBe('fail');
        const via = `${kind} via proxy`;
        expect(
          cells(report, via).every((c) => c.status === 'pass'),
          line(report, via),
        ).toBe(true);
        expect(cell(report, via, 'proxy').evidence).toMatchObject({
          status: 200,
          proxySource: 'HTTPS_PROXY',
          credentialsSent: true,
        });
        expect(cell(report, via, 'dns').code).toBe('DNS_BY_PROXY');
        expect(cell(report, via, 'tcp').evidence).toMatchObject({ address: PROXY, port: 3128, family: 4 });
      }
      const f = top(report);
      expect(f.code).toBe('PROXY_REQUIRED');
      expect(f.params).toMatchObject({ source: 'HTTPS_PROXY', proxy: `http://alice:****@${PROXY}:3128` });
      expect(report.diagnosis.map((d) => d.code)).not.toContain('DNS_FAILURE');
      expect(run.exitCode).toBe(1);
    });

    it('Squid without credentials: 407 → PROXY_AUTH_REQUIRED; with a wrong password: refused credentials', async () => {
      const none = (
        await check({
          routes: ['mqtt-443'],
          extra: ['--proxy', `http://${PROXY}:3128`, '--proxy-only', '--no-protocol'],
        })
      ).report;
      expect(line(none, 'mqtt-443 via proxy')).toMatch(
        /^dns:pass:DNS_BY_PROXY tcp:pass:TCP_OK proxy:fail:PROXY_AUTH_REQUIRED tls:skip/,
      );
      expect(cell(none, 'mqtt-443 via proxy', 'proxy').evidence).toMatchObject({
        status: 407,
        proxyAuthenticate: ['Basic realm="iot-doctor-test-proxy"'],
      });
      expect(top(none)).toMatchObject({ code: 'PROXY_AUTH_REQUIRED', params: { credentialsSent: false } });
      const wrong = (
        await check({
          routes: ['mqtt-443'],
          extra: ['--proxy', `http://alice:not-${PASSWORD}@${PROXY}:3128`, '--proxy-only', '--no-protocol'],
        })
      ).report;
      expect(top(wrong)).toMatchObject({ code: 'PROXY_AUTH_REQUIRED', params: { credentialsSent: true } });
    });

    it('Squid allowing only 443: 8883 and 8443 refused with 403 → PROXY_BLOCKS_PORT, 443 works through it', async () => {
      const { report } = await check({ extra: ['--proxy', `http://${PROXY}:3129`, '--proxy-only'] });
      for (const kind of ['mqtt-8883', 'https-8443']) {
        expect(cell(report, `${kind} via proxy`, 'proxy')).toMatchObject({
          status: 'fail',
          code: 'PROXY_DENIED',
          evidence: { status: 403 },
        });
      }
      for (const kind of ['mqtt-443', 'https-443'])
        expect(
          cells(report, `${kind} via proxy`).every((c) => c.status === 'pass'),
          line(report, `${kind} via proxy`),
        ).toBe(true);
      expect(cells(report, 'mqtt-8883')).toEqual([]);
      expect(finding(report, 'PROXY_BLOCKS_PORT').params).toMatchObject({
        refusedPorts: [8443, 8883],
        allowedPorts: [443],
      });
    });

    it('Dante (socks5h) blocking 8883: REP 2 → PROXY_BLOCKS_PORT; the other routes work through it', async () => {
      const { report } = await check({ extra: ['--proxy', `socks5h://${PROXY}:1080`, '--proxy-only'] });
      expect(cell(report, 'mqtt-8883 via proxy', 'proxy')).toMatchObject({
        code: 'PROXY_DENIED',
        evidence: { rep: 2, repName: 'connection not allowed by ruleset' },
      });
      for (const kind of ['mqtt-443', 'https-8443', 'https-443'])
        expect(
          cells(report, `${kind} via proxy`).every((c) => c.status === 'pass'),
          line(report, `${kind} via proxy`),
        ).toBe(true);
      expect(finding(report, 'PROXY_BLOCKS_PORT').params).toMatchObject({ refusedPorts: [8883] });
    });

    it('Squid whose tunnels to 443 are re-signed by a TLS-inspecting box: TLS_INTERCEPTED on the proxied routes', async () => {
      const inspection = makeInspectionPki(join(bed.tmp, 'inspection'), lab.endpoint);
      const box = await interceptPort(bed, inspection, 443, 3130, 'squid');
      try {
        const proxy = `http://${PROXY}:3131`;
        const { report } = await check({
          routes: ['mqtt-443', 'https-443'],
          extra: ['--proxy', proxy, '--proxy-only', '--no-protocol'],
        });
        for (const kind of ['mqtt-443', 'https-443']) {
          const tls = cell(report, `${kind} via proxy`, 'tls');
          expect(tls.code).toBe('TLS_CHAIN_UNTRUSTED');
          expect((tls.evidence['chain'] as { issuer: string }[])[0]?.issuer).toContain('Corporate TLS Inspection CA');
          expect(cell(report, `${kind} via proxy`, 'proxy').evidence).toMatchObject({ status: 200 });
        }
        expect(finding(report, 'TLS_INTERCEPTED').params['routes']).toEqual([
          'mqtt-443 via proxy',
          'https-443 via proxy',
        ]);
      } finally {
        const seen = await box.stop();
        expect(seen?.connections).toBeGreaterThanOrEqual(2);
      }
    });

    it('a proxy that does not answer while the direct path works → PROXY_UNREACHABLE, never "site unreachable"', async () => {
      const { report } = await check({ routes: ['mqtt-443'], extra: ['--proxy', `http://${PROXY}:3999`, '-4'] });
      expect(cell(report, 'mqtt-443 via proxy', 'tcp')).toMatchObject({ status: 'fail', code: 'TCP_REFUSED' });
      expect(cells(report, 'mqtt-443').every((c) => c.status === 'pass')).toBe(true);
      const f = top(report);
      expect(f.code).toBe('PROXY_UNREACHABLE');
      expect(f.severity).toBe('warning');
      expect(f.params['directWorks']).toEqual(['mqtt-443']);
    });

    it('IPv6 path dropped: the IPv6 columns time out, IPv4 works → IPV6_PATH_BROKEN; every cell names address and family', async () => {
      bed.ip6tables('-A', 'FORWARD', '-d', ADDR6.server, '-p', 'tcp', '-j', 'DROP');
      const { report } = await check({ routes: ['mqtt-8883', 'https-443'], timeoutMs: 1000 });
      for (const kind of ['mqtt-8883', 'https-443']) {
        expect(cell(report, `${kind} IPv6`, 'tcp')).toMatchObject({
          status: 'fail',
          code: 'TCP_TIMEOUT',
          evidence: { address: ADDR6.server, family: 6 },
        });
        for (const c of cells(report, kind))
          expect(c.evidence, c.id).toMatchObject({ address: ADDR.server, family: 4 });
        expect(cells(report, kind).every((c) => c.status === 'pass')).toBe(true);
      }
      expect(top(report)).toMatchObject({ code: 'IPV6_PATH_BROKEN', params: { family: 6, address: ADDR6.server } });
      expect(report.diagnosis.map((d) => d.code)).not.toContain('PORT_BLOCKED');
    });

    it('IPv4 path dropped, IPv6 works → IPV4_PATH_BROKEN; -6 after an array option probes IPv6 only', async () => {
      bed.iptables('-A', 'FORWARD', '-d', ADDR.server, '-p', 'tcp', '-j', 'DROP');
      const { report } = await check({ routes: ['mqtt-8883'], timeoutMs: 1000 });
      expect(cell(report, 'mqtt-8883', 'tcp')).toMatchObject({ code: 'TCP_TIMEOUT', evidence: { family: 4 } });
      expect(cells(report, 'mqtt-8883 IPv6').every((c) => c.status === 'pass')).toBe(true);
      expect(top(report).code).toBe('IPV4_PATH_BROKEN');
      const only6 = (await check({ extra: ['--routes', 'mqtt-8883', '-6'] })).report;
      expect(only6.results.filter((r) => r.route).map((r) => r.route)).toEqual(Array(7).fill('mqtt-8883'));
      expect(cell(only6, 'mqtt-8883', 'tcp').evidence).toMatchObject({ address: ADDR6.server, family: 6 });
      expect(only6.exitCode).toBe(0);
    });

    const sserver = (port: number): string[] => [
      '--ca',
      pki.ca,
      '--routes',
      'mqtt-8883',
      '--no-protocol',
      '-4',
      '--connect-to',
      `::${ADDR.server}:${port}`,
    ];

    it('TLS 1.3-only server, TLS 1.2-only device: alert protocol_version → TLS_VERSION_UNSUPPORTED, 1.3 accepted', async () => {
      const server = await startSServer(bed, 'tls13', ADDR.server, 9001, [
        '-cert',
        pki.leaf,
        '-key',
        pki.leafKey,
        '-tls1_3',
      ]);
      const { report } = await check({ ca: pki.ca, extra: [...sserver(9001), '--tls-version', '1.2'] });
      await server.stop();
      expect(cell(report, 'mqtt-8883', 'tls')).toMatchObject({
        status: 'fail',
        evidence: { alertNumber: 70, device: { acceptedVersions: ['1.3'] } },
      });
      expect(top(report)).toMatchObject({
        code: 'TLS_VERSION_UNSUPPORTED',
        params: { deviceVersion: '1.2', acceptedVersions: ['1.3'] },
      });
    });

    it('one cipher suite on the server, another on the device: handshake_failure → NO_SHARED_CIPHER naming the accepted one', async () => {
      const server = await startSServer(bed, 'cipher', ADDR.server, 9002, [
        '-cert',
        pki.leaf,
        '-key',
        pki.leafKey,
        '-tls1_2',
        '-cipher',
        'ECDHE-RSA-AES256-GCM-SHA384',
      ]);
      const { report } = await check({
        ca: pki.ca,
        extra: [...sserver(9002), '--tls-version', '1.2', '--ciphers', 'AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256'],
      });
      await server.stop();
      expect(cell(report, 'mqtt-8883', 'tls').evidence).toMatchObject({ alertNumber: 40 });
      expect(top(report)).toMatchObject({
        code: 'NO_SHARED_CIPHER',
        params: { acceptedCiphers: ['ECDHE-RSA-AES256-GCM-SHA384'] },
      });
    });

    it('a server that picks its certificate by SNI, a device without SNI: another name → SNI_MISSING', async () => {
      const server = await startSServer(bed, 'sni', ADDR.server, 9003, [
        '-cert',
        pki.other,
        '-key',
        pki.otherKey,
        '-servername',
        lab.endpoint,
        '-cert2',
        pki.leaf,
        '-key2',
        pki.leafKey,
      ]);
      const { report } = await check({ ca: pki.ca, extra: [...sserver(9003), '--no-sni'] });
      await server.stop();
      expect(cell(report, 'mqtt-8883', 'tls')).toMatchObject({
        code: 'TLS_HOSTNAME_MISMATCH',
        evidence: { sni: null, device: { withSni: 'ok' } },
      });
      expect(top(report).code).toBe('SNI_MISSING');
    });

    it('a five-intermediate chain against a 4 KB device buffer → TLS_RECORD_TOO_LARGE with the size needed', async () => {
      const server = await startSServer(bed, 'deep', ADDR.server, 9004, [
        '-cert',
        pki.deepLeaf,
        '-key',
        pki.deepKey,
        '-cert_chain',
        pki.deepChain,
        '-tls1_2',
      ]);
      const { report } = await check({ ca: pki.ca, extra: [...sserver(9004), '--max-record', '4096'] });
      await server.stop();
      const tls = cell(report, 'mqtt-8883', 'tls');
      expect(tls.code).toBe('TLS_RECORD_TOO_LARGE');
      expect(tls.evidence['certificateMessageBytes']).toBeGreaterThan(4096);
      expect(top(report)).toMatchObject({
        code: 'TLS_RECORD_TOO_LARGE',
        params: { bytesNeeded: tls.evidence['certificateMessageBytes'], maxRecord: 4096 },
      });
    });

    it('--no-alpn against the lab: 443 routes lose client-certificate authentication → ALPN_NOT_OFFERED', async () => {
      const { report } = await check({ routes: ['mqtt-443', 'https-443'], extra: ['--no-alpn', '-4'] });
      for (const kind of ['mqtt-443', 'https-443']) {
        expect(cell(report, kind, 'alpn')).toMatchObject({ status: 'warn', code: 'ALPN_NOT_OFFERED' });
        expect(
          cells(report, kind).some((c) => c.status === 'fail'),
          line(report, kind),
        ).toBe(true);
      }
      expect(top(report).code).toBe('ALPN_NOT_OFFERED');
    });

    it('no output of any run holds the proxy password', () => {
      expect(outputs.length).toBeGreaterThan(10);
      for (const text of outputs) expect(text).not.toContain(PASSWORD);
    });
  },
);
