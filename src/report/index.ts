/**
 * Every rendering is a pure function of the canonical JSON report, so `render report.json --format X` gives the
 * same output as a live run. Whatever the format, PEM private-key blocks never leave this module.
 */
import { UsageError, jsonSyntaxReason } from '../errors.js';
import { SCHEMA_VERSION, STATUSES, type Report } from '../model/index.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderList } from './list.js';
import { renderMarkdown } from './markdown.js';
import { renderRepeatText } from './repeat-text.js';
import { renderNagios } from './nagios.js';
import { printableReport } from './printable.js';
import { renderPrometheus } from './prometheus.js';
import { renderTable } from './table.js';
import { firstSchemaViolation } from './validate.js';

export { redactReport } from './redact.js';

import type { ReportFormat } from './formats.js';

export { FORMATS, FORMAT_EXTENSIONS, isReportFormat, type ReportFormat } from './formats.js';

export interface RenderOptions {
  /** ANSI colour; only the terminal formats (table, list) use it. */
  color: boolean;
}

const PRIVATE_KEY_BLOCK = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----[\s\S]*?(?:-----END \1-----|$)/g;

/** Replaces any PEM private-key block (PKCS#1, SEC1, PKCS#8, encrypted, OpenSSH) in a rendered report. */
export function scrubKeyMaterial(text: string): string {
  return text.replace(PRIVATE_KEY_BLOCK, '[private key removed]');
}

/** Formats read on a terminal as they are printed (the others escape for their own syntax). */
const TERMINAL_FORMATS: ReadonlySet<ReportFormat> = new Set<ReportFormat>(['table', 'list', 'nagios']);

/**
 * The report in `format` (one of `REPORT_FORMATS`), as the text to write to stdout or a file. In the terminal
 * formats (table, list, nagios) control characters of the report's strings are shown escaped (`printable`).
 */
export function renderReport(saved: Report, format: ReportFormat, opts: RenderOptions): string {
  // The terminal formats show the report's strings as they are: no control character of a report reaches the tty.
  const report = TERMINAL_FORMATS.has(format) ? printableReport(saved) : saved;
  let out: string;
  switch (format) {
    case 'table':
      out = renderTable(report, { color: opts.color });
      break;
    case 'json':
      out = renderJson(report);
      break;
    case 'junit':
      out = renderJunit(report);
      break;
    case 'markdown':
      out = renderMarkdown(report);
      break;
    case 'html':
      out = renderHtml(report);
      break;
    case 'list':
      out = renderList(report.results, { color: opts.color });
      if (report.repeat) out += `${renderRepeatText(report.repeat)}\n`;
      break;
    case 'prometheus':
      out = renderPrometheus(report);
      break;
    case 'nagios':
      out = renderNagios(report);
      break;
  }
  return scrubKeyMaterial(out);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Reads a JSON report (the `render` command's input). Throws `UsageError` with one clear line when the text is not
 * JSON or not an iot-doctor report of a schema version this build understands, or does not match the report's JSON
 * Schema (the first invalid field is named). An older report's `target.profile`
 * comes back as `target.siteProfile`.
 */
export function parseReport(text: string, source = 'report'): Report {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${source} is not valid JSON: ${jsonSyntaxReason(err, text)}`);
  }
  if (!isObject(data)) throw new UsageError(`${source} is not an iot-doctor report (expected a JSON object)`);
  if (!('schemaVersion' in data)) throw new UsageError(`${source} is not an iot-doctor report (no schemaVersion)`);
  if (data['schemaVersion'] !== SCHEMA_VERSION) {
    throw new UsageError(
      `${source} has schemaVersion ${JSON.stringify(data['schemaVersion'])}; this iot-doctor reads schemaVersion ${SCHEMA_VERSION}`,
    );
  }
  const problems: string[] = [];
  if (!isObject(data['tool'])) problems.push('tool');
  if (!isObject(data['target']) || typeof (data['target'] as Record<string, unknown>)['endpoint'] !== 'string')
    problems.push('target.endpoint');
  if (typeof data['startedAt'] !== 'string') problems.push('startedAt');
  if (typeof data['durationMs'] !== 'number') problems.push('durationMs');
  if (!Array.isArray(data['diagnosis'])) problems.push('diagnosis');
  if (!isObject(data['summary'])) problems.push('summary');
  if (![0, 1, 2].includes(data['exitCode'] as number)) problems.push('exitCode');
  const results = data['results'];
  if (!Array.isArray(results)) problems.push('results');
  else {
    results.forEach((r, i) => {
      if (
        !isObject(r) ||
        typeof r['id'] !== 'string' ||
        typeof r['code'] !== 'string' ||
        !(STATUSES as readonly unknown[]).includes(r['status'])
      ) {
        problems.push(`results[${i}]`);
      }
    });
  }
  if (problems.length > 0) {
    throw new UsageError(
      `${source} is not a complete iot-doctor report: missing or malformed ${problems.slice(0, 5).join(', ')}${problems.length > 5 ? ' …' : ''}`,
    );
  }
  const report = { ...data, target: withSiteProfileName(data['target'] as Record<string, unknown>) };
  const violation = firstSchemaViolation(report);
  if (violation) throw new UsageError(`${source} does not match the iot-doctor report schema: ${violation}`);
  return report as unknown as Report;
}

/**
 * Reports written before the rename carry the site profile's name as `target.profile`; it is read as
 * `target.siteProfile`, in the same place among the keys, so the renderings do not change.
 */
function withSiteProfileName(target: Record<string, unknown>): Record<string, unknown> {
  if (!('profile' in target)) return target;
  if ('siteProfile' in target) {
    const { profile: _older, ...rest } = target;
    return rest;
  }
  return Object.fromEntries(Object.entries(target).map(([k, v]) => [k === 'profile' ? 'siteProfile' : k, v]));
}
