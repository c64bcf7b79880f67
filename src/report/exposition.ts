/**
 * A small writer of the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/, field notes §9.2).
 *
 * Why not prom-client here: a report's exposition is a pure, synchronous function of the JSON report (`render`,
 * `--output` and `/probe` all call it), while prom-client's `Registry.metrics()` is asynchronous and its metrics are
 * mutable process state. prom-client serves the exporter's own `/metrics` instead (src/serve/self-metrics.ts).
 */

/** One sample: an optional name suffix (`_sum`, `_count`), its labels and its value. */
export interface Sample {
  suffix?: string;
  labels?: Readonly<Record<string, string>>;
  value: number;
}

/** A metric family: HELP and TYPE once, then its samples. */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'gauge' | 'counter' | 'summary' | 'untyped';
  samples: readonly Sample[];
}

/** Content-Type of the text format (field notes §9.2). */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** HELP text: backslash and newline escaped. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Label value: backslash, double quote and newline escaped. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Go's ParseFloat spellings of the special values; plain decimal or exponent notation otherwise. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return '';
  for (const [name] of entries) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`invalid Prometheus label name ${name}`);
  }
  return `{${entries.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

/**
 * Renders metric families as exposition text: `# HELP`, `# TYPE`, then one line per sample; every line ends in `\n`.
 * A family without samples is left out; a repeated series (same name and labels) keeps its first sample.
 * Throws on an invalid metric or label name (a programming error, never user input).
 */
export function writeExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (!METRIC_NAME.test(family.name)) throw new Error(`invalid Prometheus metric name ${family.name}`);
    if (family.samples.length === 0) continue;
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    const seen = new Set<string>();
    for (const sample of family.samples) {
      const series = `${family.name}${sample.suffix ?? ''}${formatLabels(sample.labels)}`;
      if (seen.has(series)) continue;
      seen.add(series);
      lines.push(`${series} ${formatValue(sample.value)}`);
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
