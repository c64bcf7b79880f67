/**
 * Running the lab and iot-doctor inside the bed's namespaces, exactly as in the field: the lab listens on the real
 * ports 8883, 443 and 8443 of the server namespace, and iot-doctor resolves the endpoint name through the client
 * namespace's own hosts file, with no override flags.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckResult, Report, RouteId, StageId } from '../../src/model/index.js';
import { ADDR, REPO_ROOT, type Bed, type Helper, type RunResult } from './bed.js';

export const BIN = join(REPO_ROOT, 'dist/src/bin.js');
const LAB_HOST = join(REPO_ROOT, 'dist/test/e2e/lab-host.js');
const WATCHDOG = join(REPO_ROOT, 'dist/test/e2e/watchdog.js');
/** Longest life of a lab started here, whatever happens to the test. */
const LAB_MAX_SECONDS = 600;

export interface LabInfo {
  endpoint: string;
  ports: Record<string, number>;
  apiEndpoint: string;
  clientId: string;
  certificateId: string;
}

export interface RunningLab {
  info: LabInfo;
  endpoint: string;
  dir: string;
  files: { ca: string; cert: string; key: string };
  helper: Helper;
  /** 'cli' when `iot-doctor lab` ran it, 'host' when the test's own launcher did. */
  via: 'cli' | 'host';
  stop(): Promise<void>;
}

let cliHasLab: boolean | undefined;

/** True when the built CLI has a `lab` command (`iot-doctor lab --help` exits 0). */
export function cliHasLabCommand(): boolean {
  cliHasLab ??= spawnSync(process.execPath, [BIN, 'lab', '--help'], { encoding: 'utf8', timeout: 20_000 }).status === 0;
  return cliHasLab;
}

/** True when the built CLI has a `cert` command. */
export function cliHasCommand(name: string): boolean {
  return spawnSync(process.execPath, [BIN, name, '--help'], { encoding: 'utf8', timeout: 20_000 }).status === 0;
}

/**
 * Start the lab in the bed's server namespace on 8883, 443 and 8443 of the server address, then map the endpoint
 * name to that address in every namespace's hosts file. Uses `iot-doctor lab` when the CLI has it (or when
 * IOT_DOCTOR_E2E_LAB=cli), else the test's launcher with the same flags (IOT_DOCTOR_E2E_LAB=host forces it).
 */
export async function startLabInBed(bed: Bed, scenario = 'healthy', opts: { bind?: string } = {}): Promise<RunningLab> {
  const dir = join(bed.tmp, `lab-${scenario}`);
  const flags = [
    '--scenario',
    scenario,
    '--dir',
    dir,
    '--bind',
    opts.bind ?? ADDR.server,
    '--allow-non-loopback',
    '--port-8883',
    '8883',
    '--port-443',
    '443',
    '--port-8443',
    '8443',
  ];
  const choice = process.env.IOT_DOCTOR_E2E_LAB;
  const via: 'cli' | 'host' = choice === 'host' ? 'host' : choice === 'cli' || cliHasLabCommand() ? 'cli' : 'host';
  // `iot-doctor lab` runs until a signal: the watchdog also stops it when this process goes away or time is up.
  const helper =
    via === 'cli'
      ? bed.spawnHelper('lab', bed.ns.server, process.execPath, [
          WATCHDOG,
          String(LAB_MAX_SECONDS),
          '--',
          process.execPath,
          BIN,
          'lab',
          ...flags,
        ])
      : bed.spawnHelper('lab', bed.ns.server, process.execPath, [
          LAB_HOST,
          ...flags,
          '--max-seconds',
          String(LAB_MAX_SECONDS),
        ]);
  await helper.waitFor(/lab ready/, 30_000);
  const info = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as LabInfo;
  bed.setHost(info.endpoint, ADDR.server);
  return {
    info,
    endpoint: info.endpoint,
    dir,
    files: { ca: join(dir, 'ca.pem'), cert: join(dir, 'device.pem.crt'), key: join(dir, 'private.pem.key') },
    helper,
    via,
    async stop() {
      await helper.stop(3000);
    },
  };
}

export interface CheckRun {
  report: Report;
  run: RunResult;
}

export interface CheckOptions {
  timeoutMs?: number;
  routes?: RouteId[];
  /** Replace the CA file (e.g. a bundle that also trusts an inspection CA). */
  ca?: string;
  extra?: string[];
  /** Kill the run after this long (default: 8 × timeout + 20 s). */
  killAfterMs?: number;
  /** Environment of the run (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/** The `check` command line that a device owner would type (endpoint name, credential files, JSON on stdout). */
export function checkArgs(lab: RunningLab, opts: CheckOptions = {}): string[] {
  return [
    BIN,
    'check',
    '--endpoint',
    lab.endpoint,
    '--cert',
    lab.files.cert,
    '--key',
    lab.files.key,
    '--ca',
    opts.ca ?? lab.files.ca,
    '--format',
    'json',
    '--output',
    '',
    '--timeout',
    String(opts.timeoutMs ?? 3000),
    ...(opts.routes ? ['--routes', ...opts.routes] : []),
    ...(opts.extra ?? []),
  ];
}

/** Run `iot-doctor check` in a namespace of the bed and parse its JSON report. */
export async function runCheck(bed: Bed, ns: string, lab: RunningLab, opts: CheckOptions = {}): Promise<CheckRun> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const run = await bed.run(ns, process.execPath, checkArgs(lab, opts), {
    timeoutMs: opts.killAfterMs ?? timeoutMs * 8 + 20_000,
    ...(opts.env ? { env: opts.env } : {}),
  });
  let report: Report;
  try {
    report = JSON.parse(run.stdout) as Report;
  } catch {
    throw new Error(
      `iot-doctor check printed no JSON report (exit ${run.exitCode}${run.timedOut ? ', killed after its time limit' : ''}): ${run.stderr.trim().slice(0, 2000)}`,
    );
  }
  return { report, run };
}

/** The matrix cell of one route and stage. */
export function cell(report: Report, route: RouteId, stage: StageId): CheckResult {
  const id = `route.${route}.${stage}`;
  const r = report.results.find((x) => x.id === id);
  if (!r) throw new Error(`no result ${id} in the report`);
  return r;
}

/** "stage:status:code" for every stage of a route: one readable line for assertion messages. */
export function routeLine(report: Report, route: RouteId): string {
  return report.results
    .filter((r) => r.route === route)
    .map((r) => `${r.stage}:${r.status}:${r.code}`)
    .join(' ');
}

export const STAGES: readonly StageId[] = ['dns', 'tcp', 'tls', 'alpn', 'client-auth', 'protocol', 'round-trip'];

/** What a healthy route shows, stage by stage. */
export const HEALTHY: Readonly<Record<RouteId, Readonly<Partial<Record<StageId, string>>>>> = {
  'mqtt-8883': {
    dns: 'DNS_OK',
    tcp: 'TCP_OK',
    proxy: 'PROXY_CONNECT_OK',
    tls: 'TLS_OK',
    alpn: 'ALPN_NOT_USED',
    'client-auth': 'CLIENT_CERT_ACCEPTED',
    protocol: 'MQTT_CONNACK_OK',
    'round-trip': 'MQTT_ROUND_TRIP_OK',
  },
  'mqtt-443': {
    dns: 'DNS_OK',
    tcp: 'TCP_OK',
    proxy: 'PROXY_CONNECT_OK',
    tls: 'TLS_OK',
    alpn: 'ALPN_SELECTED',
    'client-auth': 'CLIENT_CERT_ACCEPTED',
    protocol: 'MQTT_CONNACK_OK',
    'round-trip': 'MQTT_ROUND_TRIP_OK',
  },
  'https-8443': {
    dns: 'DNS_OK',
    tcp: 'TCP_OK',
    proxy: 'PROXY_CONNECT_OK',
    tls: 'TLS_OK',
    alpn: 'ALPN_NOT_USED',
    'client-auth': 'CLIENT_CERT_ACCEPTED',
    protocol: 'HTTP_PUBLISH_OK',
    'round-trip': 'HTTP_ROUND_TRIP_OK',
  },
  'https-443': {
    dns: 'DNS_OK',
    tcp: 'TCP_OK',
    proxy: 'PROXY_CONNECT_OK',
    tls: 'TLS_OK',
    alpn: 'ALPN_SELECTED',
    'client-auth': 'CLIENT_CERT_ACCEPTED',
    protocol: 'HTTP_PUBLISH_OK',
    'round-trip': 'HTTP_ROUND_TRIP_OK',
  },
};

/**
 * The cells a route should show when stage `failedAt` fails with `code`: healthy passes before it, the failure, and
 * `skip`/SKIPPED after it.
 */
export function blockedRoute(
  route: RouteId,
  failedAt: StageId,
  code: string,
): { stage: StageId; status: string; code: string }[] {
  const at = STAGES.indexOf(failedAt);
  return STAGES.map((stage, i) =>
    i < at
      ? { stage, status: 'pass', code: HEALTHY[route]![stage]! }
      : i === at
        ? { stage, status: 'fail', code }
        : { stage, status: 'skip', code: 'SKIPPED' },
  );
}

export function healthyRoute(route: RouteId): { stage: StageId; status: string; code: string }[] {
  return STAGES.map((stage) => ({ stage, status: 'pass', code: HEALTHY[route]![stage]! }));
}

/** The cells of a route in the same shape as `blockedRoute` / `healthyRoute`. */
export function observedRoute(report: Report, route: RouteId): { stage: StageId; status: string; code: string }[] {
  return STAGES.map((stage) => {
    const r = cell(report, route, stage);
    return { stage, status: r.status, code: r.code };
  });
}

/** Diagnosis codes of a report (empty until the diagnosis rules exist). */
export function diagnosisCodes(report: Report): string[] {
  return (report.diagnosis ?? []).map((d) => d.code);
}
