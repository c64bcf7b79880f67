/**
 * The bench's arithmetic: the limit is the issue's own (round trips × RTT + bare node start-up), so the issue's
 * measured figures must come out of it as the issue states them.
 */
import { describe, expect, it } from 'vitest';
import {
  GOALS,
  ROUND_TRIP_COUNT,
  healthyLimitMs,
  largestStageShift,
  markdownTable,
  median,
  round,
} from '../bench/figures.js';

describe('bench figures', () => {
  it('the limit is 5 round trips × RTT + node -e 0, as issue 16 computes it', () => {
    expect(ROUND_TRIP_COUNT).toBe(5);
    // Issue 16: 100 ms RTT, node -e 0 = 50 ms → 0.55 s; 1.39 s wall = 2.53× the limit.
    expect(healthyLimitMs(100, 50)).toBe(550);
    expect(round(1390 / healthyLimitMs(100, 50), 2)).toBe(2.53);
    expect(1390 / healthyLimitMs(100, 50) <= GOALS.healthyVsLimit).toBe(false);
    expect(healthyLimitMs(104.4, 120, 3)).toBeCloseTo(433.2, 6);
  });

  it('median of odd and even counts, never of nothing', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/nothing/);
  });

  it('finds the stage whose median grew most between two sets of runs', () => {
    const base = [
      { 'mqtt-8883': { tcp: 100, tls: 120 }, 'https-443': { tcp: 101 } },
      { 'mqtt-8883': { tcp: 104, tls: 118 }, 'https-443': { tcp: 99 } },
      { 'mqtt-8883': { tcp: 102, tls: 119 }, 'https-443': { tcp: 100 } },
    ];
    const other = [
      { 'mqtt-8883': { tcp: 101, tls: 121 }, 'https-443': { tcp: 180 } },
      { 'mqtt-8883': { tcp: 103, tls: 119 }, 'https-443': { tcp: 170 } },
      { 'mqtt-8883': { tcp: 99, tls: 500 }, 'https-443': { tcp: 175 } },
    ];
    expect(largestStageShift(base, other)).toEqual({
      route: 'https-443',
      stage: 'tcp',
      baseMs: 100,
      otherMs: 175,
      shiftMs: 75,
    });
    expect(largestStageShift([], other)).toBeNull();
  });

  it('prints each figure with its goal and verdict', () => {
    const table = markdownTable([
      { name: 'A', value: 1.2, unit: 'x', goal: '<= 1.3x', met: true, line: '', detail: {} },
      { name: 'B', value: null, unit: 'ms', goal: '<= 100 ms', met: null, line: '', detail: {} },
      { name: 'C', value: 7045, unit: 'ms', goal: '<= 5500 ms', met: false, line: '', detail: {} },
      { name: 'D', value: 230, unit: 'ms', goal: '(bare node: 140 ms)', met: null, info: true, line: '', detail: {} },
    ]);
    expect(table.split('\n')).toEqual([
      '| Figure | Measured | Goal | Met |',
      '|---|---|---|---|',
      '| A | 1.2 x | <= 1.3x | ok |',
      '| B | — | <= 100 ms | not measured |',
      '| C | 7045 ms | <= 5500 ms | MISSED |',
      '| D | 230 ms | (bare node: 140 ms) | info |',
    ]);
  });
});
