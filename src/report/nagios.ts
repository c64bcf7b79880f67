/**
 * `--format nagios`: the Nagios / Monitoring-Plugins output convention (field notes §9.4, §9.5;
 * https://www.monitoring-plugins.org/doc/guidelines.html): one status line `IOT-DOCTOR <STATE> - <summary> | <perfdata>`,
 * then the diagnosis as long output, one finding per line. Under this format alone the exit code is the plugin's:
 * 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 */
import { routesIn, type CheckResult, type Report, type RouteId } from '../model/index.js';

/** Nagios plugin states by exit code. */
export const NAGIOS_STATES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

/** A Nagios plugin exit code. */
export type NagiosCode = 0 | 1 | 2 | 3;

const BAD = new Set(['fail', 'error']);
const MAX_NAMED = 3;

/**
 * The plugin exit code of a report (field notes §9.5): a failed check (or, under `--strict`, a warning) is
 * 2 CRITICAL; a check that could not complete is 3 UNKNOWN; warnings alone are 1 WARNING; otherwise 0 OK.
 * A route blocked as the site profile expects is OK.
 */
export function nagiosExitCode(report: Report): NagiosCode {
  if (report.exitCode === 1) return 2;
  if (report.exitCode === 2) return 3;
  const warned =
    report.results.some((r) => r.status === 'warn') || report.diagnosis.some((f) => f.severity === 'warning');
  return warned ? 1 : 0;
}

/** The one line a usage or tool error gives under this format (state UNKNOWN, exit 3). */
export function nagiosUnknownLine(message: string): string {
  return `IOT-DOCTOR UNKNOWN - ${oneLine(message)}\n`;
}

function oneLine(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '/')
    .trim();
}

/** Perfdata label: no `'` or `=`, always quoted (field notes §9.4). */
function label(text: string): string {
  return `'${text.replace(/['=]/g, '_')}'`;
}

function secs(ms: number): string {
  return `${(Math.round(ms) / 1000).toFixed(3)}s`;
}

function routesOf(report: Report): RouteId[] {
  // Every route instance of the run (`mqtt-8883 via proxy`, `mqtt-443 IPv6`, the auth kinds), in matrix order.
  return routesIn(report.results);
}

function routeCells(report: Report, route: RouteId): CheckResult[] {
  return report.results.filter((r) => r.route === route && r.stage);
}

function routeOk(report: Report, route: RouteId): boolean {
  return routeCells(report, route).every((c) => c.status === 'pass' || c.status === 'warn');
}

function expectedBlocked(report: Report, route: RouteId): boolean {
  return routeCells(report, route).some((c) => c.code === 'EXPECTED_BLOCKED');
}

/** "mqtt-8883 failed at tcp (TCP_TIMEOUT)" for routes, "cert.validity CERT_EXPIRED" for the other checks. */
function describe(results: readonly CheckResult[], verb: string): string[] {
  const out: string[] = [];
  const routesSeen = new Set<string>();
  for (const r of results) {
    if (r.route && r.stage) {
      if (routesSeen.has(r.route)) continue;
      routesSeen.add(r.route);
      out.push(`${r.route} ${verb} at ${r.stage} (${r.code})`);
    } else {
      out.push(`${r.id} ${r.code}`);
    }
  }
  return out;
}

function named(items: readonly string[]): string {
  const shown = items.slice(0, MAX_NAMED).join(', ');
  return items.length > MAX_NAMED ? `${shown} and ${items.length - MAX_NAMED} more` : shown;
}

/** The text after `STATE - `: what is wrong (worst first), then how many routes pass. */
function summaryText(report: Report, code: NagiosCode): string {
  const routes = routesOf(report);
  const ok = routes.filter((r) => routeOk(report, r)).length;
  const blocked = routes.filter((r) => expectedBlocked(report, r)).length;
  const tally = routes.length
    ? `${ok} of ${routes.length} routes pass${blocked ? `, ${blocked} blocked as expected` : ''}`
    : `${report.summary.pass} checks pass`;
  const attempts = report.repeat
    ? ` over ${report.repeat.attempts} attempts (${report.repeat.failedAttempts} failed)`
    : '';
  let problems: string[] = [];
  if (code === 2) {
    const failed = report.results.filter((r) => r.status === 'fail');
    // Under --strict a warning alone makes the run fail: name the warnings then.
    problems = describe(failed.length ? failed : report.results.filter((r) => r.status === 'warn'), 'failed');
  }
  if (code === 3)
    problems = describe(
      report.results.filter((r) => r.status === 'error'),
      'could not complete',
    );
  if (code === 1)
    problems = describe(
      report.results.filter((r) => r.status === 'warn'),
      'warned',
    );
  if (code === 1 && problems.length === 0)
    problems = report.diagnosis.filter((f) => f.severity === 'warning').map((f) => f.code);
  return `${problems.length ? `${named(problems)}; ` : ''}${tally}${attempts}`;
}

/** Perfdata items: run time, routes passing, per-route time; under --repeat per-route failure share and stage p95. */
function perfdata(report: Report): string[] {
  const routes = routesOf(report);
  const items = [
    `${label('duration')}=${secs(report.durationMs)};;;0`,
    `${label('routes_ok')}=${routes.filter((r) => routeOk(report, r)).length};;;0;${routes.length}`,
  ];
  for (const route of routes) {
    const ran = routeCells(report, route).filter((c) => c.status !== 'skip');
    items.push(`${label(route)}=${secs(ran.reduce((sum, c) => sum + c.durationMs, 0))};;;0`);
  }
  for (const r of report.repeat?.routes ?? []) {
    items.push(`${label(`${r.route}_failed`)}=${Math.round(r.failureRatio * 1000) / 10}%;;;0;100`);
  }
  for (const s of report.repeat?.stages ?? []) {
    if (s.p95Ms !== undefined) items.push(`${label(`${s.route}_${s.stage}_p95`)}=${secs(s.p95Ms)};;;0`);
  }
  return items;
}

/**
 * The report in the Nagios plugin format: status line with perfdata after `|`, then one line per diagnosis finding.
 * Pure function of the report; the exit code to use with it is `nagiosExitCode(report)`.
 */
export function renderNagios(report: Report): string {
  const code = nagiosExitCode(report);
  const head = `IOT-DOCTOR ${NAGIOS_STATES[code]} - ${oneLine(summaryText(report, code))} | ${perfdata(report).join(' ')}`;
  const findings = report.diagnosis.map((f) => oneLine(`${f.code} (${f.severity}): ${f.title}`));
  return `${[head, ...findings].join('\n')}\n`;
}
