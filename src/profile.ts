/**
 * Site profiles (`checks/profiles/*.json`, schema `checks/profiles/profile.schema.json`): which routes must pass at
 * a site, which are blocked on purpose, and which checks must pass. Loading validates by hand and says exactly
 * what is wrong; applying is a pure function over the results.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError, errorMessage } from './errors.js';
import { ROUTE_IDS, STAGE_IDS, isRouteId, type CheckResult, type RouteId } from './model/index.js';

export const ROUTE_EXPECTATIONS = ['pass', 'blocked', 'any'] as const;
export type RouteExpectation = (typeof ROUTE_EXPECTATIONS)[number];

export interface Profile {
  name: string;
  description?: string;
  routes: Partial<Record<RouteId, RouteExpectation>>;
  /** Check ids (`cert.key-match`) or families (`cert.*`) that must pass. */
  checks: string[];
  /** Where it was loaded from. */
  source?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const CHECK_PATTERN = /^[a-z0-9-]+(\.[a-z0-9-]+)*(\.\*)?$/;
const KEYS = new Set(['$schema', 'name', 'description', 'routes', 'checks']);

/** TLS failures that mean the connection was cut before any certificate was seen: a filter, not the server. */
const TRANSPORT_TLS_CODES = new Set(['TLS_STALLED', 'TLS_RESET', 'TLS_CLOSED', 'TLS_NOT_TLS']);

export const EXPECTED_BLOCKED = 'EXPECTED_BLOCKED';
export const UNEXPECTEDLY_OPEN = 'UNEXPECTEDLY_OPEN';
export const REQUIRED_NOT_RUN = 'REQUIRED_NOT_RUN';
export const REQUIRED_SKIPPED = 'REQUIRED_SKIPPED';

/**
 * Checks a parsed profile document and returns it typed. `source` names the file in messages. Throws `UsageError`
 * naming the first problem: unknown keys, unknown routes, bad expectations, malformed check patterns.
 */
export function parseProfile(data: unknown, source = 'profile'): Profile {
  const bad = (what: string): never => {
    throw new UsageError(`${source}: ${what}`);
  };
  if (!data || typeof data !== 'object' || Array.isArray(data)) bad('expected a JSON object');
  const doc = data as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!KEYS.has(key)) bad(`unknown key "${key}" (known: name, description, routes, checks)`);
  }
  const name = doc['name'];
  if (typeof name !== 'string' || !NAME.test(name)) bad('"name" must be a short name (letters, digits, . _ -), e.g. "443-only"');
  const description = doc['description'];
  if (description !== undefined && typeof description !== 'string') bad('"description" must be a string');
  const routesIn = doc['routes'];
  if (!routesIn || typeof routesIn !== 'object' || Array.isArray(routesIn)) {
    bad(`"routes" must be an object like { "mqtt-443": "pass", "mqtt-8883": "blocked" }`);
  }
  const routes: Partial<Record<RouteId, RouteExpectation>> = {};
  for (const [route, expectation] of Object.entries(routesIn as Record<string, unknown>)) {
    if (!isRouteId(route)) bad(`routes: "${route}" is not a route (known: ${ROUTE_IDS.join(', ')})`);
    if (!(ROUTE_EXPECTATIONS as readonly unknown[]).includes(expectation)) {
      bad(`routes.${route}: ${JSON.stringify(expectation)} is not an expectation (use ${ROUTE_EXPECTATIONS.map((e) => `"${e}"`).join(', ')})`);
    }
    routes[route as RouteId] = expectation as RouteExpectation;
  }
  if (Object.keys(routes).length === 0) bad('"routes" names no route');
  const checksIn = doc['checks'] ?? [];
  if (!Array.isArray(checksIn)) bad('"checks" must be a list of check ids, e.g. ["cert.key-match", "files.*"]');
  const checks: string[] = [];
  for (const [i, c] of (checksIn as unknown[]).entries()) {
    if (typeof c !== 'string' || !CHECK_PATTERN.test(c)) bad(`checks[${i}]: ${JSON.stringify(c)} is not a check id or family pattern (e.g. "cert.key-match", "cert.*")`);
    if (checks.includes(c as string)) bad(`checks[${i}]: "${String(c)}" is listed twice`);
    checks.push(c as string);
  }
  return { name: name as string, ...(description !== undefined ? { description: description as string } : {}), routes, checks, source };
}

/** Reads and validates a profile file. Every problem is a `UsageError` with one clear line. */
export function loadProfile(path: string): Profile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read profile ${path}: ${errorMessage(err)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`profile ${path} is not valid JSON: ${errorMessage(err)}`);
  }
  return parseProfile(data, `profile ${path}`);
}

/** The folder of the profiles shipped with iot-doctor (`checks/profiles`), from source or from the build. */
export function builtinProfileDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'checks', 'profiles');
    if (existsSync(join(candidate, 'profile.schema.json'))) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

export function builtinProfiles(): string[] {
  const dir = builtinProfileDir();
  if (!dir) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'profile.schema.json')
    .map((f) => f.replace(/\.json$/, ''))
    .sort();
}

/** A shipped profile by name (`443-only`), or a file path. */
export function resolveProfile(nameOrPath: string): Profile {
  if (/[/\\]/.test(nameOrPath) || nameOrPath.endsWith('.json')) return loadProfile(nameOrPath);
  const dir = builtinProfileDir();
  const path = dir ? join(dir, `${nameOrPath}.json`) : undefined;
  if (!path || !existsSync(path)) {
    throw new UsageError(`no profile named "${nameOrPath}" (shipped: ${builtinProfiles().join(', ') || 'none'}); give a path to a .json file for your own`);
  }
  return loadProfile(path);
}

export function expectedBlockedRoutes(profile: Profile): RouteId[] {
  return ROUTE_IDS.filter((r) => profile.routes[r] === 'blocked');
}

/** The routes a profile names, to probe when the user chose none. */
export function profileRoutes(profile: Profile): RouteId[] {
  return ROUTE_IDS.filter((r) => profile.routes[r] !== undefined);
}

function matches(pattern: string, id: string): boolean {
  if (pattern.endsWith('.*')) return id.startsWith(pattern.slice(0, -1));
  return id === pattern || id.startsWith(`${pattern}:`);
}

function routeCells(results: readonly CheckResult[], route: RouteId): CheckResult[] {
  return STAGE_IDS.map((s) => results.find((r) => r.route === route && r.stage === s)).filter((r): r is CheckResult => !!r);
}

/**
 * Applies a site profile to a run's results and returns new results (the input is not changed):
 *
 * - A route expected blocked that is blocked (its first failure is at TCP, or TLS is cut off before any
 *   certificate) keeps every fact, but the failing cell becomes `skip` with code `EXPECTED_BLOCKED`; the original
 *   status, code and summary move into its evidence (`originalStatus`, `originalCode`, `originalSummary`).
 * - A route expected blocked that gets through TLS: its tcp cell becomes `warn` `UNEXPECTEDLY_OPEN`, with the
 *   original in evidence the same way. Later failures on that route stay as they are.
 * - A route that must pass but was not probed, and a required check that did not run or was skipped, add a
 *   `fail` result `profile.route.<route>` / `profile.check.<pattern>` (`REQUIRED_NOT_RUN` / `REQUIRED_SKIPPED`).
 *
 * Applying the same profile twice changes nothing more.
 */
export function applyProfile(results: readonly CheckResult[], profile: Profile): CheckResult[] {
  const out = results.map((r) => r);
  const replace = (old: CheckResult, next: CheckResult): void => {
    out[out.indexOf(old)] = next;
  };
  const label = `profile "${profile.name}"`;

  for (const route of expectedBlockedRoutes(profile)) {
    const cells = routeCells(out, route);
    if (cells.length === 0) continue;
    const blocker = cells.find((c) => c.status === 'fail' || c.status === 'error');
    const tls = cells.find((c) => c.stage === 'tls');
    const isBlocked = !!blocker && (blocker.stage === 'tcp' || (blocker.stage === 'tls' && TRANSPORT_TLS_CODES.has(blocker.code)));
    if (isBlocked) {
      const { hint: _hint, ...rest } = blocker;
      replace(blocker, {
        ...rest,
        status: 'skip',
        code: EXPECTED_BLOCKED,
        summary: `blocked as ${label} expects: ${blocker.summary}`,
        evidence: { ...blocker.evidence, originalStatus: blocker.status, originalCode: blocker.code, originalSummary: blocker.summary, profile: profile.name },
      });
      continue;
    }
    const opened = !!tls && (tls.status === 'pass' || (tls.status === 'fail' && !TRANSPORT_TLS_CODES.has(tls.code)));
    const tcp = cells.find((c) => c.stage === 'tcp');
    if (opened && tcp && tcp.code !== UNEXPECTEDLY_OPEN) {
      replace(tcp, {
        ...tcp,
        status: 'warn',
        code: UNEXPECTEDLY_OPEN,
        summary: `${label} expects this route to be blocked, but it connected: ${tcp.summary}`,
        evidence: { ...tcp.evidence, originalStatus: tcp.status, originalCode: tcp.code, originalSummary: tcp.summary, profile: profile.name },
        hint: `The site profile says ${tcp.evidence['port'] !== undefined ? `port ${String(tcp.evidence['port'])}` : 'this port'} is blocked here, yet the connection went through: a firewall rule is missing, or the profile is out of date. Check with the network administrator, or update the profile.`,
      });
    }
  }

  const have = new Set(out.map((r) => r.id));
  const add = (r: CheckResult): void => {
    if (!have.has(r.id)) {
      out.push(r);
      have.add(r.id);
    }
  };
  for (const route of ROUTE_IDS.filter((r) => profile.routes[r] === 'pass')) {
    if (routeCells(out, route).length > 0) continue;
    add({
      id: `profile.route.${route}`,
      route: null,
      stage: null,
      title: `Route ${route} works at this site (${label})`,
      status: 'fail',
      code: REQUIRED_NOT_RUN,
      summary: `${label} requires ${route} to pass, but it was not probed`,
      evidence: { profile: profile.name, route },
      hint: `Probe it: add ${route} to --routes (or leave --routes out to probe every route the profile names).`,
      durationMs: 0,
    });
  }
  for (const pattern of profile.checks) {
    const matching = out.filter((r) => !r.route && !r.id.startsWith('profile.') && matches(pattern, r.id));
    const base = { id: `profile.check.${pattern}`, route: null, stage: null, title: `${pattern} passes (${label})`, durationMs: 0 } as const;
    if (matching.length === 0) {
      add({
        ...base,
        status: 'fail',
        code: REQUIRED_NOT_RUN,
        summary: `${label} requires ${pattern} to pass, but no such check ran`,
        evidence: { profile: profile.name, check: pattern },
        hint: 'Check the name in the profile against the check ids in the report (iot-doctor check --format list).',
      });
    } else if (matching.every((r) => r.status === 'skip')) {
      const first = matching[0]!;
      add({
        ...base,
        status: 'fail',
        code: REQUIRED_SKIPPED,
        summary: `${label} requires ${pattern} to pass, but it was skipped: ${first.summary}`,
        evidence: { profile: profile.name, check: pattern, skipped: matching.map((r) => r.id), reason: first.code },
        hint: 'Give the check what it needs (see its summary), then run again.',
      });
    }
  }
  return out;
}
