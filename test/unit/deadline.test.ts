/** The one deadline helper: value, timeout, abort, rejection, and that it aborts what it cut off. */
import { describe, expect, it } from 'vitest';
import { DeadlineError, withDeadline } from '../../src/runner/deadline.js';

const after = <T>(ms: number, value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms));

describe('withDeadline', () => {
  it('returns the value of work that settles first, and leaves the controller alone', async () => {
    const controller = new AbortController();
    expect(await withDeadline(after(10, 'done'), 1000, { controller, onTimeout: () => 'late' })).toBe('done');
    expect(controller.signal.aborted).toBe(false);
  });

  it('returns onTimeout() when the deadline passes first, and aborts the controller with a DeadlineError', async () => {
    const controller = new AbortController();
    const started = performance.now();
    expect(await withDeadline(after(2000, 'done'), 50, { controller, onTimeout: () => 'late' })).toBe('late');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(controller.signal.aborted).toBe(true);
    expect(controller.signal.reason).toBeInstanceOf(DeadlineError);
    expect((controller.signal.reason as DeadlineError).reason).toBe('timeout');
  });

  it('rejects with a DeadlineError naming the deadline when there is no onTimeout', async () => {
    await expect(withDeadline(after(2000, 'done'), 30)).rejects.toThrow(/no result within 30 ms/);
  });

  it('ends the wait when the caller signal aborts, with onAbort (default onTimeout)', async () => {
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 20);
    const v = await withDeadline(after(2000, 'done'), 5000, { signal: caller.signal, onAbort: () => 'aborted' });
    expect(v).toBe('aborted');
    const pre = new AbortController();
    pre.abort();
    expect(await withDeadline(after(2000, 'done'), 5000, { signal: pre.signal, onTimeout: () => 'late' })).toBe('late');
  });

  it('passes a rejection of the work through, and ignores a late one', async () => {
    await expect(withDeadline(Promise.reject(new Error('boom')), 1000)).rejects.toThrow('boom');
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error('late boom')), 30));
    expect(await withDeadline(late, 5, { onTimeout: () => 'cut' })).toBe('cut');
    await after(60, null); // the late rejection must not surface as an unhandled rejection
  });
});
