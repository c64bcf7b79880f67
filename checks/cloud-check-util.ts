/**
 * The shape of a cloud check: the run's API session, the common skip without credentials or region, the
 * certificate principal, and one deadline over all the AWS calls of a check.
 */
import type { CheckResult } from '../src/model/index.js';
import { buildResult, SKIP_CODES, type Outcome } from '../src/model/result.js';
import { iotApiFor, type CloudSession, type IotApi } from '../src/probes/iot-api.js';
import { withDeadline } from '../src/runner/deadline.js';
import type { Target } from '../src/target.js';
import { CLOUD_FAILURE_CODES, sessionFailureOutcome } from './cloud-failure-util.js';
import { principalFor, type Principal } from './cloud-principal-util.js';
import { familyOf } from './family-util.js';
import type { CheckContext, DoctorCheck } from './types.js';

/**
 * Codes every cloud check can report besides its own: AWS could not be asked (`CLOUD_FAILURE_CODES`, including the
 * overrun of `withinBudget`), or the certificate to look up is missing or blocked (`SKIP_CODES`).
 */
export const CLOUD_COMMON_CODES = [...CLOUD_FAILURE_CODES, SKIP_CODES.BLOCKED, SKIP_CODES.INPUT_MISSING] as const;

/** Id and title of a cloud check or of one of its results. */
export interface CloudMeta {
  id: string;
  title: string;
}

export type Started = { ok: true; api: IotApi; session: CloudSession } | { ok: false; outcome: Outcome };

/**
 * A single-result cloud check: a deadline over all its API calls, and the common skip (no credentials, no region)
 * before `body` runs with the run's API client and session.
 */
export function cloudCheck(
  meta: CloudMeta,
  body: (ctx: CheckContext, started: number, cloud: Extract<Started, { ok: true }>) => Promise<CheckResult[]>,
): DoctorCheck {
  return {
    ...meta,
    family: familyOf(meta.id),
    run(ctx) {
      const started = performance.now();
      return withinBudget(ctx, [meta], started, async () => {
        const c = await startCloud(ctx);
        // The shared session (SDK load, credentials) is cloud.credentials' work, awaited by every cloud check at
        // once: this check's own duration starts when the session is ready.
        const own = performance.now();
        if (!c.ok) return [buildResult(meta, own, c.outcome)];
        return body(ctx, own, c);
      });
    },
  };
}

/** A cloud check about the certificate's principal: also skips (with the reason) when the certificate is unknown. */
export function principalCheck(
  meta: CloudMeta,
  body: (
    ctx: CheckContext,
    started: number,
    cloud: Extract<Started, { ok: true }>,
    principal: Principal,
  ) => Promise<CheckResult[]>,
): DoctorCheck {
  return cloudCheck(meta, async (ctx, started, c) => {
    const p = await principalFor(ctx, c.api, c.session);
    if (!p.ok) return [buildResult(meta, started, p.outcome)];
    return body(ctx, started, c, p.value);
  });
}

/** The run's API and session, or the skip every cloud check reports when there are no credentials / no region. */
export async function startCloud(ctx: CheckContext): Promise<Started> {
  const api = iotApiFor(ctx);
  const s = await api.session();
  if (!s.ok) return { ok: false, outcome: sessionFailureOutcome(s, ctx.target, false) };
  return { ok: true, api, session: s.value };
}

/** A date as ISO 8601 UTC without zero milliseconds (`2026-01-31T12:00:00Z`); undefined stays undefined. */
export function iso(d: Date | undefined): string | undefined {
  return d ? d.toISOString().replace('.000Z', 'Z') : undefined;
}

/**
 * The most a cloud check may take: a slow API answering every call just before its deadline still ends here with a
 * warning, well inside the runner's guard (which would turn the check into an `error`).
 */
export function budgetMs(target: Target): number {
  return target.timeoutMs * 6;
}

/**
 * Runs `work` (all the AWS calls of one check) under `budgetMs` (6 × --timeout, in ms), counted from when the run's API
 * session is open (its credential lookup has its own --timeout deadline). On overrun, one
 * `CLOUD_API_UNREACHABLE` warning per entry of `metas` instead; never throws by itself.
 */
export async function withinBudget(
  ctx: CheckContext,
  metas: CloudMeta[],
  started: number,
  work: () => Promise<CheckResult[]>,
): Promise<CheckResult[]> {
  // The session (SDK, credential lookup) is bounded by its own --timeout and shared by every cloud check: the budget
  // starts once it is open, so a lookup that timed out makes each check skip (pointing at cloud.credentials) rather
  // than warn about API calls that never started.
  await iotApiFor(ctx).session();
  const own = budgetMs(ctx.target);
  // The run's one deadline (--timeout) bounds the cloud checks too: they never keep the run waiting past it.
  const limit = Math.min(own, ctx.deadline.remainingMs());
  const why = limit < own ? ` (what remained of the run's ${ctx.deadline.totalMs} ms deadline)` : '';
  return withDeadline(work(), limit, {
    onTimeout: () =>
      metas.map((m) =>
        buildResult(m, started, {
          status: 'warn',
          code: 'CLOUD_API_UNREACHABLE',
          summary: `the AWS IoT API calls of this check did not finish within ${limit} ms${why}`,
          evidence: { budgetMs: limit, timeoutMs: ctx.target.timeoutMs },
          hint: 'The AWS IoT API answers very slowly from here: check the network and proxy, or raise --timeout.',
        }),
      ),
  });
}
