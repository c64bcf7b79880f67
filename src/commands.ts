/**
 * What the commands do. Loaded by the CLI only when a command runs, so `--help` and usage errors do not pay for
 * the runner, the checks and the reporters.
 */
import { fieldFields, type FieldArgs } from './field-args.js';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certChecks } from '../checks/cert.js';
import { cloudChecks, cloudTargetFromReport, mergeCloudResults } from '../checks/cloud.js';
import type { DoctorCheck } from '../checks/types.js';
import { UsageError, errorMessage } from './errors.js';
import { makeOutputDir } from './output-dir.js';
import { defaultTopicFor, parseKeepalive, parseTopic } from './flag-limits.js';
import { REPORT_FILE_MAX_BYTES, readInputText } from './input-file.js';
import type { Report } from './model/index.js';
import type { RunnerEvent } from './model/check.js';
import { resolveSiteProfile, siteProfileRoutes, type SiteProfile } from './site-profile.js';
import { FORMATS, FORMAT_EXTENSIONS, isReportFormat, type ReportFormat } from './report/formats.js';
import { parseReport, redactReport, renderReport } from './report/index.js';
import { nagiosExitCode } from './report/nagios.js';
import { interruptReporter } from './runner/interrupt.js';
import { progressReporter } from './runner/progress.js';
import { parseRepeat } from './repeat.js';
import { finishReport, runDoctor } from './run.js';
import {
  parseClientId,
  parseConnectTo,
  parseDnsServer,
  parseEndpoint,
  parseResolve,
  parseRoutes,
  parseTimeout,
  regionFromEndpoint,
  unmatchedConnectTo,
  checkFamilyPins,
  type CredentialProviderTarget,
  type Target,
} from './target.js';
import {
  credentialProviderFromArgs,
  customAuthFromArgs,
  defaultAuthRoutes,
  withSecretEnv,
  parseThingName,
  type AuthRouteArgs,
} from './auth-target.js';

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

/** `--format junit,html` or repeated --format: the first goes to stdout, all of them into --output. */
export function parseFormats(value: string | string[] | undefined, fallback: ReportFormat): ReportFormat[] {
  const list = (Array.isArray(value) ? value : value ? [value] : [fallback])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  for (const f of list)
    if (!isReportFormat(f)) throw new UsageError(`unknown format "${f}"; choose from ${FORMATS.join(', ')}`);
  return list.length ? (list as ReportFormat[]) : [fallback];
}

/** The flags of `check` (and of `demo`, which fills them from its lab), as the command line parsed them. */
export interface CommonCheckArgs extends FieldArgs, AuthRouteArgs {
  endpoint?: string;
  cert?: string;
  key?: string;
  ca?: string;
  'key-passphrase'?: string;
  routes?: string[];
  timeout?: number;
  'connect-to'?: string[];
  resolve?: string[];
  'dns-server'?: string;
  'client-id'?: string;
  topic?: string;
  'mqtt-version'?: string;
  keepalive?: number;
  'warn-days'?: number;
  region?: string;
  /** `--profile`: the AWS profile for the cloud checks (not `--site-profile`). */
  profile?: string;
  protocol?: boolean;
  cloud?: boolean;
  'api-endpoint'?: string;
  'certificate-id'?: string;
  'site-profile'?: string;
  'log-group'?: string;
  logs?: boolean;
  'hold-ms'?: number;
}

function parseApiEndpoint(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    return value;
  } catch {
    throw new UsageError(`--api-endpoint must be a URL such as https://iot.eu-west-1.amazonaws.com, got "${value}"`);
  }
}

function parseCertificateId(value: string): string {
  const id = value.trim().replace(/^0x/i, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(id))
    throw new UsageError(
      `--certificate-id must be the 64-hex AWS IoT certificate id (SHA-256 of the DER), got "${value}"`,
    );
  return id;
}

type CredentialArgs = { cert?: string; key?: string; ca?: string; 'key-passphrase'?: string; 'warn-days'?: number };

/** The credential files, the key passphrase (flag or IOT_DOCTOR_KEY_PASSPHRASE) and the expiry warning window. */
function credentialFields(
  args: CredentialArgs,
): Pick<Target, 'certPath' | 'keyPath' | 'caPath' | 'keyPassphrase' | 'warnDays'> {
  const warnDays = args['warn-days'] ?? 30;
  if (!Number.isFinite(warnDays) || warnDays < 0)
    throw new UsageError(`--warn-days must be zero or more, got ${warnDays}`);
  const passphrase = args['key-passphrase'] ?? process.env.IOT_DOCTOR_KEY_PASSPHRASE;
  return {
    ...(args.cert ? { certPath: args.cert } : {}),
    ...(args.key ? { keyPath: args.key } : {}),
    ...(args.ca ? { caPath: args.ca } : {}),
    ...(passphrase ? { keyPassphrase: passphrase } : {}),
    warnDays,
  };
}

/**
 * Builds the run's `Target` from the `check` flags. Each value is validated by its parser in target.ts; any problem
 * throws `UsageError` with one line naming the flag. Routes: `--routes`, else those the site profile names, else all.
 */
export function targetFromArgs(given: CommonCheckArgs): Target {
  const args = withSecretEnv(given, process.env, [given.routes ?? []].flat());
  if (!args.endpoint)
    throw new UsageError(
      '--endpoint is required (the iot:Data-ATS endpoint, e.g. abc123-ats.iot.eu-west-1.amazonaws.com)',
    );
  const endpoint = parseEndpoint(args.endpoint);
  const { clientId, fromUser } = parseClientId(args['client-id']);
  const mqttVersion = args['mqtt-version'] ?? '3.1.1';
  if (mqttVersion !== '3.1.1' && mqttVersion !== '5')
    throw new UsageError(`--mqtt-version must be 3.1.1 or 5, got ${mqttVersion}`);
  const keepalive = parseKeepalive(args.keepalive);
  const topic = args.topic === undefined ? defaultTopicFor(clientId) : parseTopic(args.topic);
  const region = args.region ?? regionFromEndpoint(endpoint);
  const routes = parseRoutes(
    args.routes ?? (args['site-profile'] ? siteProfileRoutes(resolveSiteProfile(args['site-profile'])) : undefined),
    defaultAuthRoutes(args),
  );
  const customAuth = customAuthFromArgs(args);
  if (routes.includes('mqtt-custom-auth-443') && !customAuth) {
    throw new UsageError(
      'the mqtt-custom-auth-443 route needs --authorizer, --token, --username or --password (or IOT_DOCTOR_PASSWORD)',
    );
  }
  return {
    endpoint,
    routes,
    connectTo: (args['connect-to'] ?? []).map(parseConnectTo),
    resolve: (args.resolve ?? []).map(parseResolve),
    ...(args['dns-server'] ? { dnsServer: parseDnsServer(args['dns-server']) } : {}),
    ...credentialFields(args),
    clientId,
    clientIdFromUser: fromUser,
    topic,
    topicFromUser: args.topic !== undefined,
    mqttVersion: mqttVersion === '5' ? 5 : 4,
    keepaliveSeconds: keepalive,
    timeoutMs: parseTimeout(args.timeout),
    protocol: args.protocol ?? true,
    cloud: args.cloud ?? true,
    ...(args['api-endpoint'] ? { apiEndpoint: parseApiEndpoint(args['api-endpoint']) } : {}),
    ...(args['certificate-id'] ? { certificateId: parseCertificateId(args['certificate-id']) } : {}),
    ...(region ? { region } : {}),
    ...(args.profile ? { awsProfile: args.profile } : {}),
    ...withCredentialProvider(credentialProviderFromArgs(args)),
    ...(customAuth ? { customAuth } : {}),
    ...signingRegionOf(args.region),
    ...recordFields(args),
    ...fieldFields(args, endpoint),
  };
}

/**
 * The flags about AWS's records and takeovers: --thing-name, --log-group, --no-logs, --hold-ms (0-60000 ms).
 * Throws `UsageError` naming the flag on a bad value.
 */
function recordFields(args: CommonCheckArgs): Pick<Target, 'thingName' | 'logGroup' | 'noLogs' | 'holdMs'> {
  const hold = args['hold-ms'];
  if (hold !== undefined && (!Number.isInteger(hold) || hold < 0 || hold > 60_000))
    throw new UsageError(`--hold-ms must be 0..60000 milliseconds, got ${hold}`);
  const name = parseThingName(args['thing-name']);
  const group = args['log-group'];
  if (group !== undefined && !/^[.\-_/#A-Za-z0-9]{1,512}$/.test(group))
    throw new UsageError(`--log-group must be a CloudWatch Logs group name, got "${group}"`);
  return {
    ...(name ? { thingName: name } : {}),
    ...(group ? { logGroup: group } : {}),
    ...(args.logs === false ? { noLogs: true } : {}),
    ...(hold !== undefined ? { holdMs: hold } : {}),
  };
}

/** The region SigV4 signs with when one is set: `--region`, else `AWS_REGION` (field notes §4.1; the SDKs' order). */
function signingRegionOf(flag: string | undefined): Pick<Target, 'signingRegion' | 'signingRegionFrom'> {
  if (flag) return { signingRegion: flag, signingRegionFrom: '--region' };
  const env = process.env['AWS_REGION'];
  return env ? { signingRegion: env, signingRegionFrom: 'AWS_REGION' } : {};
}

function withCredentialProvider(c: CredentialProviderTarget | undefined): Pick<Target, 'credentials'> {
  return c ? { credentials: c } : {};
}

/**
 * Split work: a technician without AWS credentials sends a report; the support engineer runs the cloud half for the
 * certificate id and client ids recorded in it, and gets one merged report.
 */
async function runCloudFromReport(args: CommonCheckArgs & OutputArgs & { from: string }): Promise<number> {
  checkOutput(args);
  const text = readInputText(args.from, { label: 'the report', flag: '--from', maxBytes: REPORT_FILE_MAX_BYTES });
  const previous = parseReport(text, args.from);
  const recorded = cloudTargetFromReport(previous);
  const endpoint = args.endpoint ?? recorded.endpoint;
  const base = targetFromArgs({
    ...args,
    ...(endpoint ? { endpoint } : {}),
    ...((args.region ?? recorded.region) ? { region: args.region ?? recorded.region } : {}),
  });
  const target: Target = {
    ...base,
    ...(recorded.routes ? { routes: recorded.routes } : {}),
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
  const fresh = await runDoctor(target, { strict: args.strict, checks: [...cloudChecks] });
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

/**
 * Before any network step: `--output` must be (or become) a writable folder, and the formats must be known, so that
 * a run is never lost at its end. Throws UsageError with one line.
 */
export function checkOutput(args: OutputArgs, fallback: ReportFormat = 'table'): void {
  parseFormats(args.format, fallback);
  if (!args.output) return;
  try {
    makeOutputDir(args.output);
    accessSync(args.output, constants.W_OK);
  } catch (err) {
    throw new UsageError(`cannot write reports into --output ${args.output}: ${errorMessage(err)}`);
  }
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

/** `check`: the full run, the cloud half only, or the cloud half merged into another run's report. */
export async function checkCommand(
  args: CommonCheckArgs & OutputArgs & { from?: string; 'cloud-only'?: boolean },
): Promise<number> {
  if ((args.from || args['cloud-only']) && parseRepeat(args.repeat, args.interval)) {
    throw new UsageError('--repeat re-probes the routes; --from and --cloud-only run no routes');
  }
  if (args.from) return runCloudFromReport(args as CommonCheckArgs & OutputArgs & { from: string });
  const target = targetFromArgs(args);
  checkFamilyPins(target);
  // The user's own rules only (the demo's lab maps hosts a run may not use).
  for (const line of unmatchedConnectTo(target)) process.stderr.write(`iot-doctor: ${line}\n`);
  if (args['cloud-only']) {
    if (!target.certPath && !target.certificateId)
      throw new UsageError('--cloud-only needs --cert or --certificate-id (or --from report.json)');
    return runAndPrint({ ...target, cloud: true }, args, [...cloudChecks]);
  }
  return runAndPrint(target, args);
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
  const text = readInputText(args.report, { label: 'the report', maxBytes: REPORT_FILE_MAX_BYTES });
  return printReport(parseReport(text, args.report), args);
}
