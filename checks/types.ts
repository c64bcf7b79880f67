import type { Check } from '../src/model/check.js';
import type { DeviceFiles } from '../src/probes/device-files.js';
import type { DnsOutcome } from '../src/probes/dns.js';
import type { RouteHub } from '../src/probes/hub.js';
import type { RunDeadline } from '../src/runner/deadline.js';
import type { Target } from '../src/target.js';

/** What every check of a run receives. Built once per run by `src/run.ts`. */
export interface CheckContext {
  target: Target;
  credentials: DeviceFiles;
  /** Resolves a name once per run; concurrent routes share the answer. */
  resolve(name: string): Promise<DnsOutcome>;
  now(): Date;
  /** Coordination between the concurrent routes (HTTPS round trip through an MQTT subscription). */
  hub: RouteHub;
  /** The run's one deadline: no step waits past it (`stepMs`). */
  deadline: RunDeadline;
}

export type DoctorCheck = Check<CheckContext>;
