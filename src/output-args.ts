/**
 * The output flags every reporting command shares, and their validation before any network step (`check` runs it
 * before its routes start: src/check-start.ts).
 */
import { accessSync, constants } from 'node:fs';
import { UsageError, errorMessage } from './errors.js';
import { makeOutputDir } from './output-dir.js';
import { FORMATS, isReportFormat, type ReportFormat } from './report/formats.js';

/** The output flags every reporting command shares: formats, report folder, strictness, colour, redaction. */
export interface OutputArgs {
  format?: string | string[];
  output: string;
  strict: boolean;
  color?: boolean;
  redact?: boolean;
  'site-profile'?: string;
  /** `--repeat N` and `--interval MS` (check and demo). */
  repeat?: number;
  interval?: number;
}

/** `--format junit,html` or repeated --format: the first goes to stdout, all of them into --output. */
export function parseFormats(value: string | string[] | undefined, fallback: ReportFormat): ReportFormat[] {
  const list = (Array.isArray(value) ? value : value ? [value] : [fallback])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
  for (const f of list)
    if (!isReportFormat(f)) throw new UsageError(`unknown format "${f}"; choose from ${FORMATS.join(', ')}`);
  return list.length ? (list as ReportFormat[]) : [fallback];
}

/**
 * Before any network step: `--output` must be (or become) a writable folder, the formats must be known, and more
 * than one format needs a folder (only the first goes to stdout), so that a run is never lost at its end, in part or
 * whole. Throws UsageError with one line.
 */
export function checkOutput(args: OutputArgs, fallback: ReportFormat = 'table'): void {
  const formats = parseFormats(args.format, fallback);
  if (!args.output && formats.length > 1) {
    throw new UsageError(
      `--format ${formats.join(',')} names ${formats.length} formats but no --output folder is written: only the ` +
        `first goes to stdout; give --output DIR for the others, or name one format`,
    );
  }
  if (!args.output) return;
  try {
    makeOutputDir(args.output);
    accessSync(args.output, constants.W_OK);
  } catch (err) {
    throw new UsageError(`cannot write reports into --output ${args.output}: ${errorMessage(err)}`);
  }
}
