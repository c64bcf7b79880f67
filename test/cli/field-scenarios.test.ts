/**
 * Every field-path diagnosis code is produced by its lab scenario through `iot-doctor demo` (the built CLI), and no
 * output shows the lab proxy's password.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/model/index.js';
import { REPO_ROOT, ensureBuilt } from '../e2e/bed.js';

const run = promisify(execFile);
const EXPECTED: Record<string, string> = {
  'proxy-required': 'PROXY_REQUIRED',
  'proxy-intercepting': 'TLS_INTERCEPTED',
  'proxy-auth-required': 'PROXY_AUTH_REQUIRED',
  'proxy-443-only': 'PROXY_BLOCKS_PORT',
  'socks5-proxy': 'PROXY_BLOCKS_PORT',
  'proxy-unreachable': 'PROXY_UNREACHABLE',
  'ipv6-broken': 'IPV6_PATH_BROKEN',
  'ipv4-broken': 'IPV4_PATH_BROKEN',
  'tls13-only': 'TLS_VERSION_UNSUPPORTED',
  'tls13-only-close': 'TLS_VERSION_UNSUPPORTED',
  'restricted-ciphers': 'NO_SHARED_CIPHER',
  'restricted-ciphers-close': 'NO_SHARED_CIPHER',
  'long-chain': 'TLS_RECORD_TOO_LARGE',
  'sni-only-cert': 'SNI_MISSING',
  'device-no-alpn': 'ALPN_NOT_OFFERED',
};

async function demo(scenario: string): Promise<{ report: Report; stderr: string; stdout: string }> {
  // --timeout 8000: several demos (each a lab, five routes and the cloud checks) share two cores with the rest of
  // the suite; the default 3 s run deadline can starve a check there into a warning. No scenario here waits out a
  // timeout on the healthy path, so this only gives a loaded machine room.
  const args = [
    join(REPO_ROOT, 'dist/src/bin.js'),
    'demo',
    '--scenario',
    scenario,
    '--timeout',
    '8000',
    '--format',
    'json',
    '--output',
    '',
  ];
  const out = await run(process.execPath, args, { timeout: 60_000 }).catch(
    (err: { stdout: string; stderr: string }) => err,
  );
  return { report: JSON.parse(out.stdout) as Report, stdout: out.stdout, stderr: out.stderr };
}

describe('field scenarios of the lab, through demo', () => {
  it('each scenario leads the diagnosis with its code', async () => {
    ensureBuilt();
    // At most three demos at a time, each started as soon as one ends: no batch waits for its slowest.
    const names = Object.keys(EXPECTED);
    const seen: Record<string, string> = {};
    const reports: Record<string, Report> = {};
    const queue = [...names];
    const worker = async (): Promise<void> => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        const { report, stdout, stderr } = await demo(name);
        seen[name] = report.diagnosis[0]?.code ?? 'none';
        reports[name] = report;
        expect(report.exitCode, name).toBe(1);
        expect(`${stdout}${stderr}`).not.toMatch(/lab:lab-[a-z0-9]{4,}@/);
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    expect(seen).toEqual(EXPECTED);
    // The re-signing proxy: CONNECT answered 200, then each tunnel's chain is the inspection CA's.
    const intercepted = reports['proxy-intercepting']!;
    // The demo has AWS credentials, so mqtt-wss-443 runs (and is intercepted) through the proxy too.
    const kinds = ['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443', 'mqtt-wss-443'].map((k) => `${k} via proxy`);
    for (const route of kinds) {
      const cell = (stage: string) => intercepted.results.find((r) => r.id === `route.${route}.${stage}`);
      expect(cell('proxy'), route).toMatchObject({ status: 'pass', evidence: { status: 200 } });
      expect(cell('tls'), route).toMatchObject({ status: 'fail', code: 'TLS_CHAIN_UNTRUSTED' });
      const chain = cell('tls')!.evidence['chain'] as { issuer: string }[];
      expect(chain[0]?.issuer).toContain('Corporate TLS Inspection CA');
    }
    expect(intercepted.diagnosis[0]!.params['routes']).toEqual(kinds);
  }, 300_000);

  it('demo --list lists every field scenario', async () => {
    ensureBuilt();
    const { stdout } = await run(process.execPath, [join(REPO_ROOT, 'dist/src/bin.js'), 'demo', '--list']);
    for (const name of Object.keys(EXPECTED)) expect(stdout).toMatch(new RegExp(`^${name}\\s+\\S`, 'm'));
  });
});
