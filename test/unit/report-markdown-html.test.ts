import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CheckResult, Report } from '../../src/model/index.js';
import { escapeHtml, renderHtml } from '../../src/report/html.js';
import { mdBlock, mdCode, mdText, renderMarkdown } from '../../src/report/markdown.js';

const sample = (): Report =>
  JSON.parse(readFileSync(new URL('../fixtures/report-sample.json', import.meta.url), 'utf8')) as Report;

const EVIL = '<script>alert(1)</script> | *bold* _x_ [link](http://example.com) `tick` & &amp; "q" \'s\'';

function evil(): Report {
  const r = sample();
  const cell = r.results.find((x) => x.id === 'route.mqtt-8883.tcp')!;
  cell.summary = EVIL;
  cell.hint = EVIL;
  cell.reproduce = 'printf \'```\' && echo "</code></pre><script>x</script>"';
  r.diagnosis[0]!.title = EVIL;
  r.diagnosis[0]!.explanation = EVIL;
  r.diagnosis[0]!.remediation = [EVIL];
  r.target.endpoint = `${r.target.endpoint}<img src=x onerror=alert(1)>`;
  return r;
}

describe('Markdown', () => {
  it('matrix cells carry a symbol and a word, and the failing code', () => {
    const md = renderMarkdown(sample());
    expect(md).toContain(
      '| tcp | ✖ fail 5002 ms<br>`TCP_TIMEOUT` | ✔ pass 23 ms | ✖ fail 5002 ms<br>`TCP_TIMEOUT` | ✔ pass 22 ms |',
    );
    expect(md).toContain('| tls | - skip | ✔ pass 61 ms | - skip | ✔ pass 58 ms |');
  });

  it('diagnosis first, then failing details with reproduce commands in code blocks', () => {
    const md = renderMarkdown(sample());
    expect(md.indexOf('## Diagnosis')).toBeLessThan(md.indexOf('## Details'));
    expect(md).toContain(
      '### 1. [`PORT_BLOCKED`](docs/codes.md#port_blocked) Outbound TCP ports 8443 and 8883 are blocked (timeout)',
    );
    // Every finding links to its catalogue page.
    for (const f of sample().diagnosis) expect(md).toContain(`](docs/codes.md#${f.code.toLowerCase()})`);
    expect(md).toContain('```sh\nnc -vz -w 5 198.51.100.23 8883\n```');
  });

  it('expected-blocked and unexpectedly-open cells say so in words', () => {
    const r = sample();
    const tcp = r.results.find((x) => x.id === 'route.mqtt-8883.tcp')!;
    Object.assign(tcp, { status: 'skip', code: 'EXPECTED_BLOCKED' } satisfies Partial<CheckResult>);
    const tcp2 = r.results.find((x) => x.id === 'route.mqtt-443.tcp')!;
    Object.assign(tcp2, { status: 'warn', code: 'UNEXPECTEDLY_OPEN' } satisfies Partial<CheckResult>);
    const md = renderMarkdown(r);
    expect(md).toContain('- expected blocked<br>`EXPECTED_BLOCKED`');
    expect(md).toContain('! unexpectedly open 23 ms<br>`UNEXPECTEDLY_OPEN`');
  });

  it('text from the report cannot inject HTML, links, emphasis or break a table or a code block', () => {
    const md = renderMarkdown(evil());
    // Outside fenced code blocks (which Markdown shows literally) no tag survives.
    const prose = md.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, '');
    expect(prose).not.toContain('<script>');
    expect(prose).not.toContain('<img');
    expect(prose).toContain('&lt;script>alert(1)&lt;/script>');
    expect(md).toContain('\\| \\*bold\\* \\_x\\_ \\[link\\](http://example.com) \\`tick\\` & &amp;amp;');
    // The reproduce block's fence is longer than the backticks inside it.
    expect(md).toContain('````sh\nprintf \'```\' && echo "</code></pre><script>x</script>"\n````');
  });

  it('helpers', () => {
    expect(mdText('a|b')).toBe('a\\|b');
    expect(mdText('TCP_TIMEOUT')).toBe('TCP_TIMEOUT');
    expect(mdText('line\nbreak')).toBe('line break');
    expect(mdCode('a`b')).toBe('``a`b``');
    expect(mdCode('`x`')).toBe('`` `x` ``');
    expect(mdBlock('x')).toBe('```\nx\n```');
  });
});

describe('HTML', () => {
  it('is one self-contained file: no scripts, no external references', () => {
    const html = renderHtml(sample());
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    // Nothing is loaded: no src at all. The only links are the findings' relative links to their catalogue pages.
    expect(html).not.toMatch(/\bsrc=/i);
    const hrefs = [...html.matchAll(/\bhref="([^"]*)"/gi)].map((m) => m[1]);
    expect(hrefs.length).toBeGreaterThan(0);
    for (const h of hrefs) expect(h).toMatch(/^docs\/codes\.md#[a-z0-9_]+$/);
    expect(html).toContain("default-src 'none'");
  });

  it('matrix in colour and words; diagnosis; one timing bar per route', () => {
    const html = renderHtml(sample());
    expect(html).toMatch(
      /<td class="st-fail" title="[^"]*">✖ fail <span class="ms">5002 ms<\/span><span class="code mono">TCP_TIMEOUT<\/span><\/td>/,
    );
    expect(html).toMatch(/<td class="st-pass" title="[^"]*">✔ pass/);
    expect(html).toContain(
      '<a class="code mono" href="docs/codes.md#port_blocked">PORT_BLOCKED</a> Outbound TCP ports 8443 and 8883 are blocked (timeout)',
    );
    expect((html.match(/<svg /g) ?? []).length).toBe(4);
    expect(html).toContain(
      'aria-label="mqtt-443: dns 14 ms pass, tcp 23 ms pass, tls 61 ms pass, client-auth 35 ms pass, protocol 48 ms pass, round-trip 123 ms pass; total 304 ms"',
    );
    expect(html).toContain('<pre><code>nc -vz -w 5 198.51.100.23 8883</code></pre>');
  });

  it('escapes every text', () => {
    const html = renderHtml(evil());
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('</code></pre><script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&amp;amp;');
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });
});
