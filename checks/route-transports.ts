/**
 * The transport registry: how a route's bytes reach the endpoint, by `RouteSpec.transport`. A new transport (an HTTP
 * CONNECT or SOCKS tunnel) is one file `checks/route-transport-<id>.ts` exporting a `Transport` whose `stages` supply
 * its own rows (e.g. `proxy`) or replace defaults (e.g. `dns` resolving the proxy), and one entry here.
 */
import type { TransportId } from '../src/model/index.js';
import { directTransport } from './route-transport-direct.js';
import { proxyTransport } from './route-transport-proxy.js';
import type { Transport } from './route-stage.js';

/** Registered transports by id. */
export const TRANSPORTS: Readonly<Record<TransportId, Transport>> = {
  direct: directTransport,
  proxy: proxyTransport,
};
