/**
 * The report's account of the field path: why the direct routes probe the families they probe (planTarget over a
 * given DNS answer), the proxy without its credentials, the device's TLS settings, and how the table, Markdown, HTML
 * and JUnit headers show them (nothing for a report without these fields: the golden files stay as they are).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { planTarget } from '../../checks/route-plan.js';
import type { Report } from '../../src/model/index.js';
import { pathSummary } from '../../src/path-summary.js';
import type { DnsOutcome } from '../../src/probes/dns.js';
import { parseProxyUrl } from '../../src/probes/proxy-config.js';
import { renderReport } from '../../src/report/index.js';
import { reportValidator } from '../helpers/cli.js';
import { ENDPOINT, targetFor } from '../helpers/servers.js';

const answer =
  (...families: (4 | 6)[]) =>
  (): Promise<DnsOutcome> =>
    Promise.resolve(
      families.length
        ? {
            ok: true,
            addresses: families.map((f) => ({ address: f === 4 ? '198.51.100.7' : '2001:db8::7', family: f })),
            durationMs: 1,
            source: 'dns',
          }
        : { ok: false, code: 'DNS_NXDOMAIN', message: 'no such name', durationMs: 1 },
    );
const base = targetFor({}, { routes: ['mqtt-8883'] });

describe('address families of the direct routes, and why', () => {
  it('names a missing AAAA or A record, both families, -4/-6, --resolve, --connect-to, --proxy-only, no answer', async () => {
    const families = async (extra: Parameters<typeof targetFor>[1], ...dns: (4 | 6)[]) => {
      const t = await planTarget({ ...base, ...extra }, answer(...dns));
      return { probed: t.plannedFamilies, reason: t.familiesReason, routes: t.routes };
    };
    expect(await families({}, 4)).toEqual({
      probed: [4],
      reason: `no AAAA record for ${ENDPOINT}`,
      routes: ['mqtt-8883'],
    });
    expect(await families({}, 6)).toMatchObject({ probed: [6], reason: `no A record for ${ENDPOINT}` });
    expect(await families({}, 6, 4)).toEqual({
      probed: [4, 6],
      reason: 'A and AAAA published',
      routes: ['mqtt-8883', 'mqtt-8883 IPv6'],
    });
    expect(await families({ family: 4 }, 4, 6)).toMatchObject({ probed: [4], reason: '-4 (--ipv4)' });
    expect(await families({ family: 6 }, 4, 6)).toMatchObject({ probed: [6], reason: '-6 (--ipv6)' });
    expect(await families({ resolve: [{ host: ENDPOINT, addresses: ['::1'] }] }, 4)).toMatchObject({
      probed: [6],
      reason: '--resolve gives the addresses',
    });
    const connectTo = [{ host: ENDPOINT, port: 8883, address: '127.0.0.1', toPort: 1 }];
    expect(await families({ connectTo }, 4, 6)).toMatchObject({ probed: [], reason: /--connect-to/ });
    expect(await families({})).toMatchObject({ probed: [], reason: /^DNS gave no address/ });
    const proxy = parseProxyUrl('http://u:pw@proxy.example:3128');
    expect(await families({ proxy, proxyOnly: true }, 4, 6)).toEqual({
      probed: [],
      reason: 'none: --proxy-only (no direct route)',
      routes: ['mqtt-8883 via proxy'],
    });
  });
});

describe('the report target: proxy, families, device TLS', () => {
  const sample = (): Report =>
    JSON.parse(
      readFileSync(fileURLToPath(new URL('../fixtures/report-sample.json', import.meta.url)), 'utf8'),
    ) as Report;

  it('gives the proxy URL without user or password, its source, why; the device TLS flags', async () => {
    const planned = await planTarget(
      {
        ...base,
        proxy: parseProxyUrl('socks5h://alice:s3cret@[2001:db8::3]:1080', 'ALL_PROXY'),
        proxyReason: 'ALL_PROXY from the environment',
        deviceTls: { version: '1.2', ciphers: 'AES128-SHA', maxRecord: 4096, sni: false, alpn: true },
      },
      answer(4),
    );
    const summary = pathSummary(planned);
    expect(summary).toEqual({
      proxy: {
        url: 'socks5h://[2001:db8::3]:1080',
        source: 'ALL_PROXY',
        credentials: true,
        reason: 'ALL_PROXY from the environment',
      },
      families: { probed: [4], reason: `no AAAA record for ${ENDPOINT}` },
      deviceTls: { tlsVersion: '1.2', ciphers: 'AES128-SHA', maxRecord: 4096, sni: false, alpn: true },
    });
    expect(JSON.stringify(summary)).not.toMatch(/alice|s3cret/);
    const report = { ...sample(), target: { ...sample().target, ...summary } };
    const validate = reportValidator();
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    const proxyLine = `socks5h://[2001:db8::3]:1080 (ALL_PROXY from the environment, with credentials)`;
    const device = 'TLS 1.2 only, ciphers AES128-SHA, max record 4096 bytes, no SNI';
    const table = renderReport(report, 'table', { color: false });
    expect(table).toContain(`  proxy: ${proxyLine}\n  address families: IPv4 (no AAAA record for ${ENDPOINT})`);
    expect(table).toContain(`  device tls: ${device}`);
    const md = renderReport(report, 'markdown', { color: false });
    expect(md).toContain(`- **Proxy:** ${proxyLine.replace('[', '\\[').replace(']', '\\]')}`);
    expect(md).toContain(`- **Device TLS:** ${device}`);
    const html = renderReport(report, 'html', { color: false });
    expect(html).toMatch(/Address families<\/[a-z]+>\s*<[a-z]+>IPv4 \(no AAAA record/);
    expect(renderReport(report, 'junit', { color: false })).toContain(`<property name="deviceTls" value="${device}"/>`);
    // Without the fields (an older report), no line: the sample's renderings are the golden files.
    expect(renderReport(sample(), 'table', { color: false })).not.toMatch(/proxy:|address families:/);
  });

  it('says why no proxy applies, and leaves the device out when it is the default', () => {
    const summary = pathSummary({
      ...base,
      proxyReason: 'no proxy configured',
      deviceTls: { sni: true, alpn: true },
    });
    expect(summary).toEqual({ proxy: { reason: 'no proxy configured' }, deviceTls: { sni: true, alpn: true } });
    const report = { ...sample(), target: { ...sample().target, ...summary } };
    const table = renderReport(report, 'table', { color: false });
    expect(table).toContain('  proxy: no proxy configured\n');
    expect(table).not.toContain('device tls');
  });
});
