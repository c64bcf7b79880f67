/**
 * The exporter's probe deadline from Prometheus's X-Prometheus-Scrape-Timeout-Seconds header (field notes §9.3):
 * minus the configured offset, whole milliseconds, never beyond blackbox_exporter's 120 s default.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEADLINE_SECONDS, probeDeadlineMs } from '../../src/serve/server.js';

describe('probeDeadlineMs', () => {
  it('takes the header minus the offset, in whole milliseconds', () => {
    expect(probeDeadlineMs('10', 0.5)).toBe(9500);
    expect(probeDeadlineMs('0.3337', 0)).toBe(334);
  });
  it('keeps the whole timeout when the offset would leave nothing', () => {
    expect(probeDeadlineMs('0.3', 0.5)).toBe(300);
  });
  it('is 120 s without the header, and never more with one (1e9 s would overflow the timers)', () => {
    expect(DEFAULT_DEADLINE_SECONDS).toBe(120);
    expect(probeDeadlineMs(undefined, 0.5)).toBe(120_000);
    expect(probeDeadlineMs('1e9', 0.5)).toBe(120_000);
    expect(probeDeadlineMs(['300', '5'], 0)).toBe(120_000);
  });
  it('refuses what is not a positive number', () => {
    for (const bad of ['0', '-1', 'abc', '', 'Infinity', 'NaN']) expect(probeDeadlineMs(bad, 0.5), bad).toBeUndefined();
  });
});
