/**
 * Prometheus's own checkers (Debian package `prometheus`, installed by test/setup-system.sh): every exposition the
 * tests produce goes through `promtool check metrics`.
 */
import { spawnSync } from 'node:child_process';

/** Whether promtool is on the PATH; tests that need it skip with one line when it is not. */
export const HAS_PROMTOOL = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;

/** Whether the Prometheus server is on the PATH. */
export const HAS_PROMETHEUS = spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;

/** `promtool check metrics` on TEXT: exit status and everything it printed (lint problems, parse errors). */
export function promtoolCheckMetrics(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/** `promtool <args>` (check config, check rules, test rules): exit status and output. */
export function promtool(args: string[], cwd?: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000, ...(cwd ? { cwd } : {}) });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/** Parses exposition text into `series -> value` (series = name plus labels as written). */
export function parseSamples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}
