import {
  SCHEMA_VERSION,
  countStatuses,
  type CheckResult,
  type Finding,
  type Report,
  type TargetSummary,
} from '../model/index.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';

/** A schemaVersion 1 `Report` from a run's results and findings; `durationMs` rounded, `summary` counted. */
export function buildReport(input: {
  target: TargetSummary;
  startedAt: Date;
  durationMs: number;
  results: CheckResult[];
  diagnosis: Finding[];
  exitCode: 0 | 1 | 2;
}): Report {
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    target: input.target,
    startedAt: input.startedAt.toISOString(),
    durationMs: Math.round(input.durationMs),
    results: input.results,
    diagnosis: input.diagnosis,
    summary: countStatuses(input.results),
    exitCode: input.exitCode,
  };
}

/** The report as pretty-printed JSON (2 spaces) with a final newline: the `--format json` output. */
export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
