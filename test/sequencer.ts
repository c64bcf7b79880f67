/**
 * The order in which the suite starts its files: the slowest first, so that with two workers no long file starts
 * late and finishes alone at the end. Vitest's own order uses the durations of an earlier run on this machine, which
 * a fresh clone (CI: `npm ci` empties node_modules/.vite) does not have; it then starts the larger files first, and
 * size says little about time (a short file that runs the CLI 20 times outlasts a long unit test). The list below
 * comes from a measured full run (`--reporter=json`, per-file wall time, slowest first); files not in it follow in
 * vitest's order. Re-measure and update it when a file's time changes by much.
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Measured slowest first (each about 4 s of wall time or more in a full run with two workers). */
export const SLOW_FIRST: readonly string[] = [
  'test/cli/field-scenarios.test.ts',
  'test/cli/proxy-secrets.test.ts',
  'test/integration/pipelining.test.ts',
  'test/cli/cli.test.ts',
  'test/e2e/field-paths.test.ts',
  'test/cli/wss-default.test.ts',
  'test/cli/auth-secrets.test.ts',
  'test/integration/records-diagnosis.test.ts',
  'test/cli/hostile-input.test.ts',
  'test/fidelity/mqtt.test.ts',
  'test/cli/lab-check-line.test.ts',
  'test/integration/protocol-stages.test.ts',
  'test/cli/cli-reports.test.ts',
  'test/e2e/network-faults.test.ts',
  'test/integration/serve.test.ts',
  'test/integration/prometheus-e2e.test.ts',
  'test/integration/hostile-servers.test.ts',
  'test/integration/lab-signals.test.ts',
  'test/integration/diagnosis-verdicts.test.ts',
  'test/cli/cli-monitoring.test.ts',
  'test/fidelity/tls.test.ts',
  'test/integration/route-waits.test.ts',
  'test/integration/html-browser.test.ts',
  'test/cli/route-instances.test.ts',
  'test/cli/run-deadline.test.ts',
  'test/integration/cloud-api-faults.test.ts',
  'test/cli/output-empty-input.test.ts',
  'test/cli/wss-no-signing-input.test.ts',
  'test/cli/cloud-credential-timeout.test.ts',
];

/** Vitest's sequencer with the files of `SLOW_FIRST` moved to the front, in that order. */
export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const rank = (spec: TestSpecification): number => {
      const i = SLOW_FIRST.indexOf(relative(root, spec.moduleId));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}
