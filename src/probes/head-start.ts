/**
 * The routes' head start (issue 16: the first SYN leaves as early as the process allows). As soon as `check` has its
 * target, and before the catalogue, the runner, the certificate parsing and the reporters are loaded, the direct
 * routes' DNS lookups and TCP connects start; the dns and tcp stages later take over what started here instead of
 * starting their own, so loading overlaps the network's round trips.
 *
 * Honest timings: a taken-over lookup keeps its own duration (from its query), a taken-over connect its own
 * (SYN → connected, from the connect() call here), exactly what the stage would have measured had it started them.
 * Only the first connection of each route is taken over (a reconnect opens its own), and a connection nobody took is
 * destroyed when the run ends (`releaseHeadStart`). Mismatches cost nothing but an unused connection: the stages
 * match by the exact name (lookups) and by the exact address and port (connects).
 */
import { isIP } from 'node:net';
import { ROUTES, routeKindOf, type RouteId } from '../model/index.js';
import type { Target } from '../target.js';
import { destinationFor, routeHostName } from '../../checks/route-destination.js';
import { resolveName, resolveWithServer, type DnsOutcome, type ResolvedAddress } from './dns.js';
import { connectTcp, type TcpOutcome } from './tcp.js';

/** A connect started ahead of its stage. */
interface EarlyConnect {
  started: number;
  outcome: Promise<TcpOutcome>;
  cancel: () => void;
}

const lookups = new Map<string, Promise<DnsOutcome>>();
const connects = new Map<string, EarlyConnect[]>();

const key = (address: string, port: number): string => `${address.toLowerCase()} ${port}`;

function startConnect(address: string, port: number, timeoutMs: number): void {
  const controller = new AbortController();
  const early: EarlyConnect = {
    started: performance.now(),
    outcome: connectTcp(address, port, timeoutMs, controller.signal),
    cancel: () => controller.abort(),
  };
  // A connection nobody takes must not crash the process on a late RST: keep an error listener until taken.
  void early.outcome.then((o) => {
    if (o.ok) o.socket.on('error', ignore);
  });
  const list = connects.get(key(address, port)) ?? [];
  list.push(early);
  connects.set(key(address, port), list);
}

function ignore(): void {
  // errors of a connection no stage took over yet: the stage sees the socket closed, or a fresh connect is used
}

/** The address a plain route instance dials from `list`: the `-4`/`-6` family, else IPv4 first (route-plan.ts). */
function pickAddress(list: readonly ResolvedAddress[], family: 4 | 6 | undefined): ResolvedAddress | undefined {
  const wanted = family ?? (list.some((a) => a.family === 4) ? 4 : undefined);
  return (wanted ? list.find((a) => a.family === wanted) : undefined) ?? list[0];
}

/** The lookup of `name` as the run's resolver would make it (`--dns-server`, else getaddrinfo), started once. */
function prefetch(target: Target, name: string): Promise<DnsOutcome> {
  let answer = lookups.get(name);
  if (!answer) {
    answer = target.dnsServer
      ? resolveWithServer(name, target.dnsServer, target.timeoutMs)
      : resolveName(name, target.timeoutMs);
    lookups.set(name, answer);
  }
  return answer;
}

/**
 * Starts the DNS lookups and TCP connects of the plain (direct, first-family) instance of every route kind in
 * `target.routes`, for the dns and tcp stages to take over. Skips routes through a proxy only (`--proxy-only`), a
 * credentials route without its host name and anything a `--resolve` pin or `--connect-to` address does not need.
 * Never throws; each connect is bounded by `target.timeoutMs`.
 */
export function startRoutesEarly(target: Target): void {
  if (target.proxyOnly) return;
  for (const id of target.routes) {
    const spec = ROUTES[routeKindOf(id as RouteId)];
    if (!spec || spec.transport !== 'direct' || !spec.stages.includes('tcp')) continue;
    const name = routeHostName(target, spec);
    if (!name) continue;
    const dest = destinationFor(target, spec, name);
    const pin = target.resolve.find((p) => p.host.toLowerCase() === dest.host.toLowerCase());
    const known = pin?.addresses.map((a): ResolvedAddress => ({ address: a, family: a.includes(':') ? 6 : 4 }));
    if (known?.length || isIP(dest.host)) {
      const list = known?.length ? known : [{ address: dest.host, family: isIP(dest.host) === 6 ? 6 : 4 } as const];
      const chosen = pickAddress(list, target.family);
      if (chosen) startConnect(chosen.address, dest.port, target.timeoutMs);
      continue;
    }
    void prefetch(target, dest.host).then((o) => {
      const chosen = o.ok ? pickAddress(o.addresses, target.family) : undefined;
      if (chosen) startConnect(chosen.address, dest.port, target.timeoutMs);
    });
  }
}

/** The lookup of `name` the head start made, handed over once (undefined: none; the caller makes its own). */
export function takeEarlyLookup(name: string): Promise<DnsOutcome> | undefined {
  const answer = lookups.get(name);
  lookups.delete(name);
  return answer;
}

/**
 * A TCP connection to `address`:`port`: the one the head start opened when there is one (its outcome and duration,
 * SYN → connected, are that connect's own), else a fresh `connectTcp`. `timeoutMs` and `signal` bound the wait as for
 * `connectTcp`; a taken-over connect still pending then is destroyed. Never rejects.
 */
export function connectTcpEarly(
  address: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<TcpOutcome> {
  const list = connects.get(key(address, port));
  const early = list?.shift();
  if (list && list.length === 0) connects.delete(key(address, port));
  if (!early) return connectTcp(address, port, timeoutMs, signal);
  return takeOver(early, address, port, timeoutMs, signal);
}

function takeOver(
  early: EarlyConnect,
  address: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<TcpOutcome> {
  const elapsed = (): number => Math.round(performance.now() - early.started);
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: TcpOutcome): void => {
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(o);
    };
    const cut = (o: TcpOutcome): void => {
      early.cancel();
      finish(o);
    };
    const onAbort = (): void => cut({ ok: false, code: 'TCP_ERROR', message: 'aborted', durationMs: elapsed() });
    const timer = setTimeout(() => {
      const message = `no answer from ${address}:${port} within ${timeoutMs} ms`;
      cut({ ok: false, code: 'TCP_TIMEOUT', message, durationMs: elapsed() });
    }, timeoutMs);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    void early.outcome.then((o) => {
      if (done) {
        if (o.ok) o.socket.destroy();
        return;
      }
      if (!o.ok || !o.socket.destroyed) {
        if (o.ok) o.socket.off('error', ignore);
        finish(o);
        return;
      }
      // Connected, then closed by the peer before its stage took it: the stage sees a connection of its own.
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      done = true;
      void connectTcp(address, port, timeoutMs, signal).then(resolve);
    });
  });
}

/** Ends the head start: pending lookups are forgotten, connections no stage took over are closed. */
export function releaseHeadStart(): void {
  lookups.clear();
  for (const list of connects.values()) for (const early of list) early.cancel();
  for (const list of connects.values()) {
    for (const early of list) void early.outcome.then((o) => (o.ok ? o.socket.destroy() : undefined));
  }
  connects.clear();
}
