/**
 * `--format prometheus` and the body of `serve`'s `/probe`: a report as Prometheus metrics (field notes §9.1–9.3).
 * Names follow https://prometheus.io/docs/practices/naming/ : the `iot_doctor_` prefix, base units (seconds, ratios
 * 0..1, Unix seconds for timestamps), route/stage/check/code as label values. `probe_success` and
 * `probe_duration_seconds` repeat the verdict under blackbox_exporter's names so its dashboards and alerts work.
 * Labels never carry free text, addresses, client ids or anything from a credential file.
 */
import { STAGE_IDS, routesIn, type CheckResult, type Report, type RouteId } from '../model/index.js';
import { writeExposition, type MetricFamily, type Sample } from './exposition.js';

const FAILED = new Set(['fail', 'error']);

function bool(value: boolean): number {
  return value ? 1 : 0;
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

/** The matrix cells (route results), in route then stage order. */
function cells(report: Report): CheckResult[] {
  const out: CheckResult[] = [];
  for (const route of routesIn(report.results)) {
    for (const stage of STAGE_IDS) {
      const cell = report.results.find((r) => r.route === route && r.stage === stage);
      if (cell) out.push(cell);
    }
  }
  return out;
}

function routesOf(report: Report): RouteId[] {
  // Every route instance of the run (`mqtt-8883 via proxy`, `mqtt-443 IPv6`, the auth kinds), in matrix order.
  return routesIn(report.results);
}

/** A stage that ran: not skipped, or skipped only because a site profile expects its failure. */
function ran(cell: CheckResult): boolean {
  return cell.status !== 'skip' || cell.code === 'EXPECTED_BLOCKED';
}

function timestampSeconds(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

/** notAfter of the device certificate (cert.validity, else cert.identity) and of the earliest server certificate. */
function certificateExpiries(report: Report): Sample[] {
  const samples: Sample[] = [];
  const device = ['cert.validity', 'cert.identity']
    .map((id) => timestampSeconds(report.results.find((r) => r.id === id)?.evidence['notAfter']))
    .find((t) => t !== undefined);
  if (device !== undefined) samples.push({ labels: { certificate: 'device' }, value: device });
  const server = serverChainExpiries(report);
  if (server.length > 0) samples.push({ labels: { certificate: 'server' }, value: Math.min(...server) });
  return samples;
}

/** validTo of every certificate the endpoint presented on any route's TLS stage, Unix seconds. */
function serverChainExpiries(report: Report): number[] {
  const out: number[] = [];
  for (const r of report.results) {
    const chain = r.stage === 'tls' ? r.evidence['chain'] : undefined;
    if (!Array.isArray(chain)) continue;
    for (const c of chain) {
      const t = timestampSeconds((c as Record<string, unknown> | null)?.['validTo']);
      if (t !== undefined) out.push(t);
    }
  }
  return out;
}

/** Verdict, timing and build families (blackbox names first). */
function verdictFamilies(report: Report): MetricFamily[] {
  const success = bool(report.exitCode === 0);
  const duration = seconds(report.durationMs);
  const g = (name: string, help: string, samples: Sample[]): MetricFamily => ({ name, help, type: 'gauge', samples });
  return [
    g('probe_success', 'Whether the probe succeeded: nothing failed (blackbox_exporter name).', [{ value: success }]),
    g('probe_duration_seconds', 'How long the probe took, in seconds (blackbox_exporter name).', [{ value: duration }]),
    g('iot_doctor_probe_success', '1 when nothing failed (exit code 0), else 0.', [{ value: success }]),
    g('iot_doctor_probe_duration_seconds', 'Wall time of the whole run, in seconds.', [{ value: duration }]),
    g(
      'iot_doctor_exit_code',
      'Exit code of the run: 0 nothing failed, 1 a check failed, 2 a check could not complete.',
      [{ value: report.exitCode }],
    ),
    g(
      'iot_doctor_results',
      'Number of check results by status.',
      Object.entries(report.summary).map(([status, n]) => ({
        labels: { status },
        value: n,
      })),
    ),
    g('iot_doctor_build_info', 'The iot-doctor version that made the report; always 1.', [
      { labels: { version: report.tool.version }, value: 1 },
    ]),
  ];
}

/** Route and stage families: route_up, expected_blocked, stage_success, stage_duration_seconds. */
function routeFamilies(report: Report): MetricFamily[] {
  const matrix = cells(report);
  const routeUp = routesOf(report).map((route) => {
    const own = matrix.filter((c) => c.route === route);
    return { labels: { route }, value: bool(own.every((c) => c.status === 'pass' || c.status === 'warn')) };
  });
  const expectedBlocked = routesOf(report)
    .filter((route) => matrix.some((c) => c.route === route && c.code === 'EXPECTED_BLOCKED'))
    .map((route) => ({ labels: { route }, value: 1 }));
  const stageLabels = (c: CheckResult) => ({ route: c.route as string, stage: c.stage as string });
  return [
    {
      name: 'iot_doctor_route_up',
      type: 'gauge',
      help: 'Whether every stage of the route passed (1) or not (0).',
      samples: routeUp,
    },
    {
      name: 'iot_doctor_route_expected_blocked',
      type: 'gauge',
      help: 'Present (1) for a route the site profile expects blocked and that was blocked.',
      samples: expectedBlocked,
    },
    {
      name: 'iot_doctor_stage_success',
      type: 'gauge',
      help: 'Whether the stage passed (1) or failed, could not complete or was not reached (0).',
      samples: matrix.map((c) => ({ labels: stageLabels(c), value: bool(c.status === 'pass' || c.status === 'warn') })),
    },
    {
      name: 'iot_doctor_stage_duration_seconds',
      type: 'gauge',
      help: 'Time spent in one stage of one route, in seconds.',
      samples: matrix.filter(ran).map((c) => ({ labels: stageLabels(c), value: seconds(c.durationMs) })),
    },
  ];
}

/** The other checks, the diagnosis and the certificate expiries. */
function checkFamilies(report: Report): MetricFamily[] {
  const others = report.results.filter((r) => !(r.route && r.stage) && r.status !== 'skip');
  const findings = report.diagnosis.map((f) => ({ labels: { code: f.code, severity: f.severity }, value: 1 }));
  return [
    {
      name: 'iot_doctor_check_success',
      type: 'gauge',
      help: 'Whether a check outside the route matrix passed (1) or failed or could not complete (0); skipped checks are absent.',
      samples: others.map((r) => ({ labels: { check: r.id }, value: bool(!FAILED.has(r.status)) })),
    },
    {
      name: 'iot_doctor_diagnosis',
      type: 'gauge',
      help: 'One series per diagnosis finding, value 1.',
      samples: findings,
    },
    {
      name: 'iot_doctor_certificate_expiry_timestamp_seconds',
      type: 'gauge',
      help: 'When a certificate expires, Unix seconds: the device certificate, and the earliest of the server chain.',
      samples: certificateExpiries(report),
    },
    {
      name: 'probe_ssl_earliest_cert_expiry',
      type: 'gauge',
      help: 'Earliest expiry of the server chain presented by the endpoint, Unix seconds (blackbox_exporter name).',
      samples: serverChainExpiries(report).length ? [{ value: Math.min(...serverChainExpiries(report)) }] : [],
    },
  ];
}

/** `--repeat N`: attempts, per-stage duration summary (quantiles 0.5, 0.95 and 1 = max) and failure ratios. */
function repeatFamilies(report: Report): MetricFamily[] {
  const repeat = report.repeat;
  if (!repeat) return [];
  const summary: Sample[] = [];
  for (const s of repeat.stages) {
    if (s.p50Ms === undefined) continue;
    const labels = { route: s.route, stage: s.stage };
    summary.push(
      { labels: { ...labels, quantile: '0.5' }, value: seconds(s.p50Ms) },
      { labels: { ...labels, quantile: '0.95' }, value: seconds(s.p95Ms ?? s.p50Ms) },
      { labels: { ...labels, quantile: '1' }, value: seconds(s.maxMs ?? s.p50Ms) },
    );
  }
  return [
    {
      name: 'iot_doctor_probe_attempts',
      type: 'gauge',
      help: 'Number of attempts of a repeated run (--repeat).',
      samples: [{ value: repeat.attempts }],
    },
    {
      name: 'iot_doctor_probe_failed_attempts',
      type: 'gauge',
      help: 'Attempts of a repeated run in which a route failed.',
      samples: [{ value: repeat.failedAttempts }],
    },
    {
      name: 'iot_doctor_stage_attempt_duration_seconds',
      type: 'summary',
      help: 'Duration of one stage over the attempts that reached it, in seconds (quantile 1 is the maximum).',
      samples: summary,
    },
    {
      name: 'iot_doctor_stage_attempt_failure_ratio',
      type: 'gauge',
      help: 'Share (0..1) of the attempts reaching the stage in which it failed.',
      samples: repeat.stages.map((s) => ({ labels: { route: s.route, stage: s.stage }, value: s.failureRatio })),
    },
    {
      name: 'iot_doctor_route_attempt_failure_ratio',
      type: 'gauge',
      help: 'Share (0..1) of attempts in which the route failed.',
      samples: repeat.routes.map((r) => ({ labels: { route: r.route }, value: r.failureRatio })),
    },
  ];
}

/**
 * The report as Prometheus text exposition (version 0.0.4): HELP and TYPE lines, then the samples; ends in `\n`.
 * A pure function of the report, so `render report.json --format prometheus` gives the same text as the live run.
 */
export function renderPrometheus(report: Report): string {
  return writeExposition([
    ...verdictFamilies(report),
    ...routeFamilies(report),
    ...checkFamilies(report),
    ...repeatFamilies(report),
  ]);
}
