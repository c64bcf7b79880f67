/**
 * The device clock against the server's: AWS IoT's HTTPS responses carry a `date` header (1 s resolution). A device
 * whose clock is wrong sees valid certificates as expired or not yet valid, and its SigV4 requests are refused.
 */
import { routeKindOf, type CheckResult } from '../src/model/index.js';
import { buildResult, type Outcome } from '../src/model/result.js';
import { shq } from '../src/probes/shell.js';
import type { CheckContext, DoctorCheck } from './types.js';

/** Largest offset between the device and server clocks that still passes, in seconds. */
export const CLOCK_TOLERANCE_SECONDS = 120;
/**
 * The route checks (of the route kinds) whose HTTPS protocol results carry the server's `date` header. A run's
 * catalogue widens each to every instance of the kind (checks/index.ts `withInstanceNeeds`: `via proxy`, `IPv6`).
 */
export const HTTPS_ROUTE_CHECKS = ['route.https-8443', 'route.https-443'];

/** Every code clock.skew reports. */
export const CLOCK_SKEW_CODES = ['CLOCK_UNKNOWN', 'CLOCK_SKEW', 'CLOCK_OK'] as const;
export type ClockSkewCode = (typeof CLOCK_SKEW_CODES)[number];

/** The server's clock as an HTTPS answer showed it: its `date` header, when it arrived, the offset (s), the route. */
export interface ServerTime {
  serverDate: string;
  receivedAt: string;
  offsetSeconds: number;
  route: string;
}

/**
 * Server minus local clock (seconds, positive when this machine is behind), from the first HTTPS protocol result
 * whose evidence carries `serverDate` (RFC 9110 §6.6.1 `Date`, 1 s resolution) and `receivedAt`; undefined when none.
 */
export function serverTimeFrom(results: Iterable<readonly CheckResult[]>): ServerTime | undefined {
  for (const list of results) {
    for (const r of list) {
      const { serverDate, receivedAt } = r.evidence as { serverDate?: string; receivedAt?: string };
      if (r.stage !== 'protocol' || !serverDate || !receivedAt) continue;
      const server = Date.parse(serverDate);
      const local = Date.parse(receivedAt);
      if (Number.isNaN(server) || Number.isNaN(local)) continue;
      // The header is truncated to the second: the true server time is up to 1 s later.
      const offsetSeconds = Math.round((server + 500 - local) / 1000);
      return { serverDate, receivedAt, offsetSeconds, route: r.route ?? '' };
    }
  }
  return undefined;
}

function reproduce(ctx: CheckContext): string {
  const t = ctx.target;
  const flags = [`--cacert ${shq(t.caPath ?? 'AmazonRootCA1.pem')}`];
  if (t.certPath) flags.push(`--cert ${shq(t.certPath)}`);
  if (t.keyPath) flags.push(`--key ${shq(t.keyPath)}`);
  const url = `'https://${t.endpoint}:8443/topics/iot-doctor%2Fclock'`;
  return `curl -s -o /dev/null -D - ${flags.join(' ')} -X POST ${url} | grep -i '^date:'; date -u`;
}

function formatOffset(seconds: number): string {
  const abs = Math.abs(seconds);
  const text = abs >= 3600 ? `${(abs / 3600).toFixed(1)} h` : abs >= 120 ? `${Math.round(abs / 60)} min` : `${abs} s`;
  return `${text} ${seconds > 0 ? 'behind' : 'ahead of'} the server`;
}

const META = { id: 'clock.skew', title: `Device clock within ${CLOCK_TOLERANCE_SECONDS / 60} minutes of the server's` };

/**
 * Why the server clock is unknown, in words that are true of the run: `probed` are the HTTPS route checks that ran
 * (route ids without `route.`). None probed (`--routes`, a site profile such as `mqtt-only`) is not "no answer".
 */
export function clockUnknownReason(probed: readonly string[]): string {
  if (probed.length === 0) return 'no HTTPS route was probed in this run (only HTTPS answers carry the server clock)';
  return `no HTTPS route got an answer (probed: ${probed.join(', ')})`;
}

function skewOutcome(ctx: CheckContext, t: ServerTime | undefined, probed: readonly string[]): Outcome<ClockSkewCode> {
  if (!t) {
    const localTime = ctx.now().toISOString();
    return {
      status: 'skip',
      code: 'CLOCK_UNKNOWN',
      evidence: { localTime, httpsRoutes: [...probed] },
      summary:
        probed.length === 0
          ? `not checked: ${clockUnknownReason(probed)}; this machine's clock reads ${localTime}`
          : `${clockUnknownReason(probed)}, so the server clock could not be read`,
      ...(probed.length === 0
        ? {
            hint: "Add an HTTPS route (--routes https-8443 or https-443) to compare this machine's clock with AWS IoT's.",
          }
        : {}),
    };
  }
  const evidence = {
    offsetSeconds: t.offsetSeconds,
    serverDate: t.serverDate,
    localTime: t.receivedAt,
    route: t.route,
    toleranceSeconds: CLOCK_TOLERANCE_SECONDS,
  };
  if (Math.abs(t.offsetSeconds) > CLOCK_TOLERANCE_SECONDS) {
    return {
      status: 'warn',
      code: 'CLOCK_SKEW',
      evidence,
      reproduce: reproduce(ctx),
      summary: `this machine's clock is ${formatOffset(t.offsetSeconds)} (server says ${t.serverDate})`,
      hint:
        'Set the clock from NTP (UDP 123 must be allowed) or a reliable time source. A wrong clock makes valid ' +
        'certificates look expired or not yet valid, and breaks SigV4.',
    };
  }
  return {
    status: 'pass',
    code: 'CLOCK_OK',
    evidence,
    summary: t.offsetSeconds === 0 ? 'in step with the server' : `${formatOffset(t.offsetSeconds)}, within tolerance`,
  };
}

/**
 * The HTTPS route checks among a check's dependencies that ran, as route instance ids (`https-443`,
 * `https-8443 via proxy`): every dependency whose route kind is one of `HTTPS_ROUTE_CHECKS`.
 */
export function httpsRoutesProbed(deps: ReadonlyMap<string, unknown>): string[] {
  return [...deps.keys()]
    .filter((id) => id.startsWith('route.'))
    .map((id) => id.slice('route.'.length))
    .filter((route) => HTTPS_ROUTE_CHECKS.includes(`route.${routeKindOf(route)}`));
}

/**
 * clock.skew: this machine's clock against the `date` header of an AWS IoT HTTPS answer; warns beyond
 * `CLOCK_TOLERANCE_SECONDS`, skips (CLOCK_UNKNOWN) when no HTTPS route got an answer or none was probed (the
 * summary says which; evidence `httpsRoutes` lists the HTTPS routes probed).
 */
export const clockSkewCheck: DoctorCheck = {
  ...META,
  family: 'clock',
  needs: HTTPS_ROUTE_CHECKS,
  async run(ctx, deps): Promise<CheckResult[]> {
    const started = performance.now();
    return [buildResult(META, started, skewOutcome(ctx, serverTimeFrom(deps.values()), httpsRoutesProbed(deps)))];
  },
};
