/**
 * Site profiles (`checks/profiles/*.json`, schema `checks/profiles/profile.schema.json`): which routes must pass at
 * a site, which are blocked on purpose, and which checks must pass. Loading validates by hand and says exactly
 * what is wrong; applying is a pure function over the results.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError, jsonSyntaxReason } from './errors.js';
import { CONFIG_FILE_MAX_BYTES, readInputText } from './input-file.js';
import { ROUTE_IDS, STAGE_IDS, isRouteId, routeSpecOf, type CheckResult, type RouteId } from './model/index.js';

/** What a site profile may say of a route: it must pass, it is blocked on purpose, or either is fine. */
export const ROUTE_EXPECTATIONS = ['pass', 'blocked', 'any'] as const;
/** One of {@link ROUTE_EXPECTATIONS}. */
export type RouteExpectation = (typeof ROUTE_EXPECTATIONS)[number];

/**
 * A site profile (`--site-profile`): what this site must pass. Not the AWS profile (`--profile`, `Target.awsProfile`),
 * which names AWS credentials.
 */
export interface SiteProfile {
  /** Short name (`443-only`), quoted in summaries and recorded in the report as `target.siteProfile`. */
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

/** A route cell blocked as the site profile expects: `skip`, the original verdict in evidence. */
export const EXPECTED_BLOCKED = 'EXPECTED_BLOCKED';
/** A route the site profile expects blocked got through TLS: `warn` on its tcp cell. */
export const UNEXPECTEDLY_OPEN = 'UNEXPECTEDLY_OPEN';
/** A route or check the site profile requires was not run: `fail` `profile.route.*` / `profile.check.*`. */
export const REQUIRED_NOT_RUN = 'REQUIRED_NOT_RUN';
/** A check the site profile requires only skipped: `fail` `profile.check.*`. */
export const REQUIRED_SKIPPED = 'REQUIRED_SKIPPED';

/**
 * Checks a parsed site profile document (JSON already parsed) and returns it typed. `source` names the file in
 * messages. Throws `UsageError` naming the first problem: unknown keys, unknown routes, bad expectations, malformed
 * check patterns.
 */
export function parseSiteProfile(data: unknown, source = 'profile'): SiteProfile {
  const bad = (what: string): never => {
    throw new UsageError(`${source}: ${what}`);
  };
  if (!data || typeof data !== 'object' || Array.isArray(data)) bad('expected a JSON object');
  const doc = data as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!KEYS.has(key)) bad(`unknown key "${key}" (known: name, description, routes, checks)`);
  }
  const name = doc['name'];
  if (typeof name !== 'string' || !NAME.test(name))
    bad('"name" must be a short name (letters, digits, . _ -), e.g. "443-only"');
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
      bad(
        `routes.${route}: ${JSON.stringify(expectation)} is not an expectation ` +
          `(use ${ROUTE_EXPECTATIONS.map((e) => `"${e}"`).join(', ')})`,
      );
    }
    routes[route as RouteId] = expectation as RouteExpectation;
  }
  if (Object.keys(routes).length === 0) bad('"routes" names no route');
  const checksIn = doc['checks'] ?? [];
  if (!Array.isArray(checksIn)) bad('"checks" must be a list of check ids, e.g. ["cert.key-match", "files.*"]');
  const checks: string[] = [];
  for (const [i, c] of (checksIn as unknown[]).entries()) {
    if (typeof c !== 'string' || !CHECK_PATTERN.test(c))
      bad(`checks[${i}]: ${JSON.stringify(c)} is not a check id or family pattern (e.g. "cert.key-match", "cert.*")`);
    if (checks.includes(c as string)) bad(`checks[${i}]: "${String(c)}" is listed twice`);
    checks.push(c as string);
  }
  return {
    name: name as string,
    ...(description !== undefined ? { description: description as string } : {}),
    routes,
    checks,
    source,
  };
}

/** Reads and validates a site profile file (JSON, UTF-8). Every problem is a `UsageError` with one clear line. */
export function loadSiteProfile(path: string): SiteProfile {
  const text = readInputText(path, { label: 'profile', maxBytes: CONFIG_FILE_MAX_BYTES });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`profile ${path} is not valid JSON: ${jsonSyntaxReason(err, text)}`);
  }
  return parseSiteProfile(data, `profile ${path}`);
}

/**
 * The folder of the site profiles shipped with iot-doctor (`checks/profiles`), found from the source or from the
 * build (dist/); undefined when neither has it.
 */
export function builtinSiteProfileDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'checks', 'profiles');
    if (existsSync(join(candidate, 'profile.schema.json'))) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

/** Names of the shipped site profiles (file names without `.json`), sorted; [] when the folder is missing. */
export function builtinSiteProfiles(): string[] {
  const dir = builtinSiteProfileDir();
  if (!dir) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'profile.schema.json')
    .map((f) => f.replace(/\.json$/, ''))
    .sort();
}

/**
 * A shipped site profile by name (`443-only`), or a file path (anything with a slash or ending in `.json`, or an
 * existing file that is not a shipped name). Throws `UsageError` for an unknown name (listing the shipped ones), a
 * folder (said to be one), or a bad file.
 */
export function resolveSiteProfile(nameOrPath: string): SiteProfile {
  if (/[/\\]/.test(nameOrPath) || nameOrPath.endsWith('.json')) return loadSiteProfile(nameOrPath);
  const dir = builtinSiteProfileDir();
  const path = dir ? join(dir, `${nameOrPath}.json`) : undefined;
  if (!path || !existsSync(path)) {
    if (statSync(nameOrPath, { throwIfNoEntry: false })?.isDirectory()) {
      throw new UsageError(
        `--site-profile ${nameOrPath} is a folder, not a profile: give a .json file in it or a shipped name ` +
          `(${builtinSiteProfiles().join(', ') || 'none'})`,
      );
    }
    if (existsSync(nameOrPath)) return loadSiteProfile(nameOrPath);
    throw new UsageError(
      `no profile named "${nameOrPath}" (shipped: ${builtinSiteProfiles().join(', ') || 'none'}); ` +
        'give a path to a .json file for your own',
    );
  }
  return loadSiteProfile(path);
}

/** The routes the site profile expects blocked, in `ROUTE_IDS` order. */
export function expectedBlockedRoutes(siteProfile: SiteProfile): RouteId[] {
  return ROUTE_IDS.filter((r) => siteProfile.routes[r] === 'blocked');
}

/** The routes a site profile names, in `ROUTE_IDS` order: what to probe when the user chose none. */
export function siteProfileRoutes(siteProfile: SiteProfile): RouteId[] {
  return ROUTE_IDS.filter((r) => siteProfile.routes[r] !== undefined);
}

function matches(pattern: string, id: string): boolean {
  if (pattern.endsWith('.*')) return id.startsWith(pattern.slice(0, -1));
  return id === pattern || id.startsWith(`${pattern}:`);
}

function routeCells(results: readonly CheckResult[], route: RouteId): CheckResult[] {
  return STAGE_IDS.map((s) => results.find((r) => r.route === route && r.stage === s)).filter(
    (r): r is CheckResult => !!r,
  );
}

/**
 * `port 8883` for a route's tcp cell: the route's AWS port (facts: route ports), with where `--connect-to` sent it
 * in brackets when the cell dialled another port (its evidence then has `routePort`, set by the tcp stage):
 * `port 8883 (redirected to 127.0.0.1:38085)`.
 */
function routePortText(cell: CheckResult): string {
  const { routePort, address, port } = cell.evidence;
  const awsPort = typeof routePort === 'number' ? routePort : cell.route ? routeSpecOf(cell.route)?.port : undefined;
  if (awsPort === undefined) return typeof port === 'number' ? `port ${port}` : 'this port';
  if (typeof routePort !== 'number' || typeof port !== 'number') return `port ${awsPort}`;
  const at = typeof address === 'string' ? (address.includes(':') ? `[${address}]:` : `${address}:`) : 'port ';
  return `port ${awsPort} (redirected to ${at}${port})`;
}

/** `profile "<name>"`, as the summaries quote the site profile. */
function profileLabel(siteProfile: SiteProfile): string {
  return `profile "${siteProfile.name}"`;
}

/** The evidence of a cell whose verdict the site profile changed: the original verdict moves in beside the facts. */
function originalEvidence(cell: CheckResult, siteProfile: SiteProfile): CheckResult['evidence'] {
  return {
    ...cell.evidence,
    originalStatus: cell.status,
    originalCode: cell.code,
    originalSummary: cell.summary,
    profile: siteProfile.name,
  };
}

/**
 * One route the site profile expects blocked: the cell that stopped it becomes `skip` `EXPECTED_BLOCKED` when the
 * block is in the network (TCP, or TLS cut off before any certificate); a tcp cell becomes `warn`
 * `UNEXPECTEDLY_OPEN` when the route got through TLS. `cells` are the route's cells in stage order; returns the
 * replacement for one of them, or undefined when nothing changes.
 */
function expectedBlockedCell(
  cells: readonly CheckResult[],
  siteProfile: SiteProfile,
): { old: CheckResult; next: CheckResult } | undefined {
  const label = profileLabel(siteProfile);
  const blocker = cells.find((c) => c.status === 'fail' || c.status === 'error');
  const isBlocked =
    !!blocker && (blocker.stage === 'tcp' || (blocker.stage === 'tls' && TRANSPORT_TLS_CODES.has(blocker.code)));
  if (isBlocked) {
    const { hint: _hint, ...rest } = blocker;
    const next: CheckResult = {
      ...rest,
      status: 'skip',
      code: EXPECTED_BLOCKED,
      summary: `blocked as ${label} expects: ${blocker.summary}`,
      evidence: originalEvidence(blocker, siteProfile),
    };
    return { old: blocker, next };
  }
  const tls = cells.find((c) => c.stage === 'tls');
  const opened = !!tls && (tls.status === 'pass' || (tls.status === 'fail' && !TRANSPORT_TLS_CODES.has(tls.code)));
  const tcp = cells.find((c) => c.stage === 'tcp');
  if (!opened || !tcp || tcp.code === UNEXPECTEDLY_OPEN) return undefined;
  const port = routePortText(tcp);
  const next: CheckResult = {
    ...tcp,
    status: 'warn',
    code: UNEXPECTEDLY_OPEN,
    summary: `${label} expects this route to be blocked, but it connected: ${tcp.summary}`,
    evidence: originalEvidence(tcp, siteProfile),
    hint:
      `The site profile says ${port} is blocked here, yet the connection went through: a firewall rule is missing, ` +
      'or the profile is out of date. Check with the network administrator, or update the profile.',
  };
  return { old: tcp, next };
}

/** The `profile.route.<route>` / `profile.check.<pattern>` results for what the site profile requires and lacks. */
function requirementResults(results: readonly CheckResult[], siteProfile: SiteProfile): CheckResult[] {
  const label = profileLabel(siteProfile);
  const added: CheckResult[] = [];
  for (const route of ROUTE_IDS.filter((r) => siteProfile.routes[r] === 'pass')) {
    if (routeCells(results, route).length > 0) continue;
    added.push({
      id: `profile.route.${route}`,
      route: null,
      stage: null,
      title: `Route ${route} works at this site (${label})`,
      status: 'fail',
      code: REQUIRED_NOT_RUN,
      summary: `${label} requires ${route} to pass, but it was not probed`,
      evidence: { profile: siteProfile.name, route },
      hint: `Probe it: add ${route} to --routes (or leave --routes out to probe every route the profile names).`,
      durationMs: 0,
    });
  }
  for (const pattern of siteProfile.checks) {
    const matching = results.filter((r) => !r.route && !r.id.startsWith('profile.') && matches(pattern, r.id));
    const base = {
      id: `profile.check.${pattern}`,
      route: null,
      stage: null,
      title: `${pattern} passes (${label})`,
      durationMs: 0,
    } as const;
    if (matching.length === 0) {
      added.push({
        ...base,
        status: 'fail',
        code: REQUIRED_NOT_RUN,
        summary: `${label} requires ${pattern} to pass, but no such check ran`,
        evidence: { profile: siteProfile.name, check: pattern },
        hint: 'Check the name in the profile against the check ids in the report (iot-doctor check --format list).',
      });
    } else if (matching.every((r) => r.status === 'skip')) {
      const first = matching[0]!;
      added.push({
        ...base,
        status: 'fail',
        code: REQUIRED_SKIPPED,
        summary: `${label} requires ${pattern} to pass, but it was skipped: ${first.summary}`,
        evidence: { profile: siteProfile.name, check: pattern, skipped: matching.map((r) => r.id), reason: first.code },
        hint: 'Give the check what it needs (see its summary), then run again.',
      });
    }
  }
  return added;
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
 * Applying the same site profile twice changes nothing more (results whose id is already there are not added again).
 */
export function applySiteProfile(results: readonly CheckResult[], siteProfile: SiteProfile): CheckResult[] {
  const out = results.map((r) => r);
  for (const route of expectedBlockedRoutes(siteProfile)) {
    const change = expectedBlockedCell(routeCells(out, route), siteProfile);
    if (change) out[out.indexOf(change.old)] = change.next;
  }
  const have = new Set(out.map((r) => r.id));
  for (const r of requirementResults(out, siteProfile)) {
    if (!have.has(r.id)) {
      out.push(r);
      have.add(r.id);
    }
  }
  return out;
}
