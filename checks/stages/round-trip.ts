/**
 * Stage `round-trip` (`route.<route>.round-trip`): a message makes the round trip. It is settled by the protocol
 * session (`protocol-<protocol>.ts`) that ran the `protocol` row over the same connection; this definition only
 * exists so the row has an entry in the stage registry (it decides nothing on its own).
 */
import type { StageDef } from '../route-stage.js';

/** The `round-trip` stage: no outcome of its own (a row without an outcome shows as skipped, "not run"). */
export const roundTripStage: StageDef = {
  id: 'round-trip',
  protocolLevel: true,
  run: async () => [],
};
