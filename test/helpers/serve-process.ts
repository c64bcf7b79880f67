/**
 * Starts `iot-doctor serve` from dist/ as a child process on a free loopback port and stops it by its own pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const bin = join(fileURLToPath(new URL('../..', import.meta.url)), 'dist/src/bin.js');

/** A running exporter: its base URL, its stderr so far, and a stop function. */
export interface ServeProcess {
  child: ChildProcess;
  url: string;
  port: number;
  stderr: () => string;
  /** Resolves once stderr contains TEXT (or rejects after MS). */
  waitForLog: (text: string | RegExp, ms?: number) => Promise<void>;
  stop: () => Promise<void>;
}

/** Spawns `serve --listen 127.0.0.1:0 --config CONFIG ...EXTRA` in CWD and waits for its "listening on" line. */
export async function startServe(
  config: string,
  cwd: string,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServeProcess> {
  const child = spawn('node', [bin, 'serve', '--listen', '127.0.0.1:0', '--config', config, ...extra], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout!.resume();
  const waitForLog = (text: string | RegExp, ms = 20_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const started = Date.now();
      const tick = (): void => {
        if (typeof text === 'string' ? err.includes(text) : text.test(err)) return resolve();
        if (child.exitCode !== null) return reject(new Error(`serve exited ${child.exitCode}: ${err}`));
        if (Date.now() - started > ms) return reject(new Error(`timed out waiting for ${String(text)} in: ${err}`));
        setTimeout(tick, 25);
      };
      tick();
    });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitForLog(/listening on http:\/\/127\.0\.0\.1:\d+/);
  } catch (e) {
    await stop();
    throw e;
  }
  const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err)![1]);
  return { child, url: `http://127.0.0.1:${port}`, port, stderr: () => err, waitForLog, stop };
}
