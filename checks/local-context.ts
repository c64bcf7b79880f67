import type { DeviceFiles } from '../src/probes/device-files.js';

/**
 * The part of the run context the local credential checks read. `CheckContext` (checks/types.ts) satisfies it, so
 * these checks run in a full run and, alone, in `iot-doctor cert`.
 */
export interface LocalCheckContext {
  credentials: DeviceFiles;
  target: { warnDays: number; endpoint?: string };
  now: () => Date;
}
