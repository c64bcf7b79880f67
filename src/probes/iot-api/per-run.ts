/**
 * One `IotApi` per run: the options a run's Target gives it, and the registry keyed by the run's check context.
 */
import type { Target } from '../../target.js';
import { loadIotSdk } from './aws-credentials.js';
import { IotApi } from './client.js';
import { apiWorkerScript } from './worker-channel.js';
import { iotApiOptions } from './options.js';

export { iotApiOptions } from './options.js';

const perRun = new WeakMap<object, IotApi>();

/**
 * The API of one run: one object per check context (built once per run), so the SDK client, the credential lookup
 * and every answer are shared by the cloud checks of that run and of no other.
 */
export function iotApiFor(run: { target: Target }): IotApi {
  let api = perRun.get(run);
  if (!api) perRun.set(run, (api = new IotApi(iotApiOptions(run.target))));
  return api;
}

/**
 * Releases the SDK client of a run (its keep-alive sockets), if one was made. Optional: idle sockets do not keep the
 * process alive.
 */
export function closeIotApi(run: object): void {
  perRun.get(run)?.destroy();
  perRun.delete(run);
}

/**
 * Before the routes start: opens the run's API session in the API worker without waiting (the SDK loads on the other
 * core meanwhile), or, without a worker (running from the sources), loads the SDK in this thread now, so that its
 * parse time never lands in the route stages. Never rejects.
 */
export async function warmIotApi(run: { target: Target }): Promise<void> {
  const api = iotApiFor(run);
  if (!api.options.inThread && apiWorkerScript()) api.start();
  else await loadIotSdk().catch(() => undefined);
}
