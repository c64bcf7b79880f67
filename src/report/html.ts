/**
 * A single self-contained HTML file: no scripts, no external assets, readable offline and printable. The matrix in
 * colour and words, the diagnosis, per-stage timings as one horizontal bar per route (inline SVG), and the details
 * of every failing result. Every piece of text from the report is escaped. A pure function of the report.
 */
import { pathFacts } from './paths.js';
import { alpnLabel } from './routes.js';
import {
  routesIn,
  routeSpecOf,
  STAGE_IDS,
  STATUS_SYMBOLS,
  type CheckResult,
  type Finding,
  type Report,
  type RouteId,
  type Status,
} from '../model/index.js';
import { renderRepeatHtml } from './repeat-text.js';
import { SKIP_CODES } from '../model/result.js';
import { codePageHref } from '../catalogue/link.js';
import { EXPECTED_BLOCKED, UNEXPECTEDLY_OPEN } from '../site-profile.js';

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** `text` with ANSI colour codes removed and `& < > " '` escaped for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(ANSI, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const e = escapeHtml;

/** Colours for the bars (the matrix uses the CSS classes); every status also has a symbol and a word. */
const BAR_FILL: Record<Status, string> = {
  pass: '#2da44e',
  warn: '#bf8700',
  fail: '#cf222e',
  skip: '#8c959f',
  error: '#8250df',
};

function statusClass(r: CheckResult): string {
  if (r.code === EXPECTED_BLOCKED) return 'st-expected';
  return `st-${r.status}`;
}

function statusWords(r: CheckResult): string {
  if (r.code === EXPECTED_BLOCKED) return `${STATUS_SYMBOLS.skip} expected blocked`;
  if (r.code === UNEXPECTEDLY_OPEN) return `${STATUS_SYMBOLS.warn} unexpectedly open`;
  return `${STATUS_SYMBOLS[r.status]} ${r.status}`;
}

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #1f2328; background: #fff; margin: 0; }
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 16px; margin: 0 0 6px; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 13px; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 12px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.endpoint { font-size: 17px; margin: 0 0 8px; word-break: break-all; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0 16px; }
dl.facts dt { color: #57606a; }
dl.facts dd { margin: 0; word-break: break-all; }
.verdict { display: inline-block; font-weight: 600; padding: 6px 12px; border-radius: 6px; border: 1px solid; }
.verdict.ok { background: #dafbe1; border-color: #2da44e; color: #116329; }
.verdict.bad { background: #ffebe9; border-color: #cf222e; color: #82071e; }
.verdict.tool { background: #fbefff; border-color: #8250df; color: #512a97; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: 6px 8px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
code { overflow-wrap: anywhere; }
.scroll { max-width: 100%; overflow-x: auto; }
thead th { background: #f6f8fa; }
th small { font-weight: normal; color: #57606a; }
table.matrix th, table.matrix td { overflow-wrap: normal; }
table.matrix td .code { display: block; font-size: 12px; overflow-wrap: anywhere; }
.ms { color: #57606a; font-size: 12px; white-space: nowrap; }
.st-pass { background: #dafbe1; color: #116329; }
.st-warn { background: #fff8c5; color: #7d4e00; }
.st-fail { background: #ffebe9; color: #82071e; font-weight: 600; }
.st-skip { background: #f6f8fa; color: #57606a; }
.st-expected { background: #eaeef2; color: #424a53; font-style: italic; }
.st-error { background: #fbefff; color: #512a97; font-weight: 600; }
.finding { border: 1px solid #d0d7de; border-left-width: 6px; border-radius: 6px; padding: 12px 16px; margin: 0 0 12px; }
.finding.sev-critical, .finding.sev-error { border-left-color: #cf222e; }
.finding.sev-warning { border-left-color: #bf8700; }
.finding.sev-info { border-left-color: #2da44e; }
.badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 10px; border: 1px solid #d0d7de; margin-right: 6px; text-transform: uppercase; letter-spacing: .02em; }
.badge.sev-critical, .badge.sev-error { background: #ffebe9; color: #82071e; border-color: #cf222e; }
.badge.sev-warning { background: #fff8c5; color: #7d4e00; border-color: #bf8700; }
.badge.sev-info { background: #dafbe1; color: #116329; border-color: #2da44e; }
.finding .code { font-weight: 600; }
.finding h3 .code { font-size: 15px; }
.finding ol, .finding ul { margin: 4px 0 8px; padding-left: 24px; }
.evidence { color: #57606a; font-size: 13px; }
figure.timing { margin: 0 0 16px; }
figure.timing figcaption { font-weight: 600; }
figure.timing svg { display: block; width: 100%; max-width: 900px; height: auto; }
ul.timing-list { list-style: none; padding: 0; margin: 2px 0 0; display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 13px; color: #424a53; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: baseline; }
.detail { border-top: 1px solid #d0d7de; padding: 10px 0; }
.detail p { margin: 2px 0; }
.label { color: #57606a; display: inline-block; min-width: 80px; }
footer { color: #57606a; font-size: 13px; padding-top: 24px; padding-bottom: 32px; }
@media print { h2 { break-after: avoid; } .finding, .detail, figure.timing { break-inside: avoid; } }
`;

function matrix(report: Report): string {
  const cells = report.results.filter((r) => r.route && r.stage);
  const routes = routesIn(cells);
  if (routes.length === 0) return '';
  const stages = STAGE_IDS.filter((s) => cells.some((r) => r.stage === s));
  const head = routes.map((r) => `<th scope="col">${e(r)}<br><small>${e(alpnLabel(r))}</small></th>`).join('');
  const rows = stages.map((stage) => {
    const tds = routes.map((route) => {
      const r = cells.find((c) => c.route === route && c.stage === stage);
      if (!r) return '<td></td>';
      const time = r.status === 'skip' ? '' : ` <span class="ms">${r.durationMs} ms</span>`;
      const code =
        r.status === 'pass' || r.code === SKIP_CODES.SKIPPED ? '' : `<span class="code mono">${e(r.code)}</span>`;
      return `<td class="${statusClass(r)}" title="${e(r.summary)}">${e(statusWords(r))}${time}${code}</td>`;
    });
    return `<tr><th scope="row">${e(stage)}</th>${tds.join('')}</tr>`;
  });
  return [
    '<section id="matrix">',
    '<h2>Route matrix</h2>',
    // Many route columns (IPv6 and proxy variants) scroll inside their box, never the page.
    '<div class="scroll"><table class="matrix">',
    `<thead><tr><th scope="col">Stage</th>${head}</tr></thead>`,
    `<tbody>${rows.join('\n')}</tbody>`,
    '</table></div>',
    `<p class="legend ms">${(['pass', 'warn', 'fail', 'skip', 'error'] as const).map((s) => `${STATUS_SYMBOLS[s]} ${s}`).join(' · ')} · cells show the time each stage took</p>`,
    '</section>',
  ].join('\n');
}

function findingHtml(f: Finding, i: number): string {
  const parts = [
    `<article class="finding sev-${e(f.severity)}">`,
    `<h3>${i + 1}. <a class="code mono" href="${e(codePageHref(f.code))}">${e(f.code)}</a> ${e(f.title)}</h3>`,
    `<p><span class="badge sev-${e(f.severity)}">${e(f.severity)}</span><span class="badge">${e(f.confidence)}</span></p>`,
    `<p>${e(f.explanation)}</p>`,
  ];
  if (f.candidates?.length) {
    parts.push('<p><strong>Possible causes</strong></p><ul>');
    for (const c of f.candidates)
      parts.push(`<li>${e(c.title)} (<code>${e(c.code)}</code>); told apart by ${e(c.decidedBy)}</li>`);
    parts.push('</ul>');
  }
  if (f.ruledOut?.length) {
    parts.push('<p><strong>Ruled out</strong></p><ul>');
    for (const r of f.ruledOut) parts.push(`<li>${e(r.title)} (<code>${e(r.code)}</code>): ${e(r.ruledOutBy)}</li>`);
    parts.push('</ul>');
  }
  if (f.remediation.length) {
    parts.push('<p><strong>What to do</strong></p><ol>');
    for (const s of f.remediation) parts.push(`<li>${e(s)}</li>`);
    parts.push('</ol>');
  }
  if (f.evidence.length)
    parts.push(`<p class="evidence">Evidence: ${f.evidence.map((id) => `<code>${e(id)}</code>`).join(', ')}</p>`);
  parts.push('</article>');
  return parts.join('\n');
}

function diagnosis(report: Report): string {
  return [
    '<section id="diagnosis">',
    '<h2>Diagnosis</h2>',
    report.diagnosis.length ? report.diagnosis.map(findingHtml).join('\n') : '<p>No finding.</p>',
    '</section>',
  ].join('\n');
}

const BAR_W = 900;
const BAR_H = 28;

function timingFigure(route: RouteId, cells: readonly CheckResult[]): string {
  const total = cells.reduce((t, c) => t + Math.max(0, c.durationMs), 0);
  const scaleMs = Math.max(1, total);
  const timed = cells.filter((c) => c.durationMs > 0);
  let x = 0;
  const rects = timed.map((c) => {
    const w = Math.max(2, (c.durationMs / scaleMs) * BAR_W);
    const rect = `<rect x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="${BAR_H}" fill="${BAR_FILL[c.status]}" stroke="#ffffff" stroke-width="1"><title>${e(`${c.stage}: ${c.durationMs} ms, ${statusWords(c)} (${c.code})`)}</title></rect>`;
    // About 7.5 px per character at 12 px: the longest label that fits, or none.
    const text = [`${c.stage} ${c.durationMs} ms`, `${c.durationMs} ms`].find((t) => t.length * 7.5 + 10 <= w);
    const label = text
      ? `<text x="${(x + 5).toFixed(1)}" y="${BAR_H / 2 + 4}" font-size="12" fill="#ffffff" font-family="DejaVu Sans, Arial, sans-serif">${e(text)}</text>`
      : '';
    x += w;
    return rect + label;
  });
  const aria = `${route}: ${timed.map((c) => `${c.stage} ${c.durationMs} ms ${c.status}`).join(', ') || 'no timed stage'}; total ${total} ms`;
  const items = cells
    .filter((c) => c.status !== 'skip' || c.durationMs > 0)
    .map(
      (c) =>
        `<li><span class="swatch" style="background:${BAR_FILL[c.status]}"></span>${e(c.stage ?? '')} ${c.durationMs} ms (${e(statusWords(c))})</li>`,
    );
  return [
    '<figure class="timing">',
    `<figcaption>${e(route)} (${e(routeSpecOf(route)?.title ?? route)}): ${total} ms</figcaption>`,
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${BAR_W} ${BAR_H}" width="${BAR_W}" height="${BAR_H}" role="img" aria-label="${e(aria)}"><rect x="0" y="0" width="${BAR_W}" height="${BAR_H}" fill="#f6f8fa"/>${rects.join('')}</svg>`,
    `<ul class="timing-list">${items.join('')}</ul>`,
    '</figure>',
  ].join('\n');
}

function timings(report: Report): string {
  const routes = routesIn(report.results);
  if (routes.length === 0) return '';
  const byRoute = new Map(
    routes.map((r) => [
      r,
      STAGE_IDS.map((s) => report.results.find((c) => c.route === r && c.stage === s)).filter(
        (c): c is CheckResult => !!c,
      ),
    ]),
  );
  return [
    '<section id="timings">',
    '<h2>Stage timings</h2>',
    '<p class="ms">One bar per route, stages left to right; each bar spans its own route\'s total time, written above it.</p>',
    ...routes.map((r) => timingFigure(r, byRoute.get(r)!)),
    '</section>',
  ].join('\n');
}

function detailHtml(r: CheckResult): string {
  const where = r.route ? `${r.route} / ${r.stage}` : r.id;
  const parts = [
    '<div class="detail">',
    `<h3><span class="${statusClass(r)}">&nbsp;${e(statusWords(r))}&nbsp;</span> ${e(where)} <span class="mono">${e(r.code)}</span></h3>`,
    `<p><span class="label">Expected</span> ${e(r.title)}</p>`,
    `<p><span class="label">Seen</span> ${e(r.summary)}</p>`,
  ];
  if (r.hint) parts.push(`<p><span class="label">Do</span> ${e(r.hint)}</p>`);
  if (r.reproduce) parts.push(`<p><span class="label">By hand</span></p><pre><code>${e(r.reproduce)}</code></pre>`);
  parts.push('</div>');
  return parts.join('\n');
}

function details(report: Report): string {
  const failing = report.results.filter((r) => r.status === 'fail' || r.status === 'error' || r.status === 'warn');
  if (failing.length === 0) return '';
  return ['<section id="details">', '<h2>Details</h2>', ...failing.map(detailHtml), '</section>'].join('\n');
}

function checks(report: Report): string {
  const others = report.results.filter((r) => !r.route);
  if (others.length === 0) return '';
  const rows = others.map(
    (r) =>
      `<tr><td class="${statusClass(r)}">${e(statusWords(r))}</td><td>${e(r.title)}<br><span class="mono ms">${e(r.id)}</span></td><td class="mono">${e(r.code)}</td><td>${e(r.summary)}</td></tr>`,
  );
  return [
    '<section id="checks">',
    '<h2>Checks</h2>',
    '<table class="checks"><thead><tr><th scope="col">Status</th><th scope="col">Check</th><th scope="col">Code</th><th scope="col">Seen</th></tr></thead>',
    `<tbody>${rows.join('\n')}</tbody></table>`,
    '</section>',
  ].join('\n');
}

function header(report: Report): string {
  const t = report.target;
  const s = report.summary;
  const facts: [string, string][] = [
    ['Started', `${report.startedAt} (${report.durationMs} ms)`],
    ['Tool', `${report.tool.name} ${report.tool.version}`],
  ];
  if (t.clientId) facts.push(['Client id', t.clientId]);
  if (t.topic) facts.push(['Topic', t.topic]);
  if (t.region) facts.push(['Region', t.region]);
  if (t.certificateId) facts.push(['Certificate id', t.certificateId]);
  for (const [k, v] of Object.entries(t.files)) if (v) facts.push([`${k} file`, String(v)]);
  if (t.connectTo.length) facts.push(['Connect to', t.connectTo.join(', ')]);
  if (t.siteProfile) facts.push(['Profile', t.siteProfile]);
  facts.push(...pathFacts(t));
  const verdictClass = report.exitCode === 0 ? 'ok' : report.exitCode === 1 ? 'bad' : 'tool';
  const verdictWord =
    report.exitCode === 0
      ? `${STATUS_SYMBOLS.pass} Nothing failed`
      : report.exitCode === 1
        ? `${STATUS_SYMBOLS.fail} Something failed`
        : `${STATUS_SYMBOLS.error} A check could not complete`;
  return [
    '<header>',
    '<h1>iot-doctor report</h1>',
    `<p class="endpoint mono">${e(t.endpoint)}</p>`,
    `<p class="verdict ${verdictClass}">${e(verdictWord)}: ${s.pass} pass, ${s.warn} warn, ${s.fail} fail, ${s.skip} skip, ${s.error} error (exit ${report.exitCode})</p>`,
    `<dl class="facts">${facts.map(([k, v]) => `<dt>${e(k)}</dt><dd>${e(v)}</dd>`).join('')}</dl>`,
    '</header>',
  ].join('\n');
}

/** The report as one self-contained HTML page (inline CSS and SVG; the CSP allows no script or external resource). */
export function renderHtml(report: Report): string {
  const body = [
    header(report),
    '<main>',
    diagnosis(report),
    matrix(report),
    report.repeat ? renderRepeatHtml(report.repeat, e) : '',
    timings(report),
    details(report),
    checks(report),
    '</main>',
  ]
    .filter(Boolean)
    .join('\n');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${e(`iot-doctor report: ${report.target.endpoint}`)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    body,
    `<footer>Generated by ${e(report.tool.name)} ${e(report.tool.version)} from the JSON report (schema ${report.schemaVersion}) of the run started ${e(report.startedAt)}.</footer>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
