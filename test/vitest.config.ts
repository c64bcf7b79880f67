import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './sequencer.js';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time. Vitest's default on a 2-core machine is one (cores - 1), and most files spend their time
    // waiting on sockets, child processes and deadlines, not on the CPU: one worker left a core idle for most of
    // the run. The slowest files start first (test/sequencer.ts) so that none finishes alone at the end.
    maxWorkers: 2,
    sequence: { sequencer: SlowFirstSequencer },
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
