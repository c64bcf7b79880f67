import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  attemptRepeat,
  attemptTarget,
  nearestRank,
  parseRepeat,
  representativeResults,
  summarizeAttempts,
} from '../../src/repeat.js';
import { parseClientId, type Target } from '../../src/target.js';
import { allRoutes, fail, localPasses, route } from './diagnose-fixtures.js';

describe('--repeat statistics', () => {
  it('nearest-rank percentiles', () => {
    const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(nearestRank(v, 50)).toBe(5);
    expect(nearestRank(v, 95)).toBe(10);
    expect(nearestRank(v, 90)).toBe(9);
    expect(nearestRank([7], 95)).toBe(7);
    expect(nearestRank([], 50)).toBeUndefined();
  });

  it('per stage: attempts that reached it, failures among them, p50/p95/max; per route: failed attempts', () => {
    const ok = allRoutes();
    const tcpFail = allRoutes({ 'https-443': { tcp: fail('TCP_TIMEOUT', {}, { durationMs: 3000 }) } });
    const tlsSlow = allRoutes({ 'https-443': { tls: { durationMs: 900 } } });
    const s = summarizeAttempts(
      [ok, tcpFail, tlsSlow, ok].map((results, i) => ({ results, durationMs: 100 + i })),
      500,
    );
    expect(s.attempts).toBe(4);
    expect(s.failedAttempts).toBe(1);
    expect(s.attemptDurationsMs).toEqual([100, 101, 102, 103]);
    expect(s.routes.find((r) => r.route === 'https-443')).toEqual({
      route: 'https-443',
      attempts: 4,
      failed: 1,
      failureRatio: 0.25,
    });
    expect(s.routes.find((r) => r.route === 'mqtt-443')).toEqual({
      route: 'mqtt-443',
      attempts: 4,
      failed: 0,
      failureRatio: 0,
    });
    const tcp = s.stages.find((x) => x.route === 'https-443' && x.stage === 'tcp')!;
    expect(tcp).toEqual({
      route: 'https-443',
      stage: 'tcp',
      attempts: 4,
      failed: 1,
      failureRatio: 0.25,
      p50Ms: 10,
      p95Ms: 3000,
      maxMs: 3000,
    });
    // tls was not reached in the attempt where tcp failed.
    const tls = s.stages.find((x) => x.route === 'https-443' && x.stage === 'tls')!;
    expect(tls).toEqual({
      route: 'https-443',
      stage: 'tls',
      attempts: 3,
      failed: 0,
      failureRatio: 0,
      p50Ms: 10,
      p95Ms: 900,
      maxMs: 900,
    });
    expect(s.stages).toHaveLength(28);
  });

  it('a stage never reached has no durations', () => {
    const blocked = allRoutes({ 'mqtt-8883': { tcp: fail('TCP_REFUSED') } });
    const s = summarizeAttempts(
      [blocked, blocked].map((results) => ({ results, durationMs: 1 })),
      0,
    );
    const tls = s.stages.find((x) => x.route === 'mqtt-8883' && x.stage === 'tls')!;
    expect(tls).toEqual({ route: 'mqtt-8883', stage: 'tls', attempts: 0, failed: 0, failureRatio: 0 });
  });

  it('representative results: per route its first failed attempt, else the last; other checks from the first', () => {
    const first = [...localPasses(), ...allRoutes({ 'mqtt-443': { tls: { durationMs: 1 } } })];
    const second = allRoutes({ 'https-8443': { tcp: fail('TCP_TIMEOUT') }, 'mqtt-443': { tls: { durationMs: 2 } } });
    const third = allRoutes({ 'https-8443': { tcp: fail('TCP_REFUSED') }, 'mqtt-443': { tls: { durationMs: 3 } } });
    const picked = representativeResults([first, second, third].map((results) => ({ results, durationMs: 1 })));
    expect(picked.map((r) => r.id)).toEqual(first.map((r) => r.id));
    expect(picked.find((r) => r.id === 'route.https-8443.tcp')!.code).toBe('TCP_TIMEOUT');
    expect(picked.find((r) => r.id === 'route.mqtt-443.tls')!.durationMs).toBe(3);
    expect(picked.find((r) => r.id === 'files.cert')).toBe(first[0]);
  });

  it('parses --repeat and --interval with one clear error each', () => {
    expect(parseRepeat(undefined, undefined)).toBeUndefined();
    expect(parseRepeat(1, undefined)).toBeUndefined();
    expect(parseRepeat(5, undefined)).toEqual({ count: 5, intervalMs: 1000 });
    expect(parseRepeat(3, 0)).toEqual({ count: 3, intervalMs: 0 });
    expect(() => parseRepeat(0, undefined)).toThrow(UsageError);
    expect(() => parseRepeat(2.5, undefined)).toThrow(/--repeat must be a whole number 1..1000, got 2.5/);
    expect(() => parseRepeat(1001, undefined)).toThrow(UsageError);
    expect(() => parseRepeat(3, -1)).toThrow(/--interval must be 0..3600000 ms, got -1/);
    expect(() => parseRepeat(undefined, 200)).toThrow(/--interval needs --repeat/);
  });
});

describe('--repeat and the 1 CONNECT per second per client id limit (facts §3.1)', () => {
  const target = (clientId: string | undefined, routes: string[]) => {
    const { clientId: id, fromUser } = parseClientId(clientId);
    return { clientId: id, clientIdFromUser: fromUser, protocol: true, routes } as unknown as Target;
  };

  it("renews the probe's own client id for every attempt, and keeps the user's", () => {
    const own = target(undefined, ['mqtt-8883']);
    const next = attemptTarget(own);
    expect(next.clientId).not.toBe(own.clientId);
    expect(next.clientId).toMatch(/^iot-doctor-/);
    const user = target('thing-42', ['mqtt-8883']);
    expect(attemptTarget(user).clientId).toBe('thing-42');
  });

  it("spaces attempts by at least 1 s only for a user's client id on an MQTT route", () => {
    const fast = { count: 3, intervalMs: 100 };
    expect(attemptRepeat(fast, target('thing-42', ['mqtt-8883'])).intervalMs).toBe(1000);
    expect(attemptRepeat(fast, target('thing-42', ['https-8443'])).intervalMs).toBe(100);
    expect(attemptRepeat(fast, target(undefined, ['mqtt-8883'])).intervalMs).toBe(100);
    expect(attemptRepeat({ count: 2, intervalMs: 2500 }, target('thing-42', ['mqtt-443'])).intervalMs).toBe(2500);
  });
});

describe('repeat statistics over route instances', () => {
  it('counts the instances of a run (via proxy), and reports their first failed attempt', () => {
    const proxied = 'mqtt-8883 via proxy';
    const ok = route(proxied, {});
    const failed = route(proxied, { tcp: fail('TCP_TIMEOUT', {}, { durationMs: 3000 }) });
    const s = summarizeAttempts(
      [ok, failed, ok].map((results, i) => ({ results, durationMs: 100 + i })),
      0,
    );
    expect(s.routes).toEqual([{ route: proxied, attempts: 3, failed: 1, failureRatio: 1 / 3 }]);
    expect(s.failedAttempts).toBe(1);
    const picked = representativeResults([ok, failed, ok].map((results) => ({ results, durationMs: 1 })));
    expect(picked.find((r) => r.id === `route.${proxied}.tcp`)).toMatchObject({ code: 'TCP_TIMEOUT' });
  });
});
