/**
 * The package's library entry ("main" in package.json, built into dist/): it exists, exports the run and report
 * calls, and a saved report read and rendered through it matches the golden rendering.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string; types: string };

describe('library entry point', () => {
  it('package.json "main" loads and offers the run, target, site-profile and report calls', async () => {
    const api = (await import(pathToFileURL(join(root, pkg.main)).href)) as Record<string, unknown>;
    for (const name of ['runDoctor', 'finishReport', 'targetFromArgs', 'resolveSiteProfile', 'applySiteProfile']) {
      expect(typeof api[name], name).toBe('function');
    }
    for (const name of ['parseReport', 'renderReport', 'redactReport', 'exitCodeFor']) {
      expect(typeof api[name], name).toBe('function');
    }
    expect(api['TOOL_VERSION']).toBe(
      (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version,
    );
    expect(readFileSync(join(root, pkg.types), 'utf8')).toContain('runDoctor');
  });

  it('parseReport + renderReport through the entry give the golden Markdown of the sample report', async () => {
    const api = (await import(pathToFileURL(join(root, pkg.main)).href)) as typeof import('../../src/index.js');
    const report = api.parseReport(readFileSync(join(root, 'test/fixtures/report-sample.json'), 'utf8'), 'sample');
    const golden = readFileSync(join(root, 'test/fixtures/golden/report.md'), 'utf8');
    expect(api.renderReport(report, 'markdown', { color: false }).trimEnd()).toBe(golden.trimEnd());
  });

  it('targetFromArgs validates like the CLI: a URL as endpoint is a UsageError', async () => {
    const api = (await import(pathToFileURL(join(root, pkg.main)).href)) as typeof import('../../src/index.js');
    expect(() => api.targetFromArgs({ endpoint: 'https://example.com' })).toThrow(api.UsageError);
    const t = api.targetFromArgs({ endpoint: 'abc123-ats.iot.eu-west-1.amazonaws.com', routes: ['mqtt-443'] });
    expect(t).toMatchObject({
      endpoint: 'abc123-ats.iot.eu-west-1.amazonaws.com',
      routes: ['mqtt-443'],
      region: 'eu-west-1',
    });
  });
});
