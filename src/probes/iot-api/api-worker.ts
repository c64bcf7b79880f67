/**
 * The worker thread of the control-plane calls (`worker-channel.ts` starts it): it opens the session on the AWS SDK
 * (`openLocalChannel`) when asked and answers each request with plain data. One worker serves every run of the
 * process (`--repeat`, `serve`), one channel per run. Requests: `{ id, kind: 'open', options }`, then with the
 * channel number `open` answered: `call` (operation, input), `credentials`, `logs` (query), `identity`, `simulate`
 * (input), `close`; and `{ kind: 'preload' }` (no id, no answer: load the SDK now). Answers:
 * `{ id, result }` (for `open`, the session and channel number, or the `ApiFailure`). Every SDK step is bounded by
 * the channel's deadlines; a request on an unknown channel answers an `ApiFailure`.
 */
import { parentPort } from 'node:worker_threads';
import { loadIotSdk } from './aws-credentials.js';
import { openLocalChannel, type ApiChannel, type SimulateInput } from './channel.js';
import type { ApiFailure, IotApiOptions, IotOperation, LogQuery } from './types.js';

/** A request from the main thread. */
export type WorkerRequest =
  | { id: number; kind: 'open'; options: IotApiOptions }
  | { id: number; kind: 'call'; channel: number; operation: IotOperation; input: object }
  | { id: number; kind: 'credentials'; channel: number }
  | { id: number; kind: 'logs'; channel: number; query: LogQuery }
  | { id: number; kind: 'identity'; channel: number }
  | { id: number; kind: 'simulate'; channel: number; input: SimulateInput }
  | { id: number; kind: 'role'; channel: number; roleName: string }
  | { id: number; kind: 'close'; channel: number };

const channels = new Map<number, ApiChannel>();
let nextChannel = 1;

const NOT_OPEN: ApiFailure = {
  ok: false,
  kind: 'service-error',
  operation: '',
  permission: '',
  errorName: 'WorkerError',
  message: 'no such API session',
};

async function answer(req: WorkerRequest): Promise<unknown> {
  if (req.kind === 'open') {
    const opened = await openLocalChannel(req.options);
    if (!opened.ok) return opened;
    const n = nextChannel++;
    channels.set(n, opened.value);
    return { ok: true, session: opened.value.session, channel: n };
  }
  const channel = channels.get(req.channel);
  if (!channel) return NOT_OPEN;
  if (req.kind === 'close') {
    channels.delete(req.channel);
    channel.destroy();
    return { ok: true };
  }
  if (req.kind === 'call') return channel.call(req.operation, req.input);
  if (req.kind === 'credentials') return channel.credentials();
  if (req.kind === 'identity') return channel.callerIdentity();
  if (req.kind === 'simulate') return channel.simulate(req.input);
  if (req.kind === 'role') return channel.role(req.roleName);
  return channel.filterLogEvents(req.query);
}

parentPort?.on('message', (req: WorkerRequest | { kind: 'preload' }) => {
  // No answer: start parsing the SDK now (worker-channel.ts preloadApiWorker); `open` awaits the same import.
  if (req.kind === 'preload') {
    loadIotSdk().catch(() => undefined);
    return;
  }
  void answer(req).then(
    (result) => {
      try {
        parentPort?.postMessage({ id: req.id, result });
      } catch (err) {
        // An answer that cannot cross threads (a function or class instance in an SDK output) is a failure, not a hang.
        const message = `the answer of ${req.kind} could not be passed on: ${err instanceof Error ? err.message : err}`;
        parentPort?.postMessage({ id: req.id, result: { ...NOT_OPEN, message } });
      }
    },
    (err: unknown) =>
      parentPort?.postMessage({
        id: req.id,
        result: { ...NOT_OPEN, message: err instanceof Error ? err.message : String(err) },
      }),
  );
});
