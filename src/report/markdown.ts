/**
 * Markdown for tickets: the matrix as a table (symbol and word in every cell), the diagnosis, and the details of
 * every failing result with its reproduce command in a code block. A pure function of the report.
 */
import { pathFacts } from './paths.js';
import { routesIn, STAGE_IDS, STATUS_SYMBOLS, type CheckResult, type Finding, type Report } from '../model/index.js';
import { alpnLabel } from './routes.js';
import { renderRepeatMarkdown } from './repeat-text.js';
import { SKIP_CODES } from '../model/result.js';
import { codePageHref } from '../catalogue/link.js';
import { EXPECTED_BLOCKED, UNEXPECTEDLY_OPEN } from '../site-profile.js';

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** Plain text safe inside Markdown: no HTML tags or entities, no emphasis or links by accident, no table breaks, one line. */
export function mdText(text: string): string {
  return text
    .replace(ANSI, '')
    .replace(/\r?\n/g, ' ')
    .replace(/[\\`*[\]|]/g, (c) => `\\${c}`)
    .replace(/(^|[^A-Za-z0-9])_|_(?=[^A-Za-z0-9]|$)/g, (m) => m.replace('_', '\\_'))
    .replace(/&(?=#?[A-Za-z0-9]+;)/g, '&amp;')
    .replace(/</g, '&lt;');
}

/** Inline code whose fence is longer than any run of backticks inside. */
export function mdCode(text: string): string {
  const clean = text.replace(ANSI, '').replace(/\r?\n/g, ' ');
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  const pad = clean.startsWith('`') || clean.endsWith('`') || clean.startsWith(' ') ? ' ' : '';
  return `${fence}${pad}${clean}${pad}${fence}`;
}

/** A fenced block whose fence cannot be closed by the content. */
export function mdBlock(text: string, lang = ''): string {
  const clean = text.replace(ANSI, '');
  const longest = Math.max(2, ...(clean.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${clean}\n${fence}`;
}

/** "✔ pass", "- expected blocked", "! unexpectedly open": symbol and word, never colour alone. */
export function cellLabel(r: CheckResult): string {
  if (r.code === EXPECTED_BLOCKED) return `${STATUS_SYMBOLS.skip} expected blocked`;
  if (r.code === UNEXPECTEDLY_OPEN) return `${STATUS_SYMBOLS.warn} unexpectedly open`;
  return `${STATUS_SYMBOLS[r.status]} ${r.status}`;
}

function matrix(report: Report): string {
  const cells = report.results.filter((r) => r.route && r.stage);
  const routes = routesIn(cells);
  if (routes.length === 0) return '';
  const stages = STAGE_IDS.filter((s) => cells.some((r) => r.stage === s));
  const head = `| Stage | ${routes.map((r) => `${r}<br>${alpnLabel(r)}`).join(' | ')} |`;
  const rule = `|---|${routes.map(() => '---').join('|')}|`;
  const rows = stages.map((stage) => {
    const row = routes.map((route) => {
      const r = cells.find((c) => c.route === route && c.stage === stage);
      if (!r) return ' ';
      const time = r.status === 'skip' ? '' : ` ${r.durationMs} ms`;
      return `${cellLabel(r)}${time}${r.status === 'pass' || r.code === SKIP_CODES.SKIPPED ? '' : `<br>${mdCode(r.code)}`}`;
    });
    return `| ${stage} | ${row.join(' | ')} |`;
  });
  return [head, rule, ...rows].join('\n');
}

function finding(f: Finding, i: number): string {
  const lines = [
    `### ${i + 1}. [${mdCode(f.code)}](${codePageHref(f.code)}) ${mdText(f.title)}`,
    '',
    `*${f.severity}, ${f.confidence}*`,
    '',
    mdText(f.explanation),
  ];
  if (f.candidates?.length) {
    lines.push('', '**Possible causes**', '');
    for (const c of f.candidates)
      lines.push(`- ${mdText(c.title)} (${mdCode(c.code)}); told apart by ${mdText(c.decidedBy)}`);
  }
  if (f.ruledOut?.length) {
    lines.push('', '**Ruled out**', '');
    for (const r of f.ruledOut) lines.push(`- ${mdText(r.title)} (${mdCode(r.code)}): ${mdText(r.ruledOutBy)}`);
  }
  if (f.remediation.length) {
    lines.push('', '**What to do**', '');
    f.remediation.forEach((s, n) => lines.push(`${n + 1}. ${mdText(s)}`));
  }
  if (f.evidence.length) lines.push('', `Evidence: ${f.evidence.map((e) => mdCode(e)).join(', ')}`);
  return lines.join('\n');
}

function detail(r: CheckResult): string {
  const where = r.route ? `${r.route} / ${r.stage}` : r.id;
  const lines = [
    `### ${cellLabel(r)}: ${mdText(where)} ${mdCode(r.code)}`,
    '',
    `- **Expected:** ${mdText(r.title)}`,
    `- **Seen:** ${mdText(r.summary)}`,
  ];
  if (r.hint) lines.push(`- **Do:** ${mdText(r.hint)}`);
  if (r.reproduce) lines.push('', 'Reproduce by hand:', '', mdBlock(r.reproduce, 'sh'));
  return lines.join('\n');
}

function otherChecks(results: readonly CheckResult[]): string {
  const others = results.filter((r) => !r.route);
  if (others.length === 0) return '';
  const rows = others.map((r) => `| ${cellLabel(r)} | ${mdText(r.title)} | ${mdCode(r.code)} | ${mdText(r.summary)} |`);
  return ['| Status | Check | Code | Seen |', '|---|---|---|---|', ...rows].join('\n');
}

/** The report as GitHub-flavoured Markdown: the route matrix, the other checks and the diagnosis. */
export function renderMarkdown(report: Report): string {
  const t = report.target;
  const s = report.summary;
  const out: string[] = [`# iot-doctor report: ${mdText(t.endpoint)}`, ''];
  const facts = [
    `- **Started:** ${mdText(report.startedAt)}, ${report.durationMs} ms, ${mdText(`${report.tool.name} ${report.tool.version}`)}`,
    `- **Result:** ${s.pass} pass, ${s.warn} warn, ${s.fail} fail, ${s.skip} skip, ${s.error} error (exit ${report.exitCode})`,
  ];
  if (t.clientId) facts.push(`- **Client id:** ${mdCode(t.clientId)}${t.topic ? `, topic ${mdCode(t.topic)}` : ''}`);
  if (t.region) facts.push(`- **Region:** ${mdText(t.region)}`);
  if (t.certificateId) facts.push(`- **Certificate id:** ${mdCode(t.certificateId)}`);
  const files = Object.entries(t.files).filter(([, v]) => !!v);
  if (files.length) facts.push(`- **Files:** ${files.map(([k, v]) => `${k} ${mdCode(String(v))}`).join(', ')}`);
  if (t.connectTo.length) facts.push(`- **Connect to:** ${t.connectTo.map((c) => mdCode(c)).join(', ')}`);
  if (t.siteProfile) facts.push(`- **Profile:** ${mdText(t.siteProfile)}`);
  for (const [k, v] of pathFacts(t)) facts.push(`- **${k}:** ${mdText(v)}`);
  out.push(...facts, '');

  const m = matrix(report);
  if (m) out.push('## Matrix', '', m, '');
  if (report.repeat) out.push('## Repeated attempts', '', renderRepeatMarkdown(report.repeat), '');

  out.push('## Diagnosis', '');
  if (report.diagnosis.length) out.push(report.diagnosis.map(finding).join('\n\n'), '');
  else out.push('No finding.', '');

  const failing = report.results.filter((r) => r.status === 'fail' || r.status === 'error' || r.status === 'warn');
  if (failing.length) out.push('## Details', '', failing.map(detail).join('\n\n'), '');

  const others = otherChecks(report.results);
  if (others) out.push('## Checks', '', others, '');
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
