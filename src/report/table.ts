import { pathFacts } from './paths.js';
import { createRequire } from 'node:module';
import type TableType from 'cli-table3';
import { routesIn, STAGE_IDS, type CheckResult, type Finding, type Report } from '../model/index.js';
import { alpnLabel } from './routes.js';
import { renderRepeatText } from './repeat-text.js';
import { bold, indent, paint, statusLabel } from './style.js';
import { SKIP_CODES } from '../model/result.js';
import { explainCommandFor } from '../catalogue/link.js';
import { EXPECTED_BLOCKED, UNEXPECTEDLY_OPEN } from '../site-profile.js';

export interface TableOptions {
  color: boolean;
}

function cell(result: CheckResult | undefined, color: boolean): string {
  if (!result) return '';
  // Site profile outcomes read as what they mean at this site.
  if (result.code === EXPECTED_BLOCKED) return paint('- expected blocked', 'skip', color);
  if (result.code === UNEXPECTEDLY_OPEN) return paint('! unexpectedly open', 'warn', color);
  const time = result.status === 'skip' ? '' : ` ${result.durationMs} ms`;
  return `${statusLabel(result.status, color)}${time}`;
}

/** cli-table3 (and its text-width tables) is loaded only when a matrix is drawn. */
let tableClass: typeof TableType | undefined;
function loadTable(): typeof TableType {
  tableClass ??= createRequire(import.meta.url)('cli-table3') as typeof TableType;
  return tableClass;
}

/** The route × stage matrix. */
export function renderMatrix(results: readonly CheckResult[], opts: TableOptions): string {
  const routeResults = results.filter((r) => r.route && r.stage);
  const routes = routesIn(routeResults);
  if (routes.length === 0) return '';
  const stages = STAGE_IDS.filter((s) => routeResults.some((r) => r.stage === s));
  const Table = loadTable();
  const table = new Table({
    head: ['', ...routes.map((r) => `${r}\n${alpnLabel(r)}`)],
    style: { head: opts.color ? ['cyan'] : [], border: opts.color ? ['grey'] : [] },
  });
  for (const stage of stages) {
    table.push([
      stage,
      ...routes.map((route) =>
        cell(
          routeResults.find((r) => r.route === route && r.stage === stage),
          opts.color,
        ),
      ),
    ]);
  }
  return table.toString();
}

function detailBlock(result: CheckResult, opts: TableOptions): string {
  const where = result.route ? `${result.route} / ${result.stage}` : result.id;
  const lines = [
    `${statusLabel(result.status, opts.color)}  ${bold(where, opts.color)}  ${result.code}`,
    `  seen:  ${result.summary}`,
  ];
  if (result.hint) lines.push(`  do:    ${result.hint}`);
  if (result.reproduce) lines.push(`  by hand: ${result.reproduce}`);
  return lines.join('\n');
}

/** One block per route cell that is not a pass; a route's skipped stages are folded into one line. */
export function renderRouteDetails(results: readonly CheckResult[], opts: TableOptions): string {
  const blocks: string[] = [];
  for (const route of routesIn(results)) {
    const cells = results.filter((r) => r.route === route);
    const notPass = cells.filter((r) => r.status !== 'pass');
    const blocked = notPass.filter((r) => r.status === 'skip' && r.code === SKIP_CODES.SKIPPED);
    for (const r of notPass) if (!blocked.includes(r)) blocks.push(detailBlock(r, opts));
    if (blocked.length > 0) {
      blocks.push(
        paint(
          `  ${route}: ${blocked.map((r) => r.stage).join(', ')} skipped (${blocked[0]!.summary})`,
          'skip',
          opts.color,
        ),
      );
    }
  }
  return blocks.join('\n');
}

/** The results outside the route matrix, one line each (status, title, summary); problems add the hint and command. */
export function renderOtherChecks(results: readonly CheckResult[], opts: TableOptions): string {
  const others = results.filter((r) => !r.route);
  return others
    .map((r) => {
      const head = `${statusLabel(r.status, opts.color)}  ${r.title}: ${r.summary}`;
      if (r.status === 'pass' || r.status === 'skip') return head;
      const extra = [r.hint ? `do: ${r.hint}` : '', r.reproduce ? `by hand: ${r.reproduce}` : ''].filter(Boolean);
      return [head, ...extra.map((e) => indent(e, '      '))].join('\n');
    })
    .join('\n');
}

/** The findings, numbered, with explanation and remediation, for the table output. */
export function renderDiagnosis(findings: readonly Finding[], opts: TableOptions): string {
  return findings
    .map((f, i) => {
      const status = f.severity === 'info' ? 'pass' : f.severity === 'warning' ? 'warn' : 'fail';
      const lines = [
        `${i + 1}. ${paint(f.code, status, opts.color)} (${f.severity}, ${f.confidence}): ${bold(f.title, opts.color)}`,
        indent(f.explanation, '   '),
      ];
      if (f.candidates?.length) {
        lines.push('   Possible causes:');
        for (const c of f.candidates) lines.push(`   - ${c.title} (${c.code}); told apart by ${c.decidedBy}`);
      }
      if (f.ruledOut?.length) {
        lines.push('   Ruled out:');
        for (const r of f.ruledOut) lines.push(`   - ${r.title} (${r.code}): ${r.ruledOutBy}`);
      }
      if (f.remediation.length) {
        lines.push('   What to do:');
        f.remediation.forEach((step, n) => lines.push(`   ${n + 1}) ${step}`));
      }
      lines.push(`   About ${f.code}: ${explainCommandFor(f.code)}`);
      return lines.join('\n');
    })
    .join('\n\n');
}

/** `N pass, N warn, N fail, N skip, N error in N ms (exit N)`. */
export function summaryLine(report: Report): string {
  const s = report.summary;
  return `${s.pass} pass, ${s.warn} warn, ${s.fail} fail, ${s.skip} skip, ${s.error} error in ${report.durationMs} ms (exit ${report.exitCode})`;
}

/** The default human rendering: matrix, details, other checks, diagnosis, summary. */
export function renderTable(report: Report, opts: TableOptions): string {
  const sections: string[] = [];
  const t = report.target;
  const head = `${bold('iot-doctor', opts.color)} ${report.tool.version}  endpoint ${t.endpoint}  client id ${t.clientId ?? '-'}`;
  sections.push([head, ...pathFacts(t).map(([k, v]) => `  ${k.toLowerCase()}: ${v}`)].join('\n'));
  const matrix = renderMatrix(report.results, opts);
  if (matrix) sections.push(matrix);
  const details = renderRouteDetails(report.results, opts);
  if (details) sections.push(`${bold('Route details', opts.color)}\n${details}`);
  const others = renderOtherChecks(report.results, opts);
  if (others) sections.push(`${bold('Checks', opts.color)}\n${others}`);
  if (report.repeat) sections.push(`${bold('Repeated attempts', opts.color)}\n${renderRepeatText(report.repeat)}`);
  if (report.diagnosis.length)
    sections.push(`${bold('Diagnosis', opts.color)}\n${renderDiagnosis(report.diagnosis, opts)}`);
  sections.push(summaryLine(report));
  return `${sections.join('\n\n')}\n`;
}
