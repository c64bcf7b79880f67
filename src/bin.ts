#!/usr/bin/env node
import { hideBin } from 'yargs/helpers';
import { main } from './cli.js';
import { UsageError, errorMessage } from './errors.js';

// Output piped into a command that stops reading (`| head`): end quietly, as Unix tools do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`iot-doctor: ${err.message}\n`);
    } else {
      process.stderr.write(`iot-doctor: internal error: ${errorMessage(err)}\n`);
      if (process.env.IOT_DOCTOR_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    }
    process.exitCode = 2;
  },
);
