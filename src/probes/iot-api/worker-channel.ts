/**
 * The control-plane channel in a worker thread (`api-worker.ts`): the AWS SDK is loaded and parsed there, on the other
 * core, and its calls' CPU work (signing, parsing answers) stays off the main thread, so the route stages that run
 * meanwhile keep their true timings (issue 16). One worker per process, one channel per run; the worker keeps the
 * process alive only while a request is pending.
 * Used when the built worker script exists (dist/; the CLI's bundle); running from the TypeScript sources, the run
 * opens the channel in its own thread instead (`openLocalChannel`).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import type { WorkerRequest } from './api-worker.js';
import type { ApiChannel, CallOutcome, ChannelOutcome, SigningCredentials } from './channel.js';
import type { CallerIdentity, RoleInfo, SimulationDecision } from './iam.js';
import type { ApiFailure, ApiOutcome, CloudSession, IotApiOptions, LogEventInfo } from './types.js';

/**
 * Where the built worker script lies: next to this module (tsc's dist/src/probes/iot-api/), or, from a chunk of the
 * CLI's bundle (dist/src/chunks/), at the same place (src/build/bundle.mjs writes its bundled version there).
 */
const CANDIDATES = ['./api-worker.js', '../probes/iot-api/api-worker.js'];

/** The worker script's path, or undefined when there is none (running from the TypeScript sources). */
export function apiWorkerScript(): string | undefined {
  for (const rel of CANDIDATES) {
    const url = new URL(rel, import.meta.url);
    if (url.protocol === 'file:' && existsSync(url)) return fileURLToPath(url);
  }
  return undefined;
}

type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

function workerFailure(message: string): ApiFailure {
  return { ok: false, kind: 'service-error', operation: '', permission: '', errorName: 'WorkerError', message };
}

/** Request/answer over one worker; every pending request fails (never hangs) when the worker dies. */
class WorkerLink {
  private nextId = 1;
  private readonly pending = new Map<number, (result: unknown) => void>();
  /** False once the worker failed or exited. */
  alive = true;

  constructor(private readonly worker: Worker) {
    worker.on('message', (msg: { id: number; result: unknown }) => this.settle(msg.id, msg.result));
    const failAll = (why: string): void => {
      this.alive = false;
      for (const id of [...this.pending.keys()]) this.settle(id, workerFailure(why));
    };
    worker.on('error', (err) => failAll(`the API worker failed: ${err.message}`));
    worker.on('exit', (code) => failAll(`the API worker exited (${code})`));
    // After the listeners: adding a 'message' listener refs the worker again (Node 20), and a worker that was only
    // preloaded (no request ever sent, e.g. the run ended on a usage error) would then hold the process forever.
    worker.unref();
  }

  /** Ends the worker thread (pending requests fail); resolves when it is gone. */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  /** Posts a message that has no answer; the worker stays unreferenced (it does not hold the process). */
  notify(req: { kind: 'preload' }): void {
    this.worker.postMessage(req);
  }

  request<T>(req: Request): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve) => {
      this.pending.set(id, resolve as (result: unknown) => void);
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ ...req, id });
    });
  }

  private settle(id: number, result: unknown): void {
    const resolve = this.pending.get(id);
    if (!resolve) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    resolve(result);
  }
}

let shared: WorkerLink | undefined;

/** Whether this process's API worker has been started and is still running. */
export function apiWorkerRunning(): boolean {
  return shared?.alive === true;
}

/** The process's worker (started on first use); a worker that died is replaced. */
function workerLink(script: string): WorkerLink {
  if (shared?.alive) return shared;
  // One environment for both threads, as when the SDK ran in this one: AWS_* read there are the process's own.
  shared = new WorkerLink(new Worker(script, { env: SHARE_ENV }));
  return shared;
}

type Opened = { ok: true; session: CloudSession; channel: number } | ApiFailure;

/**
 * Starts the API worker now and has it load the AWS SDK's IoT client at once, before any session is asked for: called
 * as the process starts (src/bin.ts, a `check` that may have AWS credentials), so that the worker's own start-up and
 * the SDK's parsing overlap the command's argument checks instead of following them (issue 16: the cloud checks'
 * cost). The worker stays unreferenced: a run that ends early (a usage error) is not held. Never throws.
 */
export function preloadApiWorker(): void {
  const script = apiWorkerScript();
  if (!script) return;
  try {
    workerLink(script).notify({ kind: 'preload' });
  } catch {
    // reported by openWorkerChannel when a run asks
  }
}

/**
 * Ends the process's API worker, if one was started, waiting at most `ms` milliseconds: once it is gone no SDK code
 * of this process can start a process (a credential_process) any more. Called when `check` or `presign` is done
 * (src/bin.ts), before the processes the run left behind are ended. Never throws.
 */
export async function stopApiWorker(ms = 500): Promise<void> {
  const link = shared;
  shared = undefined;
  early = undefined;
  if (!link) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    link.terminate().catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms).unref())),
  ]);
  clearTimeout(timer);
}

/** A session `prestartWorkerSession` asked for, with the options it was asked with (JSON), not yet taken. */
let early: { options: string; link: WorkerLink; opened: Promise<Opened> } | undefined;

/**
 * Starts the API worker (from the built script, when there is one) and asks it to open a session with `options` now,
 * so that the SDK loads on the other core while `check` loads the rest of itself (src/check-start.ts). The run's
 * `openWorkerChannel` with the same options takes it over. Never throws; a worker that cannot start is left to
 * `openWorkerChannel` to report.
 */
export function prestartWorkerSession(options: IotApiOptions): void {
  const script = apiWorkerScript();
  if (!script || early) return;
  try {
    const link = workerLink(script);
    early = { options: JSON.stringify(options), link, opened: link.request<Opened>({ kind: 'open', options }) };
  } catch {
    // reported by openWorkerChannel when the run asks
  }
}

/**
 * Opens a session in the process's API worker (started from `script` on first use): SDK, region, credentials, each
 * bounded by `options.timeoutMs` ms there; or takes over the one `prestartWorkerSession` opened with the same
 * options. Never throws: a worker that cannot start or dies is an `ApiFailure` (`service-error`, `WorkerError`), as
 * is every request pending then.
 */
export async function openWorkerChannel(script: string, options: IotApiOptions): Promise<ChannelOutcome> {
  let link: WorkerLink;
  let pending: Promise<Opened> | undefined;
  if (early && early.options === JSON.stringify(options) && early.link.alive) {
    ({ link, opened: pending } = early);
  } else {
    try {
      link = workerLink(script);
    } catch (err) {
      return workerFailure(`the API worker could not start: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  early = undefined;
  const opened = await (pending ?? link.request<Opened>({ kind: 'open', options }));
  if (!opened.ok) return opened;
  const { channel: n } = opened;
  const channel: ApiChannel = {
    session: opened.session,
    call: (operation, input) => link.request<CallOutcome>({ kind: 'call', channel: n, operation, input }),
    credentials: () =>
      link.request<{ ok: true; value: SigningCredentials } | ApiFailure>({ kind: 'credentials', channel: n }),
    filterLogEvents: (query) => link.request<ApiOutcome<LogEventInfo[]>>({ kind: 'logs', channel: n, query }),
    callerIdentity: () => link.request<ApiOutcome<CallerIdentity>>({ kind: 'identity', channel: n }),
    simulate: (input) => link.request<ApiOutcome<SimulationDecision>>({ kind: 'simulate', channel: n, input }),
    role: (roleName) => link.request<ApiOutcome<RoleInfo>>({ kind: 'role', channel: n, roleName }),
    destroy: () => void link.request({ kind: 'close', channel: n }),
  };
  return { ok: true, value: channel };
}
