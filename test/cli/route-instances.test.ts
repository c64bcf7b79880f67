/**
 * Checks that read the routes read every route INSTANCE (kind × family × proxy), not only the four default ids: a
 * `--proxy-only` run against the lab's proxy-required scenario (direct connections refused, an HTTP CONNECT proxy
 * with Basic auth gets through) verifies the CA file against the chain presented through the proxy and reads the
 * server clock from `https-8443 via proxy`, so an all-green run is HEALTHY.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import type { Report } from '../../src/model/index.js';
import { labCheckArgs, runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-route-instances-'));
const NO_PROXY_ENV = { HTTPS_PROXY: undefined, https_proxy: undefined, ALL_PROXY: undefined, all_proxy: undefined };
const NO_AWS_ENV = { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_PROFILE: undefined };
let lab: Lab;
let files: { ca: string; cert: string; key: string };

beforeAll(async () => {
  lab = await startLab({ pki: createLabPki('ec'), mqtt5: 'off', scenario: 'proxy-required' });
  files = await lab.writeFiles(join(work, 'lab'));
});

afterAll(async () => {
  await lab?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('checks that read the routes take route instances', () => {
  it('--proxy-only against the proxy-required lab: CA verified and clock read through the proxy, HEALTHY', async () => {
    const proxy = lab.checkArgs.proxy;
    expect(proxy).toBeDefined();
    const r = await runCli(labCheckArgs(lab, files, ['--proxy-only', '--format', 'json']), {
      cwd: work,
      env: { ...NO_PROXY_ENV, ...NO_AWS_ENV, HTTPS_PROXY: proxy, NO_PROXY: undefined, no_proxy: undefined },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    const byId = (id: string) => report.results.find((x) => x.id === id);
    // The routes really went through the proxy, and only there.
    expect(byId('route.https-8443 via proxy.proxy')).toMatchObject({ status: 'pass' });
    expect(report.results.some((x) => x.route && !x.route.endsWith('via proxy'))).toBe(false);
    expect(byId('ca.verifies-endpoint')).toMatchObject({ status: 'pass', code: 'CA_VERIFIES_CHAIN' });
    expect(byId('ca.contents')).toMatchObject({ status: 'pass', code: 'CA_CUSTOM_ROOT_VERIFIES_ENDPOINT' });
    expect(byId('clock.skew')).toMatchObject({ status: 'pass', code: 'CLOCK_OK' });
    expect(byId('clock.skew')!.evidence['route']).toMatch(/^https-(8443|443) via proxy$/);
    expect(byId('clock.cert-validity')).toMatchObject({ status: 'pass', code: 'CERT_VALID_BY_SERVER_CLOCK' });
    // Nothing warns or fails; only the cloud checks skip (no AWS credentials in this run).
    expect(report.results.filter((x) => x.status !== 'pass' && !x.id.startsWith('cloud.')).map((x) => x.id)).toEqual(
      [],
    );
    expect(report.results.filter((x) => x.status !== 'pass' && x.status !== 'skip').map((x) => x.id)).toEqual([]);
    expect(report.diagnosis.map((d) => d.code)).toEqual(['HEALTHY']);
  }, 90_000);
});

describe('durations of a run', () => {
  it('each check durationMs and each JUnit suite time are at most the run wall time (demo ipv4-broken)', async () => {
    const out = join(work, 'durations');
    const r = await runCli(['demo', '--scenario', 'ipv4-broken', '--format', 'json,junit', '--output', out], {
      cwd: work,
      env: { ...NO_PROXY_ENV, ...NO_AWS_ENV },
    });
    expect(r.exitCode, r.stderr).toBe(1);
    const written = readdirSync(out);
    const report = JSON.parse(
      readFileSync(
        join(
          out,
          written.find((f) => f.endsWith('.json'))!,
        ),
        'utf8',
      ),
    ) as Report;
    const wallMs = report.durationMs;
    expect(wallMs).toBeGreaterThan(0);
    expect(report.results.filter((x) => x.id.startsWith('cloud.')).length).toBeGreaterThan(5);
    for (const x of report.results) expect(x.durationMs, x.id).toBeLessThanOrEqual(wallMs);
    const xml = readFileSync(
      join(
        out,
        written.find((f) => f.endsWith('.xml'))!,
      ),
      'utf8',
    );
    const suites = [...xml.matchAll(/<testsuite name="([^"]+)"[^>]* time="([0-9.]+)"/g)];
    expect(suites.map((m) => m[1])).toContain('cloud');
    for (const [, name, time] of suites) expect(Number(time) * 1000, name).toBeLessThanOrEqual(wallMs + 1);
    const total = /<testsuites [^>]* time="([0-9.]+)"/.exec(xml)?.[1];
    expect(Number(total) * 1000).toBeCloseTo(wallMs, -1);
  }, 90_000);
});

describe('-4 / -6 against the addresses the user pinned', () => {
  it('a family flag that contradicts --connect-to or --resolve is one usage line and exit 2', async () => {
    const ep = lab.endpoint;
    const cases: [string[], RegExp][] = [
      [
        ['--connect-to', `${ep}:8883:127.0.0.1:1`, '-6'],
        /^iot-doctor: -6 conflicts with the IPv4 address of --connect-to/,
      ],
      [['--connect-to', `${ep}:443:[::1]:1`, '-4'], /^iot-doctor: -4 conflicts with the IPv6 address of --connect-to/],
      [['--connect-to', `:8443:[::1]:1`, '-4'], /^iot-doctor: -4 conflicts with the IPv6 address/],
      [['--resolve', `${ep}:443:::1`, '-4'], /^iot-doctor: -4 conflicts with --resolve .* only IPv6/],
      [['--resolve', `${ep}:443:127.0.0.1`, '-6'], /^iot-doctor: -6 conflicts with --resolve .* only IPv4/],
    ];
    const runs = await Promise.all(
      cases.map(([args]) =>
        runCli(['check', '--endpoint', ep, '--cert', files.cert, '--key', files.key, ...args, '--output', ''], {
          cwd: work,
          env: { ...NO_PROXY_ENV, ...NO_AWS_ENV },
        }),
      ),
    );
    runs.forEach((r, i) => {
      expect(r.exitCode, r.stdout).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(cases[i]![1]);
    });
    // A pin of the chosen family is no conflict: the run probes (and reports the family it was asked for).
    const ok = await runCli(labCheckArgs(lab, files, ['-4', '--format', 'json', '--routes', 'mqtt-8883']), {
      cwd: work,
      env: { ...NO_PROXY_ENV, ...NO_AWS_ENV },
    });
    expect(ok.exitCode, ok.stderr).not.toBe(2);
  }, 90_000);
});
