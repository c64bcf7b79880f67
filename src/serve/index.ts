/**
 * `iot-doctor serve --listen HOST:PORT --config FILE`: an exporter in blackbox_exporter's style (field notes §9.3).
 * It binds exactly the address given, loads and validates the configuration, reloads it on SIGHUP (keeping the old
 * one when the new one is wrong), and stops on SIGINT/SIGTERM. Logs go to stderr, one line per event.
 */
import { once } from 'node:events';
import { isIP } from 'node:net';
import { UsageError, errorMessage } from '../errors.js';
import { loadServeConfig } from './config.js';
import { ProbeSlots } from './probe.js';
import { createSelfMetrics } from './self-metrics.js';
import { createExporterServer, scrub, type ServerState } from './server.js';

/** Arguments of `serve`. */
export interface ServeArgs {
  listen: string;
  config: string;
  'timeout-offset'?: number;
  'max-concurrent'?: number;
}

/** Requests that may wait for a slot, per running slot, before the exporter answers 503 at once. */
const WAITING_PER_SLOT = 8;

/**
 * `HOST:PORT`, `[IPv6]:PORT`: the one address to bind. An empty host is refused (it would bind every address).
 * Throws UsageError with one line otherwise.
 */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const host = m?.[1] ?? m?.[2];
  const port = m ? Number(m[3]) : NaN;
  if (!m || !host || port > 65535) {
    throw new UsageError(`--listen must be HOST:PORT, e.g. 127.0.0.1:9115 or [::1]:9115 (got "${value}")`);
  }
  if (m[1] && isIP(m[1]) !== 6) throw new UsageError(`--listen: ${m[1]} in brackets is not an IPv6 address`);
  return { host, port };
}

function numberArg(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min || v > max) throw new UsageError(`--${name} must be ${min}..${max}, got ${v}`);
  return v;
}

/** Runs the exporter until SIGINT or SIGTERM; resolves with the exit code (0). Usage problems throw UsageError. */
export async function serveCommand(args: ServeArgs): Promise<number> {
  const { host, port } = parseListen(args.listen);
  const offset = numberArg('timeout-offset', args['timeout-offset'], 0.5, 0, 60);
  const max = Math.floor(numberArg('max-concurrent', args['max-concurrent'], 8, 1, 256));
  const metrics = createSelfMetrics();
  const log = (line: string): void => void process.stderr.write(`iot-doctor serve: ${line}\n`);
  const state: ServerState = {
    config: loadServeConfig(args.config),
    timeoutOffsetSeconds: offset,
    slots: new ProbeSlots(max, max * WAITING_PER_SLOT),
    metrics,
    log,
  };
  metrics.reloadOk.set(1);
  metrics.reloadTime.set(Math.floor(Date.now() / 1000));
  metrics.modules.set(state.config.modules.size);
  const server = createExporterServer(state);
  server.listen({ host, port, exclusive: true });
  // `once(server, 'listening')` rejects with the raw error when 'error' comes first: one wait, one usage line.
  await once(server, 'listening').catch((err: unknown) => {
    throw new UsageError(`cannot listen on ${args.listen}: ${errorMessage(err)}`);
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address : { address: host, port };
  const shown = bound.address.includes(':') ? `[${bound.address}]` : bound.address;
  log(`listening on http://${shown}:${bound.port} with ${state.config.modules.size} modules from ${args.config}`);
  const reload = (): void => {
    try {
      state.config = loadServeConfig(args.config);
      metrics.reloadOk.set(1);
      metrics.reloadTime.set(Math.floor(Date.now() / 1000));
      metrics.modules.set(state.config.modules.size);
      log(`configuration reloaded: ${state.config.modules.size} modules`);
    } catch (err) {
      metrics.reloadOk.set(0);
      for (const line of scrub(errorMessage(err), state).split('\n'))
        log(`reload failed, keeping the previous configuration: ${line}`);
    }
  };
  process.on('SIGHUP', reload);
  try {
    await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  } finally {
    process.off('SIGHUP', reload);
  }
  log('stopping');
  server.closeAllConnections();
  server.close();
  return 0;
}
