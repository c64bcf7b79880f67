/**
 * Coordination between the concurrent routes of one run:
 * - HTTPS routes prove their round trip through an MQTT route's subscription: they wait (bounded) for a subscriber,
 *   publish with a marker, and the subscriber reports the marker when it arrives.
 * - MQTT routes keep their session until the HTTPS routes are done with it (bounded).
 * - Two MQTT routes that must use the same client id take turns (AWS closes the older connection of a duplicate id).
 */
import type { RouteId } from '../model/index.js';
import { withDeadline } from '../runner/deadline.js';

/** Spacing of CONNECTs with one client id: AWS IoT allows 1 per second (facts §3.1), plus a margin for clocks. */
export const CONNECT_SPACING_MS = 1_050;

/** An MQTT route subscribed to the probe topic, as the HTTPS routes see it. */
export interface Subscriber {
  route: RouteId;
  topic: string;
}

/** One per run (built by src/run.ts from the run's route ids); the routes reach it through `CheckContext.hub`. */
export class RouteHub {
  private readonly mqttPending: Set<RouteId>;
  private readonly httpsPending: Set<RouteId>;
  private readonly subscribers = new Map<RouteId, { topic: string; confirm: (marker: string) => Promise<boolean> }>();
  private readyWaiters: ((sub: Subscriber | null) => void)[] = [];
  private httpsWaiters: (() => void)[] = [];
  private clientIdLock: Promise<void> = Promise.resolve();
  /** performance.now() when the last turn on the shared client id sent CONNECT (or began, until it says so). */
  private lastTurnAt: number | undefined;

  /** Wall-clock start of this attempt (ms epoch): the start of the window in which AWS recorded its connections. */
  readonly startedAtMs = Date.now();

  /** @param routes the route ids of the run: the `mqtt…` ones may subscribe, the `https…` ones publish. */
  constructor(routes: readonly RouteId[]) {
    this.mqttPending = new Set(routes.filter((r) => r.startsWith('mqtt')));
    this.httpsPending = new Set(routes.filter((r) => r.startsWith('https')));
  }

  /**
   * Serialize a section for routes that share one client id. A turn's CONNECT also goes out at least
   * `CONNECT_SPACING_MS` after the previous turn's CONNECT, since AWS IoT throttles a client id to 1 CONNECT per
   * second (facts §3.1): the holder calls `connecting()` right before it writes CONNECT, which stamps the time the
   * spacing counts from (a busy event loop may delay CONNECT well after the turn began). Returns `release`,
   * `connecting` and how long the caller waited (ms).
   */
  async takeClientId(): Promise<{ release: () => void; connecting: () => void; waitedMs: number }> {
    const started = performance.now();
    let release!: () => void;
    const previous = this.clientIdLock;
    this.clientIdLock = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    const spacing = this.lastTurnAt === undefined ? 0 : this.lastTurnAt + CONNECT_SPACING_MS - performance.now();
    if (spacing > 0) await new Promise((resolve) => setTimeout(resolve, spacing));
    this.lastTurnAt = performance.now();
    const connecting = (): void => {
      this.lastTurnAt = performance.now();
    };
    return { release, connecting, waitedMs: Math.round(performance.now() - started) };
  }

  /** An MQTT route is subscribed to the test topic and can confirm markers. */
  subscriberReady(route: RouteId, topic: string, confirm: (marker: string) => Promise<boolean>): void {
    this.subscribers.set(route, { topic, confirm });
    for (const w of this.readyWaiters.splice(0)) w({ route, topic });
  }

  /** An MQTT route is finished (or failed before subscribing). */
  mqttEnded(route: RouteId): void {
    this.mqttPending.delete(route);
    this.subscribers.delete(route);
    if (this.mqttPending.size === 0 && this.subscribers.size === 0)
      for (const w of this.readyWaiters.splice(0)) w(null);
  }

  /** An HTTPS route is finished: the MQTT routes stop keeping their subscription for it. */
  httpsEnded(route: RouteId): void {
    this.httpsPending.delete(route);
    if (this.httpsPending.size === 0) for (const w of this.httpsWaiters.splice(0)) w();
  }

  /** First MQTT route with a live subscription, or null when none will come, the deadline passes or `until` settles. */
  whenSubscriber(timeoutMs: number, until?: Promise<void>): Promise<Subscriber | null> {
    const [first] = this.subscribers.entries();
    if (first) return Promise.resolve({ route: first[0], topic: first[1].topic });
    if (this.mqttPending.size === 0) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== waiter);
        resolve(null);
      }, timeoutMs);
      const waiter = (sub: Subscriber | null): void => {
        clearTimeout(timer);
        resolve(sub);
      };
      this.readyWaiters.push(waiter);
      void until?.then(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== waiter);
        waiter(null);
      });
    });
  }

  /** Ask the subscription of `route` whether a message with `marker` arrived (false when it is gone). */
  confirm(route: RouteId, marker: string): Promise<boolean> {
    const sub = this.subscribers.get(route);
    return sub ? sub.confirm(marker) : Promise.resolve(false);
  }

  /** Resolves when every HTTPS route has finished, after `timeoutMs` milliseconds, or when `signal` aborts. */
  whenHttpsDone(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.httpsPending.size === 0) return Promise.resolve();
    let waiter!: () => void;
    const done = new Promise<void>((resolve) => {
      waiter = resolve;
      this.httpsWaiters.push(waiter);
    });
    const forget = (): void => {
      this.httpsWaiters = this.httpsWaiters.filter((w) => w !== waiter);
    };
    return withDeadline(done, timeoutMs, { ...(signal ? { signal } : {}), onTimeout: forget });
  }
}
