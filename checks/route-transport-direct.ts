/**
 * Transport `direct`: a TCP connection from this machine to the endpoint's address (after DNS and `--connect-to`).
 * It uses the default `dns` and `tcp` stages, so it replaces none.
 */
import type { Transport } from './route-stage.js';

/** The direct transport of the four default routes. */
export const directTransport: Transport = { id: 'direct', stages: {} };
