/**
 * The arithmetic of `npm run bench`, kept apart from the test bed so it can be checked on its own: the physical limit
 * of a healthy check, the goals of issue 16 and how a measured figure is held against its goal.
 *
 * The limit is what the issue defines and what the bench measures in the same run: the protocol's round trips on the
 * slowest route × the round trip measured on the link, plus node's own start-up (`node -e 0`) measured the same way as
 * the check itself is started (same namespace, same wrapper).
 */

/**
 * Round trips of the slowest route of a healthy full check, in order (MQTT 3.1.1 over TLS 1.3 on 8883 or 443):
 * TCP (SYN → SYN-ACK), TLS 1.3 with a client certificate (ClientHello → server Finished; the client's Certificate,
 * CertificateVerify and Finished go with the first application data), CONNECT → CONNACK, SUBSCRIBE → SUBACK,
 * PUBLISH QoS 1 → PUBACK with the message delivered back to the subscription. The HTTPS routes finish within the same
 * five: their POST goes out once the MQTT subscription exists and its message arrives with the MQTT route's own.
 */
export const ROUND_TRIPS = {
  tcp: 1,
  tls13WithClientCert: 1,
  connectConnack: 1,
  subscribeSuback: 1,
  publishPubackWithDelivery: 1,
} as const;

/** Sum of `ROUND_TRIPS`: 5. */
export const ROUND_TRIP_COUNT = Object.values(ROUND_TRIPS).reduce((a, b) => a + b, 0);

/** The goals of issue 16, as the bench checks them. */
export const GOALS = {
  /** healthy wall time ≤ 1.3 × limit */
  healthyVsLimit: 1.3,
  /** manual sequence ≥ 4 × the healthy wall time */
  manualSpeedup: 4,
  /** `--help` ≤ 2 × bare `node -e 0` */
  helpVsNode: 2,
  /**
   * first SYN ≤ 100 ms of our own: after the first SYN of bare node (`node -e "require('net').connect(…)"`) started
   * the same way in the same run (node alone needs more than that on a busy 2-core machine before any user code runs)
   */
  firstSynMs: 100,
  /** AWS credentials present: wall time ≤ healthy + 1 RTT */
  cloudExtraRtt: 1,
  /**
   * AWS credentials present: no stage's median moves by more than this share of the RTT (the issue's "do not distort";
   * a quarter of a round trip is well above this machine's run-to-run noise and well below a blocked event loop).
   */
  cloudStageShiftRtt: 0.25,
  /** blocked port: total ≤ timeout + 500 ms */
  blockedExtraMs: 500,
  /** peak RSS of a full run ≤ 100 MB */
  peakRssMb: 100,
} as const;

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (!values.length) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `n` rounded to `digits` decimals. */
export function round(n: number, digits = 0): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

/** The physical limit of a healthy full check, ms: round trips × measured RTT + bare node start-up. */
export function healthyLimitMs(rttMs: number, nodeStartupMs: number, roundTrips = ROUND_TRIP_COUNT): number {
  return roundTrips * rttMs + nodeStartupMs;
}

/** One figure of the bench: what was measured, the goal beside it, and whether it is met (null: not measured). */
export interface Figure {
  name: string;
  /** The measured figure in `unit` (a ratio, ms or MB). */
  value: number | null;
  unit: string;
  /** The goal in words, e.g. "<= 1.3x". */
  goal: string;
  /** null: not measured, or a figure shown for information (`info`), without a goal of its own. */
  met: boolean | null;
  /** Shown for information beside a figure that has the goal (e.g. the first SYN from the spawn). */
  info?: boolean;
  /** One line for humans: the figure, how it was computed, the goal. */
  line: string;
  detail: Record<string, unknown>;
}

/** "ok" / "MISSED" / "not measured" for a figure, "info" for one shown without a goal of its own. */
export function verdict(f: Pick<Figure, 'met' | 'info'>): string {
  if (f.info) return 'info';
  return f.met === null ? 'not measured' : f.met ? 'ok' : 'MISSED';
}

/** The figures as a Markdown table (Figure | Measured | Goal | Met), ready for the README. */
export function markdownTable(figures: readonly Figure[]): string {
  const rows = figures.map(
    (f) => `| ${f.name} | ${f.value === null ? '—' : `${f.value} ${f.unit}`.trim()} | ${f.goal} | ${verdict(f)} |`,
  );
  return ['| Figure | Measured | Goal | Met |', '|---|---|---|---|', ...rows].join('\n');
}

/** Durations per stage id, summed per route: `{ 'mqtt-8883': { tcp: 101, tls: 130, … } }`. */
export function stageTimes(
  results: readonly { route?: string | null; stage?: string | null; durationMs: number }[],
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const r of results) {
    if (!r.route || !r.stage) continue;
    (out[r.route] ??= {})[r.stage] = r.durationMs;
  }
  return out;
}

/**
 * The largest increase of a stage's median between two sets of runs (e.g. without and with AWS credentials), over
 * every route and stage present in both: `{ route, stage, baseMs, otherMs, shiftMs }` (shiftMs = other − base; the
 * stage that grew most, or shrank least when none grew).
 */
export function largestStageShift(
  base: readonly Record<string, Record<string, number>>[],
  other: readonly Record<string, Record<string, number>>[],
): { route: string; stage: string; baseMs: number; otherMs: number; shiftMs: number } | null {
  let worst: { route: string; stage: string; baseMs: number; otherMs: number; shiftMs: number } | null = null;
  const routes = new Set(base.flatMap((b) => Object.keys(b)));
  for (const route of routes) {
    const stages = new Set(base.flatMap((b) => Object.keys(b[route] ?? {})));
    for (const stage of stages) {
      const a = base.map((b) => b[route]?.[stage]).filter((v): v is number => v !== undefined);
      const b = other.map((o) => o[route]?.[stage]).filter((v): v is number => v !== undefined);
      if (!a.length || !b.length) continue;
      const baseMs = median(a);
      const otherMs = median(b);
      const shiftMs = otherMs - baseMs;
      if (!worst || shiftMs > worst.shiftMs) worst = { route, stage, baseMs, otherMs, shiftMs };
    }
  }
  return worst;
}
