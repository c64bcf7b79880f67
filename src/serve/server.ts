/**
 * The exporter's HTTP side, in blackbox_exporter's shape (field notes §9.3): `GET /probe?target=ENDPOINT&module=NAME`
 * answers one run as Prometheus exposition, `GET /metrics` the exporter's own metrics, `GET /` a short index.
 * A bad request is a 400 with one line saying why. Every body passes through `scrub` first, so no key material,
 * key passphrase or AWS credential can leave in an answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { errorMessage } from '../errors.js';
import { renderReport, scrubKeyMaterial } from '../report/index.js';
import { EXPOSITION_CONTENT_TYPE } from '../report/exposition.js';
import type { ProbeModule, ServeConfig } from './config.js';
import { ProbeSlots, parseTarget, runProbe } from './probe.js';
import type { RejectReason, SelfMetrics } from './self-metrics.js';

/** Deadline when no X-Prometheus-Scrape-Timeout-Seconds header comes (blackbox_exporter's 120 s). */
export const DEFAULT_DEADLINE_SECONDS = 120;

/** What the server needs: the current configuration (replaced on reload), limits, metrics and a log line sink. */
export interface ServerState {
  config: ServeConfig;
  /** Seconds taken off the scrape timeout for the answer to travel back (blackbox's --timeout-offset). */
  timeoutOffsetSeconds: number;
  slots: ProbeSlots;
  metrics: SelfMetrics;
  log: (line: string) => void;
}

/** Removes PEM private-key blocks, module key passphrases and the AWS credentials of this process from TEXT. */
export function scrub(text: string, state: ServerState): string {
  const secrets = [
    ...[...state.config.modules.values()].flatMap((m) => m.secrets),
    process.env.AWS_SECRET_ACCESS_KEY,
    process.env.AWS_SESSION_TOKEN,
    process.env.AWS_ACCESS_KEY_ID,
  ].filter((s): s is string => typeof s === 'string' && s.length >= 4);
  let out = scrubKeyMaterial(text);
  for (const s of secrets) out = out.split(s).join('[secret removed]');
  return out;
}

function send(res: ServerResponse, state: ServerState, status: number, type: string, body: string): void {
  const text = scrub(body, state);
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

function reject(res: ServerResponse, state: ServerState, status: number, reason: RejectReason, line: string): void {
  state.metrics.rejected.inc({ reason });
  send(res, state, status, 'text/plain; charset=utf-8', `${line.replace(/\s*\n\s*/g, ' ')}\n`);
}

/**
 * The probe's deadline in ms: the scrape timeout Prometheus sends minus the offset (the whole timeout when the
 * offset would leave nothing), at most 120 s, or 120 s without the header. Undefined when the header is not a
 * positive number.
 */
export function probeDeadlineMs(header: string | string[] | undefined, offsetSeconds: number): number | undefined {
  if (header === undefined) return DEFAULT_DEADLINE_SECONDS * 1000;
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  if (!Number.isFinite(seconds) || seconds <= 0) return undefined;
  const usable = seconds - offsetSeconds > 0 ? seconds - offsetSeconds : seconds;
  // A scrape never waits longer than blackbox_exporter's default; larger values would overflow Node's timers.
  return Math.round(Math.min(usable, DEFAULT_DEADLINE_SECONDS) * 1000);
}

async function handleProbe(url: URL, req: IncomingMessage, res: ServerResponse, state: ServerState): Promise<void> {
  const names = [...state.config.modules.keys()];
  const moduleName = url.searchParams.get('module');
  const module = moduleName ? state.config.modules.get(moduleName) : undefined;
  if (!module) {
    const what = moduleName ? `unknown module "${moduleName.slice(0, 64)}"` : 'module parameter is missing';
    return reject(res, state, 400, 'unknown_module', `${what}; configured: ${names.join(', ')}`);
  }
  let endpoint: string;
  try {
    endpoint = parseTarget(url.searchParams.get('target'));
  } catch (err) {
    return reject(res, state, 400, 'bad_target', errorMessage(err).replace(/--endpoint/g, 'target'));
  }
  const deadlineMs = probeDeadlineMs(req.headers['x-prometheus-scrape-timeout-seconds'], state.timeoutOffsetSeconds);
  if (deadlineMs === undefined) {
    return reject(
      res,
      state,
      400,
      'bad_target',
      'X-Prometheus-Scrape-Timeout-Seconds must be a positive number of seconds',
    );
  }
  await probeWithSlot(module, endpoint, deadlineMs, url.searchParams.get('debug') === 'true', res, state);
}

async function probeWithSlot(
  module: ProbeModule,
  endpoint: string,
  deadlineMs: number,
  debug: boolean,
  res: ServerResponse,
  state: ServerState,
): Promise<void> {
  const { metrics, slots } = state;
  const name = module.name;
  const started = performance.now();
  metrics.waiting.inc();
  const got = await slots.acquire(deadlineMs / 2);
  metrics.waiting.dec();
  if (!got) return reject(res, state, 503, 'busy', `busy: ${slots.max} probes running, none finished in time`);
  metrics.inFlight.inc();
  const done = (): void => {
    metrics.inFlight.dec();
    slots.release();
  };
  try {
    const left = Math.max(100, Math.round(deadlineMs - (performance.now() - started)));
    const answer = await runProbe(module, endpoint, left);
    void answer.settled.finally(done);
    metrics.probes.inc({ module: name, result: answer.outcome });
    metrics.duration.observe({ module: name }, (performance.now() - started) / 1000);
    state.log(
      `probe module=${name} target=${endpoint} result=${answer.outcome} ${Math.round(performance.now() - started)} ms`,
    );
    const format = debug ? 'table' : 'prometheus';
    const type = debug ? 'text/plain; charset=utf-8' : EXPOSITION_CONTENT_TYPE;
    send(res, state, 200, type, renderReport(answer.report, format, { color: false }));
  } catch (err) {
    done();
    metrics.probes.inc({ module: name, result: 'error' });
    state.log(scrub(`probe module=${name} target=${endpoint} could not run: ${errorMessage(err)}`, state));
    send(res, state, 500, 'text/plain; charset=utf-8', `probe could not run: ${errorMessage(err).split('\n')[0]}\n`);
  }
}

function index(state: ServerState): string {
  const e = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const modules = [...state.config.modules.keys()].map((m) => `<li><code>${e(m)}</code></li>`).join('');
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>iot-doctor exporter</title></head><body>
<h1>iot-doctor exporter</h1><p><a href="metrics">metrics</a> · probe: <code>/probe?target=ENDPOINT&amp;module=NAME</code> (add <code>&amp;debug=true</code> for the matrix and diagnosis)</p>
<p>Modules from <code>${e(state.config.path)}</code>:</p><ul>${modules}</ul></body></html>\n`;
}

async function handle(req: IncomingMessage, res: ServerResponse, state: ServerState): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://exporter.invalid');
  if (req.method !== 'GET') {
    res.setHeader('Allow', 'GET');
    return reject(res, state, 405, 'method', `method ${req.method ?? ''} not allowed; use GET`);
  }
  if (url.pathname === '/probe') return handleProbe(url, req, res, state);
  if (url.pathname === '/metrics') {
    return send(res, state, 200, state.metrics.registry.contentType, await state.metrics.registry.metrics());
  }
  if (url.pathname === '/') return send(res, state, 200, 'text/html; charset=utf-8', index(state));
  if (url.pathname === '/-/healthy') return send(res, state, 200, 'text/plain; charset=utf-8', 'Healthy\n');
  return reject(res, state, 404, 'not_found', `not found: ${url.pathname.slice(0, 100)}; try /probe or /metrics`);
}

/** An HTTP server answering with STATE (read on every request, so a reload takes effect at once). */
export function createExporterServer(state: ServerState): Server {
  const server = createServer((req, res) => {
    handle(req, res, state).catch((err: unknown) => {
      state.log(scrub(`request failed: ${errorMessage(err)}`, state));
      if (!res.headersSent) send(res, state, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = (DEFAULT_DEADLINE_SECONDS + 10) * 1000;
  server.maxHeadersCount = 100;
  return server;
}
