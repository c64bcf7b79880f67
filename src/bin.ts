#!/usr/bin/env node
import { main } from './cli.js';
import { endDescendants } from './child-processes.js';
import { UsageError, errorMessage } from './errors.js';
import { credentialSourceHint } from './probes/iot-api/aws-credentials.js';
import { preloadApiWorker, stopApiWorker } from './probes/iot-api/worker-channel.js';

// Output piped into a command that stops reading (`| head`): end quietly, as Unix tools do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

const args = process.argv.slice(2);

/**
 * `--format nagios` (or `-f nagios`, `--format=nagios,json`) puts the run under the Nagios plugin convention: a usage
 * or tool error is then state UNKNOWN, exit 3, with its status line on stdout (field notes §9.4).
 */
function nagiosRequested(argv: readonly string[]): boolean {
  const i = argv.findIndex((a) => a === '--format' || a === '-f' || a.startsWith('--format=') || a.startsWith('-f='));
  if (i < 0) return false;
  const value = argv[i]!.includes('=') ? argv[i]!.slice(argv[i]!.indexOf('=') + 1) : (argv[i + 1] ?? '');
  return value.split(',')[0]!.trim() === 'nagios';
}

/**
 * Whether this is a `check` that may call the AWS IoT API: not `--no-cloud`, not a help request, and some AWS credential
 * source exists (`--profile`, the environment, the shared files; decided without the SDK). A guess from the raw
 * arguments, made before they are parsed: a wrong guess only starts the API worker for nothing.
 */
function checkMayUseAwsApi(argv: readonly string[]): boolean {
  if (argv[0] !== 'check' || argv.some((a) => a === '--no-cloud' || a === '--help' || a === '-h')) return false;
  const i = argv.findIndex((a) => a === '--profile' || a.startsWith('--profile='));
  const awsProfile = i < 0 ? undefined : argv[i]!.includes('=') ? argv[i]!.slice(10) : argv[i + 1];
  return credentialSourceHint(awsProfile ? { awsProfile } : {}) !== undefined;
}

// The API worker starts and parses the SDK while the arguments are checked and the routes start (issue 16).
if (checkMayUseAwsApi(args)) preloadApiWorker();

// Whatever ends the process (its last handle, the exit timer below, a signal's handler): a credential_process the SDK
// started and that never ended (it waits for a login, say) does not outlive the run, re-parented to init.
if (args[0] === 'check' || args[0] === 'presign') process.once('exit', endDescendants);

/**
 * Ends the process with `code` once all it wrote to stdout and stderr has left it: into a pipe whose reader is slower
 * than the run (a pipe takes 64 KiB at a time), Node queues the rest, and `process.exit` would drop it, ending a
 * report mid-way with exit 0. A reader that never reads keeps the process waiting, as it would keep `cat`.
 */
function exitWhenWritten(code: number): void {
  if (process.stdout.writableLength + process.stderr.writableLength === 0) process.exit(code);
  setTimeout(() => exitWhenWritten(code), 10);
}

main(args).then(
  (code) => {
    process.exitCode = code;
    // A check is over once its report is out (issue 17: wall time ≤ --timeout + a small constant): a socket still
    // closing towards a server that never answers, or an aborted AWS API call, must not hold the process. The same
    // for presign: a credential_process that never ends (the SDK's child) must not hold it after the error line.
    if (args[0] === 'check' || args[0] === 'presign') {
      setTimeout(() => exitWhenWritten(code), 50).unref();
      // The API worker first (no SDK code may start a credential_process after this), then what the run left behind.
      void stopApiWorker().then(endDescendants);
    }
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`iot-doctor: ${err.message}\n`);
    } else {
      process.stderr.write(`iot-doctor: internal error: ${errorMessage(err)}\n`);
      if (process.env.IOT_DOCTOR_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    }
    process.exitCode = 2;
    if (nagiosRequested(args)) {
      process.stdout.write(
        `IOT-DOCTOR UNKNOWN - ${errorMessage(err)
          .replace(/\s*\n\s*/g, ' ')
          .replace(/\|/g, '/')}\n`,
      );
      process.exitCode = 3;
    }
  },
);
