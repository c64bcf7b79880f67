/**
 * The exporter's own metrics on `/metrics`, kept with prom-client (the standard Node Prometheus client) in a
 * registry of its own: probes run and their outcome, rejected requests, probe durations, probes in flight, the
 * configuration's reload state, and the process's memory, CPU time and start time. (prom-client's default Node
 * metrics are left out: some gauges there end in `_total`, which `promtool check metrics` rejects.) Label values are module names from the configuration
 * and fixed words, never request input (field notes §9.1: no high-cardinality labels).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { TOOL_VERSION } from '../version.js';

/** Why a request was answered without a probe. */
export type RejectReason = 'unknown_module' | 'bad_target' | 'busy' | 'not_found' | 'method';

/** Outcome of a probe that ran: success (nothing failed), failure, deadline (cut short), error (could not run). */
export type ProbeOutcome = 'success' | 'failure' | 'deadline' | 'error';

/** The exporter's registry and the instruments the server updates. */
export interface SelfMetrics {
  registry: Registry;
  probes: Counter<'module' | 'result'>;
  rejected: Counter<'reason'>;
  duration: Histogram<'module'>;
  inFlight: Gauge;
  waiting: Gauge;
  reloadOk: Gauge;
  reloadTime: Gauge;
  modules: Gauge;
}

/** process_* series as the Prometheus client libraries name them (start time, resident memory, CPU seconds). */
function processMetrics(registers: Registry[]): void {
  const startSeconds = Math.floor((Date.now() - process.uptime() * 1000) / 1000);
  new Gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since the Unix epoch, in seconds.',
    registers,
  }).set(startSeconds);
  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size, in bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Counter({
    name: 'process_cpu_seconds_total',
    help: 'User and system CPU time spent, in seconds.',
    registers,
    collect() {
      const { user, system } = process.cpuUsage();
      this.reset();
      this.inc((user + system) / 1e6);
    },
  });
}

/** Creates the registry with every instrument registered once (call once per server). */
export function createSelfMetrics(): SelfMetrics {
  const registry = new Registry();
  const registers = [registry];
  processMetrics(registers);
  new Gauge({
    name: 'iot_doctor_build_info',
    help: 'The iot-doctor version serving; always 1.',
    labelNames: ['version'],
    registers,
  }).set({ version: TOOL_VERSION }, 1);
  return {
    registry,
    probes: new Counter({
      name: 'iot_doctor_exporter_probes_total',
      help: 'Probes run, by module and result (success, failure, deadline, error).',
      labelNames: ['module', 'result'],
      registers,
    }),
    rejected: new Counter({
      name: 'iot_doctor_exporter_requests_rejected_total',
      help: 'Requests answered without a probe, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    duration: new Histogram({
      name: 'iot_doctor_exporter_probe_duration_seconds',
      help: 'Time to answer a probe, in seconds.',
      labelNames: ['module'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    inFlight: new Gauge({ name: 'iot_doctor_exporter_probes_in_flight', help: 'Probes running now.', registers }),
    waiting: new Gauge({
      name: 'iot_doctor_exporter_probes_waiting',
      help: 'Probes waiting for a free slot.',
      registers,
    }),
    reloadOk: new Gauge({
      name: 'iot_doctor_exporter_config_last_reload_successful',
      help: 'Whether the last configuration load succeeded (1) or not (0).',
      registers,
    }),
    reloadTime: new Gauge({
      name: 'iot_doctor_exporter_config_last_reload_success_timestamp_seconds',
      help: 'When the configuration was last loaded successfully, Unix seconds.',
      registers,
    }),
    modules: new Gauge({
      name: 'iot_doctor_exporter_modules',
      help: 'Modules in the loaded configuration.',
      registers,
    }),
  };
}
