/**
 * Keeps a helper process of the e2e bed from outliving the test: runs COMMAND and stops it (SIGTERM, then SIGKILL
 * after 5 s) when this process's stdin (a pipe from the test) reaches end of file, when this process gets SIGTERM
 * or SIGINT, or after MAX_SECONDS. Exits with the command's exit code.
 *
 *   node dist/test/e2e/watchdog.js MAX_SECONDS -- COMMAND [ARGS...]
 */
import { spawn } from 'node:child_process';
import { fstatSync } from 'node:fs';

const argv = process.argv.slice(2);
const maxSeconds = Number(argv[0]);
if (!Number.isFinite(maxSeconds) || maxSeconds <= 0 || argv[1] !== '--' || !argv[2]) {
  process.stderr.write('usage: watchdog MAX_SECONDS -- COMMAND [ARGS...]\n');
  process.exit(2);
}

const child = spawn(argv[2], argv.slice(3), { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;
const stop = (why: string): void => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`watchdog: stopping ${argv[2]} (${why})\n`);
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), 5000).unref();
};

child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
child.on('error', (err) => {
  process.stderr.write(`watchdog: ${err.message}\n`);
  process.exit(2);
});
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
setTimeout(() => stop(`${maxSeconds} s limit`), maxSeconds * 1000).unref();
const stdin = fstatSync(0);
if (stdin.isFIFO() || stdin.isSocket()) {
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('error', () => stop('stdin error'));
}
