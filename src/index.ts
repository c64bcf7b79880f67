/**
 * The library entry point (`package.json` "main"): run a diagnosis from code, read and render reports.
 *
 * ```ts
 * import { runDoctor, targetFromArgs, renderReport } from 'iot-doctor';
 * const report = await runDoctor(targetFromArgs({ endpoint: 'abc123-ats.iot.eu-west-1.amazonaws.com', cert, key }));
 * process.stdout.write(renderReport(report, 'markdown', { color: false }));
 * ```
 *
 * The command line (src/cli.ts) is built on the same calls; everything not exported here is internal.
 */
export { runDoctor, finishReport, type DoctorOptions } from './run.js';
export { targetFromArgs, type CommonCheckArgs } from './commands.js';
export type { Target, ConnectTo } from './target.js';
export { resolveSiteProfile, applySiteProfile, type SiteProfile } from './site-profile.js';
export { UsageError } from './errors.js';
export { TOOL_NAME, TOOL_VERSION } from './version.js';
export {
  FORMATS,
  parseReport,
  redactReport,
  renderReport,
  type RenderOptions,
  type ReportFormat,
} from './report/index.js';
export {
  ROUTE_IDS,
  SCHEMA_VERSION,
  STAGE_IDS,
  STATUSES,
  exitCodeFor,
  type CheckResult,
  type Finding,
  type Report,
  type RouteId,
  type StageId,
  type Status,
  type TargetSummary,
} from './model/index.js';
