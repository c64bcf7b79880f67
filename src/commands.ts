/**
 * What the commands do. Loaded by the CLI only when a command runs, so `--help` and usage errors do not pay for
 * the runner, the checks and the reporters.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certChecks } from '../checks/cert.js';
import { cloudTargetFromReport, mergeCloudResults } from '../checks/cloud.js';
import type { DoctorCheck } from '../checks/types.js';
import { requireCloudCredentials } from './auth-target.js';
import { UsageError, errorMessage } from './errors.js';
import { makeOutputDir } from './output-dir.js';
import { REPORT_FILE_MAX_BYTES, readInputText } from './input-file.js';
import type { Report } from './model/index.js';
import type { RunnerEvent } from './model/check.js';
import { resolveSiteProfile, type SiteProfile } from './site-profile.js';
import { FORMAT_EXTENSIONS, type ReportFormat } from './report/formats.js';
import { parseReport, redactReport, renderReport } from './report/index.js';
import { nagiosExitCode } from './report/nagios.js';
import { interruptReporter } from './runner/interrupt.js';
import { progressReporter } from './runner/progress.js';
import { parseRepeat } from './repeat.js';
import { finishReport, runDoctor } from './run.js';
import { releaseHeadStart } from './probes/head-start.js';
import { unmatchedConnectTo, checkFamilyPins, type Target } from './target.js';
import { credentialFields, targetFromArgs, type CommonCheckArgs, type CredentialArgs } from './target-args.js';
import { checkOutput, parseFormats, type OutputArgs } from './output-args.js';

export { targetFromArgs, type CommonCheckArgs } from './target-args.js';
export { checkOutput, parseFormats, type OutputArgs } from './output-args.js';

/**
 * Whether to colour terminal output: the `--color`/`--no-color` flag wins, then NO_COLOR (any non-empty value: no
 * colour, per no-color.org), then FORCE_COLOR (non-empty and not "0": colour), else whether `stream` is a TTY.
 */
export function useColor(flag: boolean | undefined, stream: NodeJS.WriteStream = process.stdout): boolean {
  if (flag !== undefined) return flag;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

function timestamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * Write the canonical JSON report (and every other format asked for) into DIR with one timestamped name; the text
 * formats (table, list, nagios) share the extension txt and are told apart by name: `<base>.table.txt`.
 */
export function writeReport(report: Report, dir: string, formats: readonly ReportFormat[] = []): string[] {
  try {
    makeOutputDir(dir);
    const base = join(dir, `iot-doctor-${timestamp(new Date(report.startedAt))}-${process.pid}`);
    const paths: string[] = [];
    for (const format of new Set<ReportFormat>(['json', ...formats])) {
      const ext = FORMAT_EXTENSIONS[format];
      const path = ext === 'txt' ? `${base}.${format}.txt` : `${base}.${ext}`;
      writeFileSync(path, renderReport(report, format, { color: false }));
      paths.push(path);
    }
    return paths;
  } catch (err) {
    throw new UsageError(`cannot write the report to ${dir}: ${errorMessage(err)}`);
  }
}

/**
 * Split work: a technician without AWS credentials sends a report; the support engineer runs the cloud half for the
 * certificate id and client ids recorded in it, and gets one merged report.
 */
async function runCloudFromReport(args: CommonCheckArgs & OutputArgs & { from: string }): Promise<number> {
  checkOutput(args);
  const text = readInputText(args.from, { label: 'the report', flag: '--from', maxBytes: REPORT_FILE_MAX_BYTES });
  const previous = parseReport(text, args.from);
  requireCloudCredentials('--from', args.profile);
  const recorded = cloudTargetFromReport(previous);
  const endpoint = args.endpoint ?? recorded.endpoint;
  const base = targetFromArgs({
    ...args,
    ...(endpoint ? { endpoint } : {}),
    ...((args.region ?? recorded.region) ? { region: args.region ?? recorded.region } : {}),
  });
  const [given, probed] = [base.credentials?.roleAlias, recorded.credentials?.roleAlias];
  if (given && probed && given !== probed)
    process.stderr.write(
      `iot-doctor: --role-alias ${given} is checked in the cloud, but the report's credentials-443 route probed ${probed}\n`,
    );
  const target: Target = {
    ...base,
    ...(recorded.routes ? { routes: recorded.routes } : {}),
    // AWS IoT's records of the technician's connections start with the report's run.
    ...(Number.isFinite(Date.parse(previous.startedAt)) ? { recordedSinceMs: Date.parse(previous.startedAt) } : {}),
    // The user's --role-alias / --thing-name win over the report's.
    ...(!base.credentials && recorded.credentials ? { credentials: recorded.credentials } : {}),
    ...(!base.thingName && recorded.thingName ? { thingName: recorded.thingName } : {}),
    ...(args['client-id'] === undefined && recorded.clientId
      ? { clientId: recorded.clientId, clientIdFromUser: recorded.clientIdFromUser ?? false }
      : {}),
    ...(args.topic === undefined && recorded.topic
      ? { topic: recorded.topic, topicFromUser: recorded.topicFromUser ?? false }
      : {}),
    ...((base.certificateId ?? recorded.certificateId)
      ? { certificateId: base.certificateId ?? recorded.certificateId }
      : {}),
    cloud: true,
  };
  if (!target.certPath && !target.certificateId)
    throw new UsageError(`${args.from} records no certificate id; add --certificate-id or --cert`);
  const started = performance.now();
  const { cloudChecksFor } = await import('../checks/index.js');
  const fresh = await runDoctor(target, { strict: args.strict, checks: cloudChecksFor(target) });
  const merged = finishReport({
    target: {
      ...previous.target,
      ...(fresh.target.certificateId ? { certificateId: fresh.target.certificateId } : {}),
      ...(target.region ? { region: target.region } : {}),
    },
    startedAt: new Date(previous.startedAt),
    durationMs: previous.durationMs + (performance.now() - started),
    results: mergeCloudResults(previous, fresh.results),
    ...(args.strict ? { strict: true } : {}),
    ...(siteProfileOf(args) ? { siteProfile: siteProfileOf(args)! } : {}),
  });
  return printReport(merged, args);
}

/** A target for the offline checks: only the files and the warning window matter. */
function offlineTarget(args: CredentialArgs): Target {
  return {
    endpoint: '',
    routes: [],
    connectTo: [],
    resolve: [],
    ...credentialFields(args),
    clientId: '',
    clientIdFromUser: false,
    topic: '',
    topicFromUser: false,
    mqttVersion: 4,
    keepaliveSeconds: 30,
    timeoutMs: 5000,
    protocol: false,
    cloud: false,
  };
}

function siteProfileOf(args: OutputArgs): SiteProfile | undefined {
  return args['site-profile'] ? resolveSiteProfile(args['site-profile']) : undefined;
}

/**
 * Runs the doctor on `target` with stderr progress, then prints the report (see `printReport`); resolves to its
 * exit code. `checks` replaces the catalogue (`--cloud-only`, the lab's demo run uses the full one).
 */
export async function runAndPrint(target: Target, args: OutputArgs, checks?: DoctorCheck[]): Promise<number> {
  checkOutput(args);
  const progress = progressReporter(process.stderr);
  const siteProfile = siteProfileOf(args);
  const repeat = parseRepeat(args.repeat, args.interval);
  const interrupt = interruptReporter(progress?.finish);
  const onEvent = (e: RunnerEvent): void => {
    interrupt.onEvent(e);
    progress?.onEvent(e);
  };
  const report = await runDoctor(target, {
    strict: args.strict,
    ...(repeat ? { repeat } : {}),
    onEvent,
    ...(checks ? { checks } : {}),
    ...(siteProfile ? { siteProfile } : {}),
  }).finally(() => interrupt.dispose());
  progress?.finish();
  return printReport(report, args);
}

function printReport(full: Report, args: OutputArgs, fallback: ReportFormat = 'table'): number {
  const formats = parseFormats(args.format, fallback);
  const report = args.redact ? redactReport(full) : full;
  process.stdout.write(renderReport(report, formats[0]!, { color: useColor(args.color) }));
  if (args.output) {
    // Only the formats the user named go to files (the default stdout format does not): the JSON always does.
    const written = writeReport(report, args.output, args.format === undefined ? [] : formats);
    for (const path of written) process.stderr.write(`report written to ${path}\n`);
  }
  // Only the Nagios format uses the plugin convention's exit codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
  return formats[0] === 'nagios' ? nagiosExitCode(report) : report.exitCode;
}

/**
 * `check`: the full run, the cloud half only, or the cloud half merged into another run's report. `prepared` is the
 * target src/check-start.ts built from the same `args` (its routes already started); without it, built here.
 */
export async function checkCommand(
  args: CommonCheckArgs & OutputArgs & { from?: string; 'cloud-only'?: boolean },
  prepared?: Target,
): Promise<number> {
  if ((args.from || args['cloud-only']) && parseRepeat(args.repeat, args.interval)) {
    throw new UsageError('--repeat re-probes the routes; --from and --cloud-only run no routes');
  }
  if ((args.from || args['cloud-only']) && args.cloud === false) {
    throw new UsageError(
      `--no-cloud leaves AWS alone; ${args.from ? '--from' : '--cloud-only'} runs only cloud checks`,
    );
  }
  if (args.from) return runCloudFromReport(args as CommonCheckArgs & OutputArgs & { from: string });
  const target = prepared ?? targetFromArgs(args);
  checkFamilyPins(target);
  // The user's own rules only (the demo's lab maps hosts a run may not use).
  for (const line of unmatchedConnectTo(target)) process.stderr.write(`iot-doctor: ${line}\n`);
  if (args['cloud-only']) {
    if (!target.certPath && !target.certificateId)
      throw new UsageError('--cloud-only needs --cert or --certificate-id (or --from report.json)');
    requireCloudCredentials('--cloud-only', args.profile);
    const { cloudChecksFor } = await import('../checks/index.js');
    return runAndPrint({ ...target, cloud: true }, args, cloudChecksFor(target));
  }
  // A usage error found after the routes started (--output, --format, --repeat): their connections end with it.
  return runAndPrint(target, args).finally(releaseHeadStart);
}

/** `cert`: the offline credential checks. */
export async function certCommand(
  args: OutputArgs & { cert?: string; key?: string; ca?: string; 'key-passphrase'?: string; 'warn-days'?: number },
): Promise<number> {
  if (!args.cert && !args.key && !args.ca) throw new UsageError('give at least one of --cert, --key, --ca');
  checkOutput(args, 'list');
  const report = await runDoctor(offlineTarget(args), { strict: args.strict, checks: [...certChecks] });
  return printReport(report, args, 'list');
}

/** `render`: a saved report in another format; the exit code is the report's own verdict. */
export function renderCommand(args: OutputArgs & { report: string }): number {
  checkOutput(args);
  const text = readInputText(args.report, { label: 'the report', maxBytes: REPORT_FILE_MAX_BYTES });
  return printReport(parseReport(text, args.report), args);
}
