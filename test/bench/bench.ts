/**
 * `npm run bench`: how close iot-doctor comes to the physical limit of a check, measured on the network test bed
 * (client ─ TUN relay with 50 ms each way ─ router ─ server namespaces; the lab on the real ports 8883, 443 and 8443
 * of the server namespace). Everything a ratio compares is measured in the same run, the same way, interleaved round
 * by round so that the machine's load weighs on both sides alike; each figure is the median of 5 rounds
 * (IOT_DOCTOR_BENCH_REPEAT to change). Every figure is printed on one line with its goal (issue 16), then all of them
 * as a Markdown table, and written to reports/bench.json.
 *
 *   - healthy full check (four routes, no AWS credentials), wall time, vs the limit: 5 round trips × the RTT measured
 *     on the link (TCP connects) + `node -e 0` started the same way in the same namespace;
 *   - the manual sequence (4 × openssl s_client, 2 × mosquitto_pub, 1 × curl) vs the healthy check;
 *   - `iot-doctor --help` vs bare `node -e 0`; the first SYN (seen by the link's relay) after the spawn, and after the
 *     first SYN of bare node connecting the same way in the same rounds (the goal: what our own start-up adds);
 *   - AWS credentials present (the lab's control plane over the same link), as keys alone (the account id is then
 *     known only from DescribeCertificate's answer) and as keys with AWS_ACCOUNT_ID (as SSO, assumed roles and
 *     credential processes give it): extra wall time, stage timings; first SYN with keys;
 *   - 8883 silently dropped with the default 5 s timeout: total wall time, and the other routes not held up;
 *   - peak RSS of the full runs (GNU time).
 *
 * Not a pass/fail test: exits 0 when it could measure (a MISSED goal is a figure, not an error), 2 when the bed cannot
 * run here. Needs root, `ip netns`, iptables, python3, openssl, mosquitto-clients, curl and GNU time; build first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../src/model/index.js';
import { ADDR, Bed, REPO_ROOT, bedUnavailableReason, python, type RunResult, type TunClient } from '../e2e/bed.js';
import { BIN, checkArgs, startLabInBed, type RunningLab } from '../e2e/doctor.js';
import { dropPort } from '../e2e/faults.js';
import {
  GOALS,
  ROUND_TRIP_COUNT,
  ROUND_TRIPS,
  healthyLimitMs,
  largestStageShift,
  markdownTable,
  median,
  round,
  stageTimes,
  verdict,
  type Figure,
} from './figures.js';
import { LAB_ACCOUNT_ID } from '../../src/lab/index.js';
import { MANUAL_TOOLS, manualSequence, type ManualRun } from './manual.js';

const DELAY_MS = 50;
const REPEAT = Math.max(1, Number(process.env.IOT_DOCTOR_BENCH_REPEAT ?? '5') || 5);
/** The product's default --timeout: the blocked-port figure is about the default. */
const BLOCKED_TIMEOUT_MS = 5000;
const ROUTE_IDS = ['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443'] as const;

/** One node process started in the client namespace (through GNU time when present, for its peak RSS). */
interface NodeRun {
  res: RunResult;
  wallMs: number;
  spawnedAtNs: bigint;
  rssMb: number | null;
}

/** A check run: the process, its report, and the first SYN it sent (ms after the spawn). */
interface CheckRun extends NodeRun {
  report: Report;
  firstSynMs: number | null;
}

/** Everything the bench needs to start processes in the client namespace. */
interface Ctx {
  bed: Bed;
  link: TunClient;
  lab: RunningLab;
  gnuTime: string | null;
  /** No AWS credentials anywhere: no variables, empty config files, no instance metadata. */
  envNoAws: NodeJS.ProcessEnv;
  /** Environment keys alone and AWS_ENDPOINT_URL_IOT pointing at the lab's control plane. */
  envAws: NodeJS.ProcessEnv;
  /** The same with AWS_ACCOUNT_ID: the credential chain names the account (as SSO, assumed roles, credential processes do). */
  envAwsAccount: NodeJS.ProcessEnv;
}

const figures: Figure[] = [];

function record(f: Figure): void {
  figures.push(f);
  process.stdout.write(`${f.line}   [${verdict(f)}]\n`);
}

async function runNode(c: Ctx, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<NodeRun> {
  const out = join(c.bed.tmp, 'rss.txt');
  const [cmd, argv] = c.gnuTime
    ? [c.gnuTime, ['-f', '%M', '-o', out, process.execPath, ...args]]
    : [process.execPath, args];
  const res = await c.bed.run(c.link.ns, cmd, argv, { env, timeoutMs });
  let rssMb: number | null = null;
  if (c.gnuTime && existsSync(out)) {
    const kb = Number(readFileSync(out, 'utf8').trim().split('\n').at(-1));
    if (Number.isFinite(kb) && kb > 0) rssMb = kb / 1024;
  }
  return { res, wallMs: res.durationMs, spawnedAtNs: res.spawnedAtNs ?? 0n, rssMb };
}

async function checkRun(c: Ctx, env: NodeJS.ProcessEnv, timeoutMs = 3000): Promise<CheckRun> {
  // The same four routes with and without AWS credentials (which add mqtt-wss-443): the difference is the cloud checks.
  const routes = ['mqtt-8883,mqtt-443,https-8443,https-443'];
  const run = await runNode(c, checkArgs(c.lab, { timeoutMs, routes }), env, timeoutMs * 8 + 20_000);
  let report: Report;
  try {
    report = JSON.parse(run.res.stdout) as Report;
  } catch {
    throw new Error(
      `iot-doctor check printed no JSON report (exit ${run.res.exitCode}): ${run.res.stderr.trim().slice(0, 2000)}`,
    );
  }
  const syn = c.link.synsSince(run.spawnedAtNs)[0];
  const firstSynMs = syn ? Number(syn.atNs - run.spawnedAtNs) / 1e6 : null;
  return { ...run, report, firstSynMs };
}

/**
 * Bare node sending one SYN to the lab, started the same way as the check (same namespace, same wrapper): node's own
 * floor for the first SYN, ms after the spawn, as the relay sees it.
 */
async function bareNodeSyn(c: Ctx): Promise<number | null> {
  const script = `require('net').connect(8883, '${ADDR.server}').on('error', () => {}).on('connect', function () { this.destroy(); })`;
  const run = await runNode(c, ['-e', script], c.envNoAws);
  if (run.res.exitCode !== 0) throw new Error(`bare node connect exited ${run.res.exitCode}: ${run.res.stderr.trim()}`);
  const syn = c.link.synsSince(run.spawnedAtNs)[0];
  return syn ? Number(syn.atNs - run.spawnedAtNs) / 1e6 : null;
}

async function bareNode(c: Ctx): Promise<NodeRun> {
  const run = await runNode(c, ['-e', '0'], c.envNoAws);
  if (run.res.exitCode !== 0) throw new Error(`node -e 0 exited ${run.res.exitCode}: ${run.res.stderr.trim()}`);
  return run;
}

/** RTT of the link as a TCP connect sees it: median of `n` connects to the lab's 8883, one after another. */
async function measureRtt(c: Ctx, n = 9): Promise<number[]> {
  const script = [
    'import socket, time',
    `for _ in range(${n}):`,
    '    t = time.monotonic()',
    `    s = socket.create_connection(("${ADDR.server}", 8883), timeout=5)`,
    '    print((time.monotonic() - t) * 1000)',
    '    s.close()',
    '    time.sleep(0.02)',
  ].join('\n');
  const res = await c.bed.run(c.link.ns, python(), ['-c', script], { timeoutMs: 30_000 });
  if (res.exitCode !== 0) throw new Error(`RTT probe failed: ${res.stderr.trim()}`);
  return res.stdout.trim().split('\n').map(Number);
}

function failedCells(report: Report, ignoreRoute?: string): string[] {
  return report.results
    .filter(
      (r) =>
        r.status !== 'pass' &&
        r.status !== 'skip' &&
        r.route !== ignoreRoute &&
        !(ignoreRoute && r.id.startsWith('diag')),
    )
    .map((r) => `${r.id}:${r.code}`);
}

function warnFailures(label: string, runs: CheckRun[], ignoreRoute?: string): void {
  const failures = [...new Set(runs.flatMap((r) => failedCells(r.report, ignoreRoute)))];
  if (failures.length)
    process.stdout.write(`bench: warning: ${label} runs had failing results: ${failures.join(', ')}\n`);
}

function cleanEnv(tmp: string): NodeJS.ProcessEnv {
  const empty = join(tmp, 'empty-aws-file');
  writeFileSync(empty, '');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return { ...env, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: empty, AWS_SHARED_CREDENTIALS_FILE: empty };
}

/** The rounds: node -e 0, a healthy check, a check with AWS credentials and the manual sequence, interleaved. */
interface Rounds {
  node: NodeRun[];
  nodeSyn: (number | null)[];
  healthy: CheckRun[];
  aws: CheckRun[];
  awsAccount: CheckRun[];
  manual: ManualRun[];
}

async function measureRounds(c: Ctx): Promise<Rounds> {
  const r: Rounds = { node: [], nodeSyn: [], healthy: [], aws: [], awsAccount: [], manual: [] };
  for (let i = 0; i < REPEAT; i++) {
    r.node.push(await bareNode(c));
    r.nodeSyn.push(await bareNodeSyn(c));
    r.healthy.push(await checkRun(c, c.envNoAws));
    r.aws.push(await checkRun(c, c.envAws));
    r.awsAccount.push(await checkRun(c, c.envAwsAccount));
    r.manual.push(await manualSequence(c.bed, c.link, c.lab));
    process.stdout.write(
      `  round ${i + 1}/${REPEAT}: node -e 0 ${round(r.node[i]!.wallMs)} ms, check ${round(r.healthy[i]!.wallMs)} ms ` +
        `(run ${round(r.healthy[i]!.report.durationMs)} ms), with AWS keys ${round(r.aws[i]!.wallMs)} ms, ` +
        `with keys and account id ${round(r.awsAccount[i]!.wallMs)} ms, manual ${r.manual[i]!.totalMs} ms\n`,
    );
  }
  return r;
}

function healthyFigures(rttMs: number, nodeMs: number, healthy: CheckRun[], manual: ManualRun[]): number {
  const wallMs = median(healthy.map((h) => h.wallMs));
  const limitMs = healthyLimitMs(rttMs, nodeMs);
  const ratio = wallMs / limitMs;
  const runMs = median(healthy.map((h) => h.report.durationMs));
  const stages = healthy.map((h) => stageTimes(h.report.results));
  const stageMedians = Object.fromEntries(
    ROUTE_IDS.map((route) => [
      route,
      Object.fromEntries(
        Object.keys(stages[0]?.[route] ?? {}).map((s) => [s, median(stages.map((x) => x[route]?.[s] ?? 0))]),
      ),
    ]),
  );
  record({
    name: 'Healthy full check vs limit',
    value: round(ratio, 2),
    unit: 'x',
    goal: `<= ${GOALS.healthyVsLimit}x`,
    met: ratio <= GOALS.healthyVsLimit,
    line: `healthy full check ${round(wallMs)} ms wall vs limit ${round(limitMs)} ms (${ROUND_TRIP_COUNT} x RTT ${rttMs} ms + node -e 0 ${round(nodeMs)} ms) = ${round(ratio, 2)}x   goal <= ${GOALS.healthyVsLimit}x`,
    detail: {
      wallMs: round(wallMs),
      limitMs: round(limitMs),
      rttMs,
      nodeStartupMs: round(nodeMs),
      roundTrips: ROUND_TRIPS,
      runMs: round(runMs),
      outsideRunMs: round(wallMs - runMs),
      stageMediansMs: stageMedians,
      runs: healthy.map((h) => ({ wallMs: round(h.wallMs), runMs: round(h.report.durationMs) })),
    },
  });
  const m = stageMedians['mqtt-8883'] ?? {};
  process.stdout.write(
    `  where the time goes: run ${round(runMs)} ms inside the report, ${round(wallMs - runMs)} ms outside (start-up, loading, exit); ` +
      `mqtt-8883 stages ${Object.entries(m)
        .map(([k, v]) => `${k} ${round(v)}`)
        .join(', ')}; ` +
      `tcp on the others ${ROUTE_IDS.slice(1)
        .map((r) => `${r} ${round(stageMedians[r]?.['tcp'] ?? 0)}`)
        .join(', ')} (ms)\n`,
  );
  const manualMs = median(manual.map((x) => x.totalMs));
  const speedup = manualMs / wallMs;
  record({
    name: 'Manual sequence vs healthy check',
    value: round(speedup, 1),
    unit: 'x faster',
    goal: `>= ${GOALS.manualSpeedup}x faster`,
    met: speedup >= GOALS.manualSpeedup,
    line: `manual sequence (4 x openssl s_client, 2 x mosquitto_pub, 1 x curl) ${round(manualMs)} ms vs iot-doctor ${round(wallMs)} ms = ${round(speedup, 1)}x faster   goal >= ${GOALS.manualSpeedup}x`,
    detail: { manualMs, wallMs: round(wallMs), steps: manual.at(-1)?.steps, runs: manual.map((x) => x.totalMs) },
  });
  return wallMs;
}

/**
 * The first SYN of `runs`: from the spawn (for information; bare node alone needs most of it) and after bare node's own
 * first SYN measured in the same rounds (the goal, ≤ 100 ms: what our own start-up adds).
 */
function synFigures(label: string, runs: CheckRun[], nodeSyns: (number | null)[]): void {
  const syns = runs.map((r) => r.firstSynMs).filter((v): v is number => v !== null);
  const bare = nodeSyns.filter((v): v is number => v !== null);
  const ours = syns.length === runs.length ? median(syns) : null;
  const floor = bare.length === nodeSyns.length ? median(bare) : null;
  const missing = `the relay saw no SYN for ${runs.length - syns.length} of ${runs.length} runs (bare node: ${nodeSyns.length - bare.length} of ${nodeSyns.length})`;
  record({
    name: `${label} from the spawn`,
    value: ours === null ? null : round(ours),
    unit: 'ms',
    goal: floor === null ? '(bare node: not measured)' : `(bare node's own first SYN: ${round(floor)} ms)`,
    met: null,
    info: true,
    line:
      ours === null
        ? `${label}: ${missing}`
        : `${label}: ${round(ours)} ms after the spawn; bare node sending one SYN the same way: ${floor === null ? 'not measured' : `${round(floor)} ms`}`,
    detail: { runs: syns.map((s) => round(s, 1)), bareNodeRuns: bare.map((s) => round(s, 1)) },
  });
  const own = ours === null || floor === null ? null : ours - floor;
  record({
    name: `${label} after bare node's`,
    value: own === null ? null : round(own),
    unit: 'ms',
    goal: `<= ${GOALS.firstSynMs} ms`,
    met: own === null ? null : own <= GOALS.firstSynMs,
    line:
      own === null
        ? `${label} after bare node's: ${missing}   goal <= ${GOALS.firstSynMs} ms`
        : `${label} after bare node's first SYN: ${round(own)} ms (${round(ours!)} - ${round(floor!)})   goal <= ${GOALS.firstSynMs} ms`,
    detail: { oursMs: ours === null ? null : round(ours), bareNodeMs: floor === null ? null : round(floor) },
  });
}

/** How the AWS credentials of a run were given: its figures' names and lines. */
interface AwsFlavour {
  /** 'AWS credentials' (keys alone) or 'AWS credentials with the account id' */
  name: string;
  /** what the line says about them */
  said: string;
}

/** The credential flavours the bench measures: keys alone (worst case), and keys with the account id. */
const AWS_KEYS: AwsFlavour = { name: 'AWS credentials', said: 'AWS keys alone' };
const AWS_ACCOUNT: AwsFlavour = {
  name: 'AWS credentials with the account id',
  said: 'AWS keys and AWS_ACCOUNT_ID',
};

function awsFigures(
  flavour: AwsFlavour,
  rttMs: number,
  healthy: CheckRun[],
  aws: CheckRun[],
  healthyWallMs: number,
): void {
  // cloud.logs skips unless asked (--logs); anything else that did not pass is worth a line.
  const cloud = aws[0]!.report.results.filter((r) => r.id.startsWith('cloud'));
  const notRun = cloud.filter((r) => r.status !== 'pass' && r.status !== 'warn' && r.id !== 'cloud.logs');
  if (!cloud.length || notRun.length) {
    process.stdout.write(
      `bench: warning: with ${flavour.said} the cloud checks did not all run: ${notRun.map((r) => `${r.id}:${r.code}`).join(', ') || 'none in the report'}\n`,
    );
  }
  const wallMs = median(aws.map((a) => a.wallMs));
  const extraMs = wallMs - healthyWallMs;
  const allowedMs = GOALS.cloudExtraRtt * rttMs;
  record({
    name: `${flavour.name}: extra wall time`,
    value: round(extraMs),
    unit: 'ms',
    goal: `<= ${GOALS.cloudExtraRtt} RTT (${round(allowedMs)} ms)`,
    met: extraMs <= allowedMs,
    line: `with ${flavour.said} (lab control plane over the link) ${round(wallMs)} ms vs ${round(healthyWallMs)} ms without = ${extraMs >= 0 ? '+' : ''}${round(extraMs)} ms   goal <= 1 RTT = ${round(allowedMs)} ms`,
    detail: {
      wallMs: round(wallMs),
      healthyWallMs: round(healthyWallMs),
      cloudResults: cloud.map((r) => `${r.id}:${r.status}:${r.code}`),
      runs: aws.map((a) => round(a.wallMs)),
    },
  });
  const shift = largestStageShift(
    healthy.map((h) => stageTimes(h.report.results)),
    aws.map((a) => stageTimes(a.report.results)),
  );
  const allowedShift = GOALS.cloudStageShiftRtt * rttMs;
  record({
    name: `${flavour.name}: largest stage shift`,
    value: shift ? round(shift.shiftMs) : null,
    unit: 'ms',
    goal: `<= ${GOALS.cloudStageShiftRtt} RTT (${round(allowedShift)} ms)`,
    met: shift ? shift.shiftMs <= allowedShift : null,
    line: shift
      ? `with ${flavour.said}, the stage that moved most: ${shift.route} ${shift.stage} ${round(shift.otherMs)} ms vs ${round(shift.baseMs)} ms without (${shift.shiftMs >= 0 ? '+' : ''}${round(shift.shiftMs)} ms)   goal <= ${round(allowedShift)} ms`
      : `with ${flavour.said}: no stage timings to compare`,
    detail: { ...shift },
  });
}

async function blockedFigures(c: Ctx, healthy: CheckRun[]): Promise<void> {
  dropPort(c.bed, 8883);
  const runs: CheckRun[] = [];
  try {
    for (let i = 0; i < REPEAT; i++) runs.push(await checkRun(c, c.envNoAws, BLOCKED_TIMEOUT_MS));
  } finally {
    c.bed.clearFaults();
  }
  warnFailures('blocked-8883', runs, 'mqtt-8883');
  const wallMs = median(runs.map((r) => r.wallMs));
  const bound = BLOCKED_TIMEOUT_MS + GOALS.blockedExtraMs;
  const tcp = runs[0]!.report.results.find((r) => r.id === 'route.mqtt-8883.tcp');
  record({
    name: 'Blocked 8883, default timeout: total',
    value: round(wallMs),
    unit: 'ms',
    goal: `<= timeout + ${GOALS.blockedExtraMs} ms (${bound} ms)`,
    met: wallMs <= bound,
    line: `8883 silently dropped, --timeout ${BLOCKED_TIMEOUT_MS}: ${round(wallMs)} ms total (8883 tcp ${tcp?.code ?? '?'})   goal <= ${bound} ms`,
    detail: {
      timeoutMs: BLOCKED_TIMEOUT_MS,
      runs: runs.map((r) => ({ wallMs: round(r.wallMs), runMs: round(r.report.durationMs) })),
    },
  });
  const per = ROUTE_IDS.slice(1).map((route) => {
    const sum = (r: CheckRun): number =>
      r.report.results.filter((x) => x.route === route).reduce((s, x) => s + x.durationMs, 0);
    return { route, healthyMs: median(healthy.map(sum)), blockedMs: median(runs.map(sum)) };
  });
  const worst = per
    .map((p) => ({ ...p, extraMs: p.blockedMs - p.healthyMs }))
    .sort((a, b) => b.extraMs - a.extraMs)[0]!;
  process.stdout.write(
    `  other routes while 8883 is dropped: worst ${worst.route} ${round(worst.blockedMs)} ms of stages vs ${round(worst.healthyMs)} ms healthy (${worst.extraMs >= 0 ? '+' : ''}${round(worst.extraMs)} ms)\n`,
  );
}

function wallTime(args: string[]): number {
  const t = performance.now();
  const res = spawnSync(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
  const ms = performance.now() - t;
  if (res.status !== 0)
    throw new Error(`node ${args.join(' ')} exited ${res.status}: ${res.stderr.trim().slice(0, 300)}`);
  return ms;
}

function helpFigure(): void {
  // Outside the bed (no network needed), pairs interleaved: node -e 0, then iot-doctor --help.
  const node: number[] = [];
  const help: number[] = [];
  wallTime([BIN, '--help']);
  for (let i = 0; i < Math.max(REPEAT, 5); i++) {
    node.push(wallTime(['-e', '0']));
    help.push(wallTime([BIN, '--help']));
  }
  const ratio = median(help) / median(node);
  record({
    name: '`--help` vs bare node',
    value: round(ratio, 2),
    unit: 'x',
    goal: `<= ${GOALS.helpVsNode}x`,
    met: ratio <= GOALS.helpVsNode,
    line: `iot-doctor --help ${round(median(help))} ms vs node -e 0 ${round(median(node))} ms = ${round(ratio, 2)}x   goal <= ${GOALS.helpVsNode}x`,
    detail: { helpMs: help.map((x) => round(x)), nodeMs: node.map((x) => round(x)) },
  });
}

function rssFigure(runs: CheckRun[]): void {
  const rss = runs.map((r) => r.rssMb).filter((v): v is number => v !== null);
  const peak = rss.length ? Math.max(...rss) : null;
  record({
    name: 'Peak RSS of a full run',
    value: peak === null ? null : round(peak, 1),
    unit: 'MB',
    goal: `<= ${GOALS.peakRssMb} MB`,
    met: peak === null ? null : peak <= GOALS.peakRssMb,
    line:
      peak === null
        ? `peak RSS not measured (no GNU time)   goal <= ${GOALS.peakRssMb} MB`
        : `peak RSS of a full run (largest of ${rss.length}, with and without AWS credentials) ${round(peak, 1)} MB   goal <= ${GOALS.peakRssMb} MB`,
    detail: { rssMb: rss.map((x) => round(x, 1)) },
  });
}

function writeReport(rtt: number[], load: number[]): void {
  const dir = join(REPO_ROOT, 'reports');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'bench.json');
  const body = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadAverageAtStart: load,
    loadAverageAtEnd: loadavg().map((l) => round(l, 2)),
    link: { delayMsEachWay: DELAY_MS, measuredRttMs: rtt.map((r) => round(r, 1)), via: 'TUN relay between namespaces' },
    repeat: REPEAT,
    figures: figures.map(({ line: _line, ...f }) => f),
  };
  writeFileSync(out, JSON.stringify(body, null, 2) + '\n');
  process.stdout.write(`\n${markdownTable(figures)}\n\nfigures written to ${out}\n`);
}

async function measureAll(c: Ctx): Promise<void> {
  const load = loadavg().map((l) => round(l, 2));
  process.stdout.write(
    `iot-doctor bench: client on a TUN link with ${DELAY_MS} ms each way, lab (${c.lab.via}) on 8883/443/8443 of ${ADDR.server}; ` +
      `median of ${REPEAT}; load average ${load.join(' ')} on ${cpus().length} CPUs\n`,
  );
  // Warm-up: the first runs pay for cold caches on both sides.
  await bareNode(c);
  await checkRun(c, c.envNoAws);
  await checkRun(c, c.envAws);
  await checkRun(c, c.envAwsAccount);
  const rtt = await measureRtt(c);
  const rounds = await measureRounds(c);
  rtt.push(...(await measureRtt(c)));
  const rttMs = round(median(rtt), 1);
  const nodeMs = median(rounds.node.map((n) => n.wallMs));
  process.stdout.write(
    `link RTT (TCP connects, median of ${rtt.length}): ${rttMs} ms; node -e 0 in the namespace: ${round(nodeMs)} ms\n\n`,
  );
  warnFailures('healthy', rounds.healthy);
  const healthyWallMs = healthyFigures(rttMs, nodeMs, rounds.healthy, rounds.manual);
  synFigures('First SYN', rounds.healthy, rounds.nodeSyn);
  helpFigure();
  awsFigures(AWS_KEYS, rttMs, rounds.healthy, rounds.aws, healthyWallMs);
  awsFigures(AWS_ACCOUNT, rttMs, rounds.healthy, rounds.awsAccount, healthyWallMs);
  synFigures('First SYN with AWS credentials', rounds.aws, rounds.nodeSyn);
  await blockedFigures(c, rounds.healthy);
  rssFigure([...rounds.healthy, ...rounds.aws, ...rounds.awsAccount]);
  writeReport(rtt, load);
}

async function main(): Promise<number> {
  const unavailable = bedUnavailableReason();
  if (unavailable) {
    process.stderr.write(`bench: cannot run here: ${unavailable}\n`);
    return 2;
  }
  if (!existsSync(BIN)) {
    process.stderr.write('bench: build first: npx tsc -p tsconfig.json\n');
    return 2;
  }
  const missing = MANUAL_TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length) {
    process.stderr.write(`bench: missing ${missing.join(', ')} (bash test/setup-system.sh installs them)\n`);
    return 2;
  }
  const bed = await Bed.create();
  const onSignal = (): void => void bed.destroy().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const link = await bed.addTunClient({ name: 'bench', delayMs: DELAY_MS, loss: 0, logSyn: true });
    const lab = await startLabInBed(bed, 'healthy');
    const envNoAws = cleanEnv(bed.tmp);
    const envAws = {
      ...envNoAws,
      AWS_ACCESS_KEY_ID: 'AKIDLAB',
      AWS_SECRET_ACCESS_KEY: 'lab',
      AWS_ENDPOINT_URL_IOT: lab.info.apiEndpoint,
    };
    const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
    const envAwsAccount = { ...envAws, AWS_ACCOUNT_ID: LAB_ACCOUNT_ID };
    await measureAll({ bed, link, lab, gnuTime, envNoAws, envAws, envAwsAccount });
    await lab.stop();
    return 0;
  } finally {
    await bed.destroy();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 2;
  },
);
