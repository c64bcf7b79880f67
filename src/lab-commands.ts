/**
 * The lab's commands: `demo` (start the lab, run a full check against it, print, stop) and `lab` (keep it running
 * for a device or a script). Loaded by the CLI only for these commands; the lab itself only when one runs.
 */
import { once } from 'node:events';
import { constants as osConstants } from 'node:os';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join, relative } from 'node:path';
import { runAndPrint, targetFromArgs, type OutputArgs } from './commands.js';
import { UsageError, errorMessage } from './errors.js';
import { makeOutputDir } from './output-dir.js';

/** Signals that stop a lab command; each is handled so the lab's children and temporary files go with it. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * How to run this iot-doctor again from the current folder: `iot-doctor` when it was started under that name (an
 * installed package on the PATH), otherwise `node <path of this script>` (a clone: `node dist/src/bin.js`), relative
 * when the script lies below the current folder. Paths are shell-quoted.
 */
function thisProgram(): string {
  const script = process.argv[1] ?? '';
  if (!script || basename(script) === 'iot-doctor') return 'iot-doctor';
  const rel = relative(process.cwd(), script);
  const shown = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : script;
  return `node ${/^[\w./-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`}`;
}

/**
 * Until the returned function is called, SIGINT, SIGTERM and SIGHUP run `close` once (bounded to 5 s: mosquitto
 * stopped, temporary folders with the key removed) and then end the process with 128 + the signal's number, as a
 * shell reports a killed command. Without this Node's default action would exit at once and leave both behind.
 */
export function closeOnStopSignals(close: () => Promise<void>): () => void {
  let closing: Promise<void> | undefined;
  const handlers = STOP_SIGNALS.map((sig) => {
    const handler = (): void => {
      closing ??= close();
      const bounded = Promise.race([closing, new Promise<void>((r) => setTimeout(r, 5000).unref())]);
      void bounded.finally(() => process.exit(128 + (osConstants.signals[sig] ?? 15)));
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  return () => {
    for (const [sig, handler] of handlers) process.off(sig, handler);
  };
}

async function loadLab(): Promise<typeof import('./lab/index.js')> {
  return import('./lab/index.js');
}

function checkScenario(lab: typeof import('./lab/index.js'), scenario: string): void {
  if (!lab.SCENARIOS.some((s) => s.name === scenario)) {
    throw new UsageError(`unknown scenario "${scenario}"; iot-doctor demo --list shows them`);
  }
}

/**
 * `demo`: starts the lab in-process with `--scenario`, runs a full check against it with lab credentials (never the
 * user's AWS credentials), prints the report and closes the lab; resolves to the run's exit code. `--list` prints
 * the scenarios instead. An unknown scenario throws `UsageError`.
 */
export async function runDemo(
  args: OutputArgs & { scenario: string; list: boolean; 'key-type': string; 'mqtt-version': string; timeout: number },
): Promise<number> {
  const labModule = await loadLab();
  if (args.list) {
    const width = Math.max(...labModule.SCENARIOS.map((s) => s.name.length));
    for (const s of labModule.SCENARIOS) process.stdout.write(`${s.name.padEnd(width)}  ${s.description}\n`);
    return 0;
  }
  checkScenario(labModule, args.scenario);
  const starting = labModule.startLab({ scenario: args.scenario, keyType: args['key-type'] as 'rsa' | 'ec' });
  // Armed before the lab is up: a signal during start-up still stops the mosquitto it may have spawned.
  const release = closeOnStopSignals(async () => (await starting.catch(() => undefined))?.close());
  const lab = await starting.catch((err: unknown) => {
    release();
    throw err;
  });
  try {
    const files = await lab.writeFiles();
    // The lab's API takes any credentials; never send the user's real ones to it. Set before the target is made:
    // with them the run includes mqtt-wss-443, signed with these keys (the lab verifies SigV4 with them).
    process.env.AWS_ACCESS_KEY_ID = 'AKIDIOTDOCTORLAB';
    process.env.AWS_SECRET_ACCESS_KEY = 'lab';
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    // STS and IAM (the WebSocket identity's check) are answered by the lab's API too.
    process.env.AWS_ENDPOINT_URL_STS = lab.apiEndpoint;
    process.env.AWS_ENDPOINT_URL_IAM = lab.apiEndpoint;
    const target = targetFromArgs({
      endpoint: lab.endpoint,
      cert: files.cert,
      key: files.key,
      ca: files.ca,
      'connect-to': lab.connectTo,
      timeout: args.timeout,
      'mqtt-version': args['mqtt-version'],
      region: lab.region,
      ...lab.scenario.checkFlags,
      // The scenario's site and device (proxy, --resolve, TLS settings); the user's proxy variables never apply.
      ...lab.checkArgs,
      'no-proxy': true,
    });
    process.stderr.write(`lab started: scenario "${lab.scenario.name}" (${lab.scenario.description})\n`);
    return await runAndPrint({ ...target, apiEndpoint: lab.apiEndpoint }, args);
  } finally {
    release();
    await lab.close();
  }
}

/**
 * `--dir` can hold the lab's files: made if missing (one level at a time: `makeOutputDir`), before the lab starts;
 * otherwise a one-line `UsageError`.
 */
function checkLabDir(dir: string): void {
  try {
    makeOutputDir(dir);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new UsageError(`cannot write the lab files into ${dir}: ${errorMessage(err)}`);
  }
}

/**
 * `lab`: starts the lab and keeps it running until SIGINT, SIGTERM or SIGHUP; writes ca.pem, the device certificate and key
 * and lab.json into `--dir` and prints a ready `check` command. Bad ports, an unknown scenario, a lab that cannot
 * start or an unwritable folder throw `UsageError`. Resolves to 0 once stopped.
 */
export async function runLab(args: {
  scenario: string;
  dir: string;
  bind: string;
  'allow-non-loopback': boolean;
  'port-8883': number;
  'port-443': number;
  'port-8443': number;
  'control-port': number;
  'key-type': string;
  'require-sni': boolean;
}): Promise<number> {
  const labModule = await loadLab();
  checkScenario(labModule, args.scenario);
  for (const name of ['port-8883', 'port-443', 'port-8443', 'control-port'] as const) {
    const v = args[name];
    if (!Number.isInteger(v) || v < 0 || v > 65535)
      throw new UsageError(`--${name} must be a port number (0 for any free port), got ${v}`);
  }
  checkLabDir(args.dir);
  let lab: Awaited<ReturnType<typeof labModule.startLab>>;
  try {
    lab = await labModule.startLab({
      scenario: args.scenario,
      keyType: args['key-type'] as 'rsa' | 'ec',
      bind: args.bind,
      allowNonLoopback: args['allow-non-loopback'],
      requireSni: args['require-sni'],
      ports: {
        mqtt8883: args['port-8883'],
        tls443: args['port-443'],
        https8443: args['port-8443'],
        control: args['control-port'],
      },
      log: (line) => process.stderr.write(`lab: ${line}\n`),
    });
  } catch (err) {
    throw new UsageError(`the lab could not start: ${errorMessage(err)}`);
  }
  let files: Awaited<ReturnType<typeof lab.writeFiles>>;
  try {
    files = await lab.writeFiles(args.dir, thisProgram());
  } catch (err) {
    await lab.close();
    throw new UsageError(`cannot write the lab files into ${args.dir}: ${errorMessage(err)}`);
  }
  const info = {
    endpoint: lab.endpoint,
    region: lab.region,
    accountId: lab.accountId,
    bind: lab.bind,
    ports: lab.ports,
    apiEndpoint: lab.apiEndpoint,
    connectTo: lab.connectTo,
    clientId: lab.device.clientId,
    certificateId: lab.device.certificateId,
    scenario: lab.scenario.name,
    files,
  };
  writeFileSync(join(args.dir, 'lab.json'), `${JSON.stringify(info, null, 2)}\n`);
  const listed = [files.ca, files.cert, files.key, files.proxyUrl, files.token, 'lab.json'].filter(Boolean);
  process.stdout.write(
    `${labModule.describeLab(lab)}\n\n` +
      `Files in ${args.dir}: ${listed.join(', ')}\n` +
      `Check it with:\n  ${files.checkCommand}\n\nlab ready (Ctrl-C stops it)\n`,
  );
  await Promise.race(STOP_SIGNALS.map((sig) => once(process, sig)));
  await lab.close();
  process.stdout.write('lab stopped\n');
  return 0;
}
