/**
 * `--dns-server` with `--connect-to HOST:PORT:IP`: the IP literal of the rule is used as is, never sent to the DNS
 * server as a name (a real server answers NXDOMAIN for "127.0.0.1"). The dns cells say the address came from
 * --connect-to, the routes connect, and the run against the lab is healthy, as it is without --dns-server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import type { Report } from '../../src/model/index.js';
import { labCheckArgs, runCli } from '../helpers/cli.js';
import { startDnsServer } from '../helpers/dns-server.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-dns-connect-to-'));
const NO_PROXY_ENV = { HTTPS_PROXY: undefined, https_proxy: undefined, ALL_PROXY: undefined, all_proxy: undefined };
const NO_AWS_ENV = {
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_PROFILE: undefined,
  AWS_CONFIG_FILE: join(work, 'none'),
  AWS_SHARED_CREDENTIALS_FILE: join(work, 'none'),
};
let lab: Lab;
let files: { ca: string; cert: string; key: string };
let dns: Awaited<ReturnType<typeof startDnsServer>>;

beforeAll(async () => {
  // A real resolver answers NXDOMAIN for the "name" 127.0.0.1 (there is no top-level domain "1").
  dns = await startDnsServer({ nxdomain: ['127.0.0.1'] });
  lab = await startLab({ pki: createLabPki('ec'), mqtt5: 'off' });
  files = await lab.writeFiles(join(work, 'lab'));
});

afterAll(async () => {
  await lab?.close();
  await dns?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('--dns-server with --connect-to to an IP address', () => {
  it('uses the address as is: dns cells pass from --connect-to, tcp connects, no query for the IP', async () => {
    const r = await runCli(labCheckArgs(lab, files, ['--dns-server', dns.address, '--format', 'json', '--no-cloud']), {
      cwd: work,
      env: { ...NO_PROXY_ENV, ...NO_AWS_ENV },
    });
    const report = JSON.parse(r.stdout) as Report;
    const dnsCells = report.results.filter((x) => x.id.endsWith('.dns'));
    expect(dnsCells.length).toBeGreaterThan(0);
    for (const cell of dnsCells) {
      expect(cell, cell.id).toMatchObject({ status: 'pass' });
      expect(cell.evidence, cell.id).toMatchObject({ addresses: ['127.0.0.1'], override: '--connect-to' });
    }
    const tcpCells = report.results.filter((x) => x.id.endsWith('.tcp'));
    expect(tcpCells.length).toBe(dnsCells.length);
    for (const cell of tcpCells) expect(cell.status, cell.id).toBe('pass');
    expect(report.diagnosis.map((d) => d.code)).not.toContain('DNS_FAILURE');
    expect(r.exitCode, r.stderr).toBe(0);
    // Every route's host is mapped by --connect-to: the DNS server was never asked about the IP literal.
    expect(dns.queries()).toBe(0);
  }, 90_000);
});
