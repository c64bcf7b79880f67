/**
 * The `repeat` section of a report (`check --repeat N`) in the human formats: per route the share of failed
 * attempts, per stage the attempts that reached it, the failed share and p50/p95/max durations.
 */
import type { RepeatSummary, StageRepeatStats } from '../model/index.js';

const HEADERS = ['route', 'stage', 'reached', 'failed', 'p50', 'p95', 'max'] as const;

function ms(value: number | undefined): string {
  return value === undefined ? '-' : `${Math.round(value)} ms`;
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10}%`;
}

/** One row per stage: route, stage, attempts reached, failed share (with count), p50, p95, max. */
export function repeatRows(repeat: RepeatSummary): string[][] {
  return repeat.stages.map((s: StageRepeatStats) => [
    s.route,
    s.stage,
    String(s.attempts),
    s.attempts === 0 ? '-' : s.failed ? `${percent(s.failureRatio)} (${s.failed})` : '0%',
    ms(s.p50Ms),
    ms(s.p95Ms),
    ms(s.maxMs),
  ]);
}

/** "5 attempts, 1 s apart: 1 with a failed route; mqtt-8883 failed in 20% (1 of 5)". */
export function repeatHeadline(repeat: RepeatSummary): string {
  const flaky = repeat.routes
    .filter((r) => r.failed > 0)
    .map((r) => `${r.route} failed in ${percent(r.failureRatio)} (${r.failed} of ${r.attempts})`);
  const gap = repeat.intervalMs >= 1000 ? `${repeat.intervalMs / 1000} s` : `${repeat.intervalMs} ms`;
  return `${repeat.attempts} attempts, ${gap} apart: ${repeat.failedAttempts} with a failed route${flaky.length ? `; ${flaky.join(', ')}` : ''}`;
}

/** Plain text: headline and an aligned table (table and list formats). */
export function renderRepeatText(repeat: RepeatSummary): string {
  const rows = [[...HEADERS], ...repeatRows(repeat)];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  return [repeatHeadline(repeat), ...lines.map((l) => `  ${l}`)].join('\n');
}

/** Markdown: headline and a pipe table (cells hold only route/stage ids and numbers). */
export function renderRepeatMarkdown(repeat: RepeatSummary): string {
  const head = `| ${HEADERS.join(' | ')} |`;
  const rule = `|${HEADERS.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`;
  return [repeatHeadline(repeat), '', head, rule, ...repeatRows(repeat).map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** HTML: a section with the headline and a table; ESCAPE is the report's HTML escaper. */
export function renderRepeatHtml(repeat: RepeatSummary, escape: (text: string) => string): string {
  const head = `<tr>${HEADERS.map((h) => `<th>${h}</th>`).join('')}</tr>`;
  const rows = repeatRows(repeat).map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`);
  return [
    '<section id="repeat"><h2>Repeated attempts</h2>',
    `<p>${escape(repeatHeadline(repeat))}</p>`,
    `<table class="repeat"><thead>${head}</thead><tbody>`,
    ...rows,
    '</tbody></table></section>',
  ].join('\n');
}

/** JUnit: one passing test case per route whose output carries its stages' statistics (failures stay in the route suites). */
export function repeatJunitCases(
  repeat: RepeatSummary,
): { name: string; classname: string; timeMs: number; kind: 'pass'; out: string }[] {
  return repeat.routes.map((r) => ({
    name: `${r.route}: ${r.failed} of ${r.attempts} attempts failed`,
    classname: 'iot-doctor.repeat',
    timeMs: 0,
    kind: 'pass' as const,
    out: renderRepeatText({ ...repeat, stages: repeat.stages.filter((s) => s.route === r.route) }),
  }));
}
