/**
 * Issue 17 point 5: a deadline too short to tell a silent drop from a slow path never yields a certain "blocked"
 * verdict (TCP resends a lost SYN after 1 s: RFC 6298); a long enough deadline still does.
 */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import { allRoutes, fail, localPasses, only } from './diagnose-fixtures.js';

const timedOut = (timeoutMs: number) => ({ tcp: fail('TCP_TIMEOUT', { timeoutMs }) });

describe('blocked verdicts and the deadline', () => {
  it('every route timed out under a 1500 ms deadline: ALL_ROUTES_BLOCKED is only possible, and says why', () => {
    const t = timedOut(1500);
    const f = only(
      diagnose([...localPasses(), ...allRoutes({ 'mqtt-8883': t, 'mqtt-443': t, 'https-8443': t, 'https-443': t })]),
      'ALL_ROUTES_BLOCKED',
    );
    expect(f.confidence).toBe('possible');
    expect(f.explanation).toMatch(/deadline was only 1500 ms/);
    expect(f.remediation[0]).toMatch(/--timeout 5000/);
  });
  it('the same under a 5000 ms deadline is certain', () => {
    const t = timedOut(5000);
    const f = only(
      diagnose([...localPasses(), ...allRoutes({ 'mqtt-8883': t, 'mqtt-443': t, 'https-8443': t, 'https-443': t })]),
      'ALL_ROUTES_BLOCKED',
    );
    expect(f.confidence).toBe('certain');
    expect(f.explanation).not.toMatch(/deadline was only/);
  });
  it('PORT_BLOCKED by a timeout is not certain when the deadline is below 3 × the slowest connect measured', () => {
    const slow = { tcp: { status: 'pass' as const, code: 'TCP_OK', durationMs: 1400 } };
    const results = [...localPasses(), ...allRoutes({ 'mqtt-8883': timedOut(4000), 'mqtt-443': slow })];
    expect(only(diagnose(results), 'PORT_BLOCKED').confidence).toBe('possible');
    const fast = [...localPasses(), ...allRoutes({ 'mqtt-8883': timedOut(4000) })];
    expect(only(diagnose(fast), 'PORT_BLOCKED').confidence).toBe('certain');
  });
});
