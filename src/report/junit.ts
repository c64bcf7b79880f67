/**
 * JUnit XML for CI: one testsuite per route, `local` for the credential, CA and clock checks, `cloud` for the AWS
 * IoT API checks, and `diagnosis` with one testcase per finding. Failures carry the code, summary, hint and the
 * reproduce command. A pure function of the report.
 */
import { pathFacts } from './paths.js';
import { routeSpecOf, routesIn, type CheckResult, type Finding, type Report } from '../model/index.js';
import { repeatJunitCases } from './repeat-text.js';

/** Characters XML 1.0 cannot carry at all (controls other than tab, newline, carriage return; lone surrogates). */
const INVALID_XML =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

function clean(text: string): string {
  return text.replace(ANSI, '').replace(INVALID_XML, '\uFFFD');
}

/** Escape for element text. */
export function xmlText(text: string): string {
  return clean(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escape for a double-quoted attribute; newlines and tabs survive as character references. */
export function xmlAttr(text: string): string {
  return xmlText(text)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

interface Case {
  name: string;
  classname: string;
  timeMs: number;
  kind: 'pass' | 'failure' | 'error' | 'skipped';
  type?: string;
  message?: string;
  body?: string;
  out?: string;
}

interface Suite {
  name: string;
  properties: [string, string][];
  cases: Case[];
}

function resultBody(r: CheckResult): string {
  const lines = [`${r.code}: ${r.summary}`];
  if (r.hint) lines.push(`hint: ${r.hint}`);
  if (r.reproduce) lines.push(`reproduce: ${r.reproduce}`);
  lines.push(`check: ${r.id}`);
  return lines.join('\n');
}

function resultCase(r: CheckResult, classname: string, name: string, warnFails: boolean): Case {
  const base = { name, classname, timeMs: r.durationMs };
  switch (r.status) {
    case 'pass':
      return { ...base, kind: 'pass' };
    case 'skip':
      return { ...base, kind: 'skipped', message: `${r.code}: ${r.summary}` };
    case 'error':
      return { ...base, kind: 'error', type: r.code, message: `${r.code}: ${r.summary}`, body: resultBody(r) };
    case 'fail':
      return { ...base, kind: 'failure', type: r.code, message: `${r.code}: ${r.summary}`, body: resultBody(r) };
    case 'warn':
      return warnFails
        ? {
            ...base,
            kind: 'failure',
            type: r.code,
            message: `warning (strict) ${r.code}: ${r.summary}`,
            body: resultBody(r),
          }
        : { ...base, kind: 'pass', out: `WARNING ${resultBody(r)}` };
  }
}

function findingBody(f: Finding): string {
  const lines = [f.explanation];
  if (f.candidates?.length) {
    lines.push('', 'Possible causes:');
    for (const c of f.candidates) lines.push(`- ${c.title} (${c.code}); told apart by ${c.decidedBy}`);
  }
  if (f.ruledOut?.length) {
    lines.push('', 'Ruled out:');
    for (const r of f.ruledOut) lines.push(`- ${r.title} (${r.code}): ${r.ruledOutBy}`);
  }
  if (f.remediation.length) {
    lines.push('', 'What to do:');
    f.remediation.forEach((s, i) => lines.push(`${i + 1}) ${s}`));
  }
  if (f.evidence.length) lines.push('', `Evidence: ${f.evidence.join(', ')}`);
  return lines.join('\n');
}

function findingCase(f: Finding): Case {
  const base = { name: `${f.code}: ${f.title}`, classname: 'iot-doctor.diagnosis', timeMs: 0 };
  if (f.severity === 'critical' || f.severity === 'error') {
    return {
      ...base,
      kind: 'failure',
      type: f.code,
      message: `${f.code} (${f.severity}, ${f.confidence}): ${f.title}`,
      body: findingBody(f),
    };
  }
  return { ...base, kind: 'pass', out: `${f.code} (${f.severity}, ${f.confidence})\n${findingBody(f)}` };
}

function renderCase(c: Case): string {
  const attrs = `name="${xmlAttr(c.name)}" classname="${xmlAttr(c.classname)}" time="${seconds(c.timeMs)}"`;
  const inner: string[] = [];
  if (c.kind === 'failure' || c.kind === 'error') {
    inner.push(
      `      <${c.kind} type="${xmlAttr(c.type ?? '')}" message="${xmlAttr(c.message ?? '')}">${xmlText(c.body ?? '')}</${c.kind}>`,
    );
  } else if (c.kind === 'skipped') {
    inner.push(`      <skipped message="${xmlAttr(c.message ?? '')}"/>`);
  }
  if (c.out) inner.push(`      <system-out>${xmlText(c.out)}</system-out>`);
  return inner.length === 0
    ? `    <testcase ${attrs}/>`
    : `    <testcase ${attrs}>\n${inner.join('\n')}\n    </testcase>`;
}

function counts(cases: readonly Case[]): {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  timeMs: number;
} {
  return {
    tests: cases.length,
    failures: cases.filter((c) => c.kind === 'failure').length,
    errors: cases.filter((c) => c.kind === 'error').length,
    skipped: cases.filter((c) => c.kind === 'skipped').length,
    timeMs: cases.reduce((t, c) => t + c.timeMs, 0),
  };
}

/**
 * One <testsuite>. Its time is the sum of its cases' times, at most the run's wall time `wallMs`: the checks of a suite
 * run concurrently, so their durations overlap and the sum alone can exceed the whole run.
 */
function renderSuite(s: Suite, id: number, timestamp: string, wallMs: number): string {
  const counted = counts(s.cases);
  const n = { ...counted, timeMs: Math.min(counted.timeMs, wallMs) };
  const head = `  <testsuite name="${xmlAttr(s.name)}" tests="${n.tests}" failures="${n.failures}" errors="${n.errors}" skipped="${n.skipped}" time="${seconds(n.timeMs)}" timestamp="${xmlAttr(timestamp)}" id="${id}" package="iot-doctor">`;
  const props = s.properties.length
    ? [
        `    <properties>`,
        ...s.properties.map(([k, v]) => `      <property name="${xmlAttr(k)}" value="${xmlAttr(v)}"/>`),
        `    </properties>`,
      ]
    : [];
  return [head, ...props, ...s.cases.map(renderCase), '  </testsuite>'].join('\n');
}

/** Seconds-precision ISO time without zone, as JUnit consumers expect for `timestamp`. */
function junitTimestamp(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace(/\.\d+Z$/, '');
}

/** The report as JUnit XML: a suite per route (one case per stage) and suites for the other checks. */
export function renderJunit(report: Report): string {
  // Under --strict a warning fails the run: the report shows it as exit 1 with no failing result.
  const warnFails = report.exitCode === 1 && !report.results.some((r) => r.status === 'fail');
  const target = report.target;
  const common: [string, string][] = [
    ['endpoint', target.endpoint],
    ...(target.clientId ? ([['clientId', target.clientId]] as [string, string][]) : []),
    ...(target.region ? ([['region', target.region]] as [string, string][]) : []),
    ...pathFacts(target).map(([k, v]): [string, string] => [
      k.toLowerCase().replace(/ (\w)/g, (_m, c: string) => c.toUpperCase()),
      v,
    ]),
    ['tool', `${report.tool.name} ${report.tool.version}`],
  ];
  const suites: Suite[] = [];
  const routes = routesIn(report.results);
  for (const route of routes) {
    const spec = routeSpecOf(route)!;
    suites.push({
      name: `route ${route}`,
      properties: [...common, ['route', spec.title], ['port', String(spec.port)], ['alpn', spec.alpn ?? 'none']],
      cases: report.results
        .filter((r) => r.route === route)
        .map((r) => resultCase(r, `iot-doctor.route.${route}`, `${r.stage ?? r.id}: ${r.title}`, warnFails)),
    });
  }
  const local = report.results.filter((r) => !r.route && !r.id.startsWith('cloud.'));
  if (local.length) {
    suites.push({
      name: 'local',
      properties: common,
      cases: local.map((r) => resultCase(r, `iot-doctor.${r.id.split(/[.:]/)[0]}`, `${r.id}: ${r.title}`, warnFails)),
    });
  }
  const cloud = report.results.filter((r) => !r.route && r.id.startsWith('cloud.'));
  if (cloud.length) {
    suites.push({
      name: 'cloud',
      properties: common,
      cases: cloud.map((r) => resultCase(r, 'iot-doctor.cloud', `${r.id}: ${r.title}`, warnFails)),
    });
  }
  if (report.repeat) suites.push({ name: 'repeat', properties: common, cases: repeatJunitCases(report.repeat) });
  if (report.diagnosis.length) {
    suites.push({ name: 'diagnosis', properties: common, cases: report.diagnosis.map(findingCase) });
  }
  const all = suites.flatMap((s) => s.cases);
  const n = counts(all);
  const timestamp = junitTimestamp(report.startedAt);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlAttr(`iot-doctor ${target.endpoint}`)}" tests="${n.tests}" failures="${n.failures}" errors="${n.errors}" skipped="${n.skipped}" time="${seconds(report.durationMs)}">`,
    ...suites.map((s, i) => renderSuite(s, i, timestamp, report.durationMs)),
    '</testsuites>',
    '',
  ].join('\n');
}
