/** The family of a check, read from its id. */
import { CHECK_FAMILIES, type CheckFamily } from '../src/model/check.js';

/**
 * The part of a check id before the first dot: `files.cert` → `files`, `ca.verifies-endpoint` → `ca`,
 * `route.mqtt-8883` → `route`. Throws when that prefix is not one of `CHECK_FAMILIES`, so a misspelt id fails
 * when its module loads.
 */
export function familyOf(id: string): CheckFamily {
  const prefix = id.split('.')[0] ?? '';
  if (!(CHECK_FAMILIES as readonly string[]).includes(prefix)) throw new Error(`check id ${id} has no known family`);
  return prefix as CheckFamily;
}
