import type { CheckResult } from '../model/index.js';
import { bold, statusLabel } from './style.js';

export interface ListOptions {
  color: boolean;
}

const INDENT = '    ';

/** What a line names: a matrix cell by its route and stage (`mqtt-8883 / tcp (TCP connection)`), else the title. */
function nameOf(r: CheckResult): string {
  return r.route && r.stage ? `${r.route} / ${r.stage} (${r.title})` : r.title;
}

/**
 * One line per result: status symbol and word, what it is (a route cell names its route and stage), summary. Under every result that is not a pass, the hint and the
 * reproduce command, indented. The status is always spelled out, so nothing depends on colour.
 */
export function renderList(results: readonly CheckResult[], opts: ListOptions): string {
  const lines: string[] = [];
  const width = Math.max(0, ...results.map((r) => r.status.length));
  for (const r of results) {
    const label = statusLabel(r.status, opts.color);
    const pad = ' '.repeat(width - r.status.length);
    lines.push(`${label}${pad}  ${bold(nameOf(r), opts.color)}: ${r.summary}`);
    if (r.status !== 'pass') {
      if (r.hint) lines.push(`${INDENT}hint: ${r.hint}`);
      if (r.reproduce) lines.push(`${INDENT}try:  ${r.reproduce}`);
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
