import type { TLSSocket } from 'node:tls';
import type { RouteSpec } from '../src/model/index.js';
import type { StageOutcome } from './route.js';
import type { CheckContext } from './types.js';

/** Protocol and round-trip stages over the route's own TLS socket. */
export async function runProtocolStages(
  _spec: RouteSpec,
  _socket: TLSSocket,
  _ctx: CheckContext,
  _peer: { address: string; port: number },
): Promise<StageOutcome[]> {
  return [];
}
