/**
 * The contract between the route engine (checks/route-engine.ts) and the stages it runs: what a stage receives
 * (`RouteRun`, the state of one route's one connection), what it returns (`StageOutcome`s) and how it is declared
 * (`StageDef`, `Transport`). Types only: stages, transports and the engine all import this module, it imports none
 * of them.
 */
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Evidence, RouteSpec, StageId, Status, TransportId } from '../src/model/index.js';
import type { TlsSuccess } from '../src/probes/tls.js';
import type { RouteCode } from './route-codes.js';
import type { CheckContext } from './types.js';

/** What one stage saw. The engine turns it into the matrix cell `route.<route>.<stage>`. */
export interface StageOutcome {
  stage: StageId;
  status: Status;
  code: RouteCode;
  /** One line: what was seen. */
  summary: string;
  evidence?: Evidence;
  /** Milliseconds the stage took (0 for a verdict read from an earlier stage). */
  durationMs: number;
  /** The command that shows the same by hand; reported on non-pass cells only. */
  reproduce?: string;
  /** Overrides the hint of `ROUTE_HINTS[code]`. */
  hint?: string;
}

/** Where a route connects: the endpoint name and the kind's port, or what `--connect-to` says. */
export interface Destination {
  /** The name the route is for: SNI, certificate name check and HTTP `Host` (the endpoint, or the credentials host). */
  name: string;
  host: string;
  port: number;
  /** True when `--connect-to` gave an address (not only a port). */
  override: boolean;
}

/** The address a route uses, chosen by the dns stage. */
export interface RoutePeer {
  address: string;
  port: number;
  family?: 4 | 6;
}

/**
 * The state of one route while its stages run, in stage order. Each stage reads what the earlier ones set and sets
 * what it provides: dns → `peer`; tcp (or a transport's tunnel stage) → `stream`, `tcpMs`; tls → `tls`; a stage that
 * wraps the connection (e.g. a WebSocket upgrade) → `channel`.
 */
export interface RouteRun {
  readonly spec: RouteSpec;
  readonly ctx: CheckContext;
  /** Aborted when the runner gives up on the route check: stop waiting, the sockets are being destroyed. */
  readonly signal: AbortSignal;
  /** Mutable only by the dns stage when it discovers the route's host name (route-host.ts). */
  readonly dest: Destination;
  /** Outcomes so far, in order (read-only for stages: return new outcomes instead). */
  readonly outcomes: readonly StageOutcome[];
  peer?: RoutePeer;
  /** The byte stream to the endpoint before TLS (a TCP socket, or a proxy tunnel over one). */
  stream?: Socket;
  /** Milliseconds the TCP connect took: sizes waits of about one round trip. */
  tcpMs?: number;
  tls?: TlsSuccess;
  /** The stream the protocol stages speak over; defaults to the TLS socket. */
  channel?: Duplex;
  /** Destroy `resource` when the route is aborted (and, unless TLS took it over, when the route ends). */
  own(resource: { destroy(): void }): void;
  /**
   * Set by the client-auth stage when it leaves its verdict to the protocol stage (the server's first answer proves
   * the certificate was accepted); the protocol stage settles it (`settleClientAuth`).
   */
  clientAuthPending?: boolean;
  /**
   * Open a second connection the same way, running this route's stages before `client-auth` again (same transport,
   * same address); resolves with its TLS connection (the caller closes it) or, when a stage failed, without one.
   */
  reconnect?: () => Promise<{ tls?: TlsSuccess; outcomes: readonly StageOutcome[] }>;
  /** True on the second connection `reconnect` opens: its tcp stage dials afresh (no head start, head-start.ts). */
  reconnecting?: boolean;
}

/** One stage implementation. `run` returns the outcomes it decided (usually one; more when it settles later rows). */
export interface StageDef {
  id: StageId;
  /** A protocol-level stage: under `--no-protocol` it is not run and shows PROTOCOL_NOT_REQUESTED. */
  protocolLevel?: boolean;
  /** A `warn` outcome of this stage lets the next stages run (dns: a private address is a warning, not a stop). */
  continueOnWarn?: boolean;
  run(run: RouteRun): Promise<StageOutcome[]>;
}

/**
 * How a route's bytes reach the endpoint. A transport supplies or replaces stage implementations (`dns`, `tcp`, and
 * its own stages such as `proxy`); the route's stage list (`RouteSpec.stages`) says which rows exist and in what order.
 */
export interface Transport {
  id: TransportId;
  stages: Partial<Record<StageId, StageDef>>;
}
