/**
 * The stage engine: runs a route's stages (`RouteSpec.stages`, in order) over one connection, and turns the outcomes
 * into one matrix cell per stage. It knows no route kind, protocol or transport: each stage id is looked up in the
 * route's transport (route-transports.ts), then in the stage registry (route-stages.ts).
 * A stage that fails (or ends on a warning it does not allow past) ends the route; the later stages are `skip`
 * with the reason.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { TlsSuccess } from '../src/probes/tls.js';
import { STAGE_TITLES, routeResultId, type CheckResult, type RouteSpec, type StageId } from '../src/model/index.js';
import { buildResult, SKIP_CODES } from '../src/model/result.js';
import type { Target } from '../src/target.js';
import { ROUTE_HINTS } from './route-hints.js';
import { destinationFor, routeHostName } from './route-destination.js';
import type { Destination, RouteRun, StageDef, StageOutcome } from './route-stage.js';
import { STAGES } from './route-stages.js';
import { TRANSPORTS } from './route-transports.js';
import type { CheckContext } from './types.js';

/** Where a route actually connects: the endpoint's port, or what `--connect-to` says. */
export function connectionTarget(target: Target, spec: RouteSpec): Destination {
  return destinationFor(target, spec, routeHostName(target, spec));
}

/**
 * The implementation of `stage` for `spec`: the transport's own, else the registry's. Throws when the route's
 * transport is not registered or nothing implements the stage (a route kind listing a stage nobody wrote).
 */
export function stageDef(spec: RouteSpec, stage: StageId): StageDef {
  const transport = TRANSPORTS[spec.transport];
  if (!transport) throw new Error(`route ${spec.id}: unknown transport ${spec.transport}`);
  const def = transport.stages[stage] ?? STAGES[stage];
  if (!def) throw new Error(`route ${spec.id}: no implementation of stage ${stage}`);
  return def;
}

/** May the next stage run after `def` produced its outcomes? No failure so far, and the last one passed (or warned
 * where `def` allows it). A stage that produced nothing does not stop the route. */
function mayContinue(outcomes: readonly StageOutcome[], produced: number, def: StageDef): boolean {
  if (outcomes.some((o) => o.status === 'fail' || o.status === 'error')) return false;
  if (produced === 0) return true;
  const last = outcomes.at(-1)!;
  return last.status === 'pass' || (last.status === 'warn' && def.continueOnWarn === true);
}

/**
 * Close our side and let the server's FIN arrive in the background: the results do not wait a round trip for it,
 * and a server that never closes is cut off after a second so the process can exit.
 */
function closeInBackground(socket: TLSSocket, raw: Socket | undefined): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), 1000);
  // Neither the wait for the FIN nor the socket keeps the process alive once the run is over.
  timer.unref();
  raw?.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end();
}

/**
 * A second connection for the same route: the stages before `client-auth` (or, on a route without it, before the
 * first protocol-level stage) run again on a fresh `RouteRun` (so a proxy
 * or any other transport is crossed the same way). Its sockets are owned by the first run (destroyed on abort).
 */
async function connectAgain(
  again: RouteRun & { outcomes: StageOutcome[] },
): Promise<{ tls?: TlsSuccess; outcomes: StageOutcome[] }> {
  for (const stage of again.spec.stages) {
    if (stage === 'client-auth' || again.signal.aborted) break;
    if (again.outcomes.some((o) => o.stage === stage)) continue;
    const def = stageDef(again.spec, stage);
    if (def.protocolLevel) break; // a route without client-auth (custom authentication): up to the protocol
    const produced = await def.run(again);
    again.outcomes.push(...produced);
    if (!mayContinue(again.outcomes, produced.length, def)) break;
  }
  const ok = again.tls && !again.outcomes.some((o) => o.status === 'fail' || o.status === 'error');
  if (!ok) again.tls?.socket.destroy();
  return { ...(ok ? { tls: again.tls! } : {}), outcomes: again.outcomes };
}

/**
 * Run the stages of `spec` in order until one ends the route, and return their outcomes (possibly fewer than the
 * stages: `finishRoute` fills the rest). Protocol-level stages run only when `target.protocol`. When `signal` aborts,
 * every socket the stages opened is destroyed at once, so waiting stages end promptly. Never rejects for a network
 * failure (those are outcomes); rejects only for a programming error (unknown transport or stage).
 */
export async function runRoute(spec: RouteSpec, ctx: CheckContext, signal: AbortSignal): Promise<StageOutcome[]> {
  const outcomes: StageOutcome[] = [];
  const owned: { destroy(): void }[] = [];
  const own = (resource: { destroy(): void }): void => {
    owned.push(resource);
    if (signal.aborted) resource.destroy();
  };
  const dest = connectionTarget(ctx.target, spec);
  const run: RouteRun = {
    spec,
    ctx,
    signal,
    outcomes,
    dest,
    own,
    reconnect: () => connectAgain({ spec, ctx, signal, dest, own, outcomes: [], reconnecting: true }),
  };
  const onAbort = (): void => owned.forEach((r) => r.destroy());
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (const stage of spec.stages) {
      if (signal.aborted) break;
      if (outcomes.some((o) => o.stage === stage)) continue; // already settled by an earlier stage
      const def = stageDef(spec, stage);
      if (def.protocolLevel && !ctx.target.protocol) break;
      const produced = await def.run(run);
      outcomes.push(...produced);
      if (!mayContinue(outcomes, produced.length, def)) break;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (run.tls) closeInBackground(run.tls.socket, run.stream);
    else owned.forEach((r) => r.destroy());
  }
  return withPeer(outcomes, run);
}

/**
 * Every cell of a route names the address and family it used (the proxy's on a proxied route), so a matrix with
 * IPv4 and IPv6 columns can be read cell by cell.
 */
function withPeer(outcomes: StageOutcome[], run: RouteRun): StageOutcome[] {
  const peer = run.peer;
  if (!peer) return outcomes;
  const family = peer.family ?? (peer.address.includes(':') ? 6 : 4);
  const via = run.spec.transport === 'direct' ? {} : { via: run.spec.transport };
  return outcomes.map((o) => ({ ...o, evidence: { address: peer.address, family, ...via, ...(o.evidence ?? {}) } }));
}

/**
 * One result per stage of `spec`, in stage order: the outcome of the stages that ran (with the hint of
 * `ROUTE_HINTS[code]` on a non-pass, and the reproduce command on a non-pass), `skip`/SKIPPED "blocked by <stage>:
 * <code>" after the stage that ended the route, `skip`/PROTOCOL_NOT_REQUESTED for protocol-level stages under
 * `--no-protocol`.
 */
export function finishRoute(spec: RouteSpec, outcomes: readonly StageOutcome[]): CheckResult[] {
  const byStage = new Map(outcomes.map((o) => [o.stage, o]));
  // What ended the route: the first failure, or a last stage that could not pass (e.g. no client credentials).
  const last = outcomes.at(-1);
  const blocker =
    outcomes.find((o) => o.status === 'fail' || o.status === 'error') ??
    (last && last.status !== 'pass' ? last : undefined);
  return spec.stages.map((stage): CheckResult => {
    const o = byStage.get(stage);
    const meta = { id: routeResultId(spec.id, stage), route: spec.id, stage, title: STAGE_TITLES[stage] };
    if (!o && !blocker && stageDef(spec, stage).protocolLevel) {
      return buildResult(meta, { durationMs: 0 }, PROTOCOL_NOT_REQUESTED);
    }
    if (!o) {
      const summary = blocker ? `blocked by ${blocker.stage}: ${blocker.code}` : 'not run';
      return buildResult(meta, { durationMs: 0 }, { status: 'skip', code: SKIP_CODES.SKIPPED, summary });
    }
    const hint = o.hint ?? (o.status === 'pass' ? undefined : ROUTE_HINTS[o.code]?.(spec));
    const reproduce = o.status === 'pass' ? undefined : o.reproduce;
    return buildResult(meta, { durationMs: o.durationMs }, { ...o, hint, reproduce });
  });
}

/** A protocol-level stage under `--no-protocol`. */
const PROTOCOL_NOT_REQUESTED = {
  status: 'skip',
  code: 'PROTOCOL_NOT_REQUESTED',
  summary: 'not run (--no-protocol)',
} as const;
