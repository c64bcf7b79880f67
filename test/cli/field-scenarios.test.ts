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
  const args = [join(REPO_ROOT, 'dist/src/bin.js'), 'demo', '--scenario', scenario, '--format', 'json', '--output', ''];
  const out = await run(process.execPath, args, { timeout: 60_000 }).catch(
    (err: { stdout: string; stderr: string }) => err,
  );
  return { report: JSON.parse(out.stdout) as Report, stdout: out.stdout, stderr: out.stderr };
}

describe('field scenarios of the lab, through demo', () => {
  it('each scenario leads the diagnosis with its code', async () => {
    ensureBuilt();
    const names = Object.keys(EXPECTED);
    const seen: Record<string, string> = {};
    for (let i = 0; i < names.length; i += 4) {
      const batch = names.slice(i, i + 4);
      const runs = await Promise.all(batch.map(demo));
      batch.forEach((name, k) => {
        const { report, stdout, stderr } = runs[k]!;
        seen[name] = report.diagnosis[0]?.code ?? 'none';
        expect(report.exitCode, name).toBe(1);
        expect(`${stdout}${stderr}`).not.toMatch(/lab:lab-[a-z0-9]{4,}@/);
      });
    }
    expect(seen).toEqual(EXPECTED);
  }, 300_000);
});
