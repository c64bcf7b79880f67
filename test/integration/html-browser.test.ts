/**
 * The HTML report in a real browser: headless Chromium loads the rendered sample from a file (offline, no network)
 * and the test reads the DOM it built. Skips with one line when Chromium is not installed (Debian package
 * `chromium`). Set IOT_DOCTOR_KEEP_SCREENSHOT=<path> to keep a screenshot for a look by eye.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/model/index.js';
import { renderReport } from '../../src/report/index.js';

const CANDIDATES = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(
  (p): p is string => !!p,
);
const CHROMIUM = CANDIDATES.find((p) => existsSync(p));
if (!CHROMIUM)
  console.warn('html-browser: skipped, Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)');

const sample = JSON.parse(readFileSync(new URL('../fixtures/report-sample.json', import.meta.url), 'utf8')) as Report;

function flags(profile: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    '--hide-scrollbars',
    `--user-data-dir=${profile}`,
  ];
}

describe.skipIf(!CHROMIUM)('HTML report in headless Chromium', () => {
  let dir: string;
  let page: string;
  let dom: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iot-doctor-html-'));
    page = join(dir, 'report.html');
    writeFileSync(page, renderReport(sample, 'html', { color: false }));
    const res = await execa(
      CHROMIUM!,
      [...flags(join(dir, 'profile-dom')), '--virtual-time-budget=2000', '--dump-dom', pathToFileURL(page).href],
      {
        timeout: 60_000,
        reject: false,
      },
    );
    expect(res.exitCode, res.stderr).toBe(0);
    dom = res.stdout;
  }, 90_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('renders the diagnosis', () => {
    expect(dom).toContain('<section id="diagnosis">');
    expect(dom).toContain('PORT_BLOCKED');
    expect(dom).toContain('Outbound TCP ports 8443 and 8883 are blocked (timeout)');
    expect(dom).toContain('Move the device to port 443 with ALPN x-amzn-mqtt-ca');
  });

  it('renders the matrix with words, not colour alone', () => {
    const table = /<table class="matrix">[\s\S]*?<\/table>/.exec(dom)?.[0] ?? '';
    expect(table).not.toBe('');
    for (const route of ['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443']) expect(table).toContain(route);
    expect(table).toMatch(/<td class="st-fail"[^>]*>✖ fail/);
    expect(table).toMatch(/<td class="st-pass"[^>]*>✔ pass/);
    expect(table).toContain('TCP_TIMEOUT');
    expect((table.match(/<tr>/g) ?? []).length).toBe(8);
  });

  it('draws one timing bar per route', () => {
    expect((dom.match(/<figure class="timing">/g) ?? []).length).toBe(4);
    expect((dom.match(/<svg /g) ?? []).length).toBe(4);
  });

  it('does not scroll sideways at 1200 px, even with many route columns and long unbroken values', async () => {
    const wide = structuredClone(sample);
    const plain = wide.results.filter((r) => r.route && !r.route.includes(' '));
    for (const variant of ['IPv6', 'via proxy', 'IPv6 via proxy']) {
      for (const c of plain)
        wide.results.push({
          ...c,
          id: c.id.replace(c.route!, `${c.route} ${variant}`),
          route: `${c.route} ${variant}`,
        });
    }
    const first = wide.results[0]!;
    Object.assign(first, { summary: 'x'.repeat(300), reproduce: `openssl s_client -connect ${'h'.repeat(200)}:8883` });
    first.evidence = { ...first.evidence, longValue: 'y'.repeat(400) };
    // A copy for measuring only: the report's CSP forbids scripts, so the copy drops it and adds one that writes
    // the page's scroll width into the DOM that --dump-dom prints.
    const html = renderReport(wide, 'html', { color: false })
      .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '')
      .replace(
        '</body>',
        '<script>const s = document.scrollingElement; document.body.dataset.width = s.scrollWidth + " " + s.clientWidth;</script></body>',
      );
    expect(html).not.toContain('Content-Security-Policy');
    const measured = join(dir, 'wide.html');
    writeFileSync(measured, html);
    const res = await execa(
      CHROMIUM!,
      [
        ...flags(join(dir, 'profile-wide')),
        '--window-size=1200,2000',
        '--virtual-time-budget=2000',
        '--dump-dom',
        pathToFileURL(measured).href,
      ],
      { timeout: 60_000, reject: false },
    );
    expect(res.exitCode, res.stderr).toBe(0);
    const [scrollWidth, clientWidth] = (/data-width="(\d+) (\d+)"/.exec(res.stdout) ?? []).slice(1).map(Number);
    expect(clientWidth).toBeGreaterThan(1100);
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth!);
  }, 90_000);

  it('takes a screenshot', async () => {
    const shot = join(dir, 'report.png');
    const res = await execa(
      CHROMIUM!,
      [
        ...flags(join(dir, 'profile-shot')),
        '--window-size=1200,2400',
        `--screenshot=${shot}`,
        pathToFileURL(page).href,
      ],
      { timeout: 60_000, reject: false },
    );
    expect(res.exitCode, res.stderr).toBe(0);
    expect(statSync(shot).size).toBeGreaterThan(20_000);
    const keep = process.env['IOT_DOCTOR_KEEP_SCREENSHOT'];
    if (keep) copyFileSync(shot, keep);
  }, 90_000);
});
