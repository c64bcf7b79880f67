/**
 * The `serve` configuration file, in the style of blackbox_exporter's (field notes §9.3): YAML (JSON is YAML too)
 * with one top-level key, `modules:`, each module a set of `check` options by their long names. The file is
 * validated as a whole when it is loaded (start and SIGHUP): every bad key gives one line, and nothing is used
 * until all of it is right. Relative file paths are read from the configuration file's folder.
 */
import { accessSync, constants } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { UsageError, errorMessage } from '../errors.js';
import { CONFIG_FILE_MAX_BYTES, readInputText } from '../input-file.js';
import { resolveSiteProfile, type SiteProfile } from '../site-profile.js';
import { parseRepeat, type RepeatOptions } from '../repeat.js';
import { targetFromArgs, type CommonCheckArgs } from '../commands.js';

/** How a module option is written in the file. */
type Kind = 'string' | 'number' | 'boolean' | 'strings';

/** The `check` options a module may set, by long name. `endpoint` is the probe's `target` parameter instead. */
export const MODULE_OPTIONS: Readonly<Record<string, Kind>> = {
  cert: 'string',
  key: 'string',
  ca: 'string',
  'key-passphrase': 'string',
  'warn-days': 'number',
  routes: 'strings',
  timeout: 'number',
  'connect-to': 'strings',
  resolve: 'strings',
  'dns-server': 'string',
  'client-id': 'string',
  topic: 'string',
  'mqtt-version': 'string',
  protocol: 'boolean',
  keepalive: 'number',
  region: 'string',
  profile: 'string',
  cloud: 'boolean',
  'api-endpoint': 'string',
  'certificate-id': 'string',
  'site-profile': 'string',
  strict: 'boolean',
  repeat: 'number',
  interval: 'number',
};

/** Options that name files, resolved against the configuration file's folder. */
const PATH_OPTIONS = ['cert', 'key', 'ca'] as const;

/** Values never echoed in an error line. */
const SECRET_OPTIONS = new Set(['key-passphrase']);

/** One validated module: the `check` arguments (without endpoint) and what runDoctor takes besides the target. */
export interface ProbeModule {
  name: string;
  args: CommonCheckArgs;
  strict: boolean;
  siteProfile?: SiteProfile;
  repeat?: RepeatOptions;
  /** Values to remove from anything the exporter answers or logs (the key passphrase). */
  secrets: string[];
}

/** A loaded configuration: modules by name, and where it came from. */
export interface ServeConfig {
  path: string;
  modules: ReadonlyMap<string, ProbeModule>;
}

/** Placeholder endpoint used to validate a module's values before any probe names a real one. */
const PLACEHOLDER = 'validation-ats.iot.us-east-1.amazonaws.com';

function closest(name: string): string | undefined {
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let prev = d[0]!;
      d[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const next = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = d[j]!;
        d[j] = next;
      }
    }
    return d[b.length]!;
  };
  const best = Object.keys(MODULE_OPTIONS)
    .map((k) => [k, distance(name, k)] as const)
    .sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= 2 ? best[0] : undefined;
}

function show(key: string, value: unknown): string {
  if (SECRET_OPTIONS.has(key)) return '';
  const text = JSON.stringify(value) ?? String(value);
  return ` (got ${text.length > 60 ? `${text.slice(0, 57)}...` : text})`;
}

/** Checks one option's type; returns the value in the form `check` takes, or an error line. */
function typed(key: string, kind: Kind, value: unknown): { value?: unknown; error?: string } {
  if (kind === 'strings') {
    const list = typeof value === 'string' ? [value] : value;
    if (Array.isArray(list) && list.every((v) => typeof v === 'string')) return { value: list };
    return { error: `must be a string or a list of strings${show(key, value)}` };
  }
  if (key === 'mqtt-version' && typeof value === 'number')
    return { value: String(value) === '5' ? '5' : String(value) };
  if (typeof value !== kind) return { error: `must be a ${kind === 'number' ? 'number' : kind}${show(key, value)}` };
  return { value };
}

/** Type and name checks of one module's mapping; collects error lines. */
function moduleArgs(where: string, raw: unknown, baseDir: string, errors: string[]): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    errors.push(`${where}: must be a mapping of check options (cert, key, ca, routes, timeout, ...)`);
    return args;
  }
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const kind = MODULE_OPTIONS[key];
    if (key === 'endpoint')
      errors.push(`${where}.endpoint: not a module option; the endpoint is the probe's target= parameter`);
    else if (!kind) {
      const hint = closest(key);
      errors.push(`${where}.${key}: unknown option${hint ? ` (did you mean ${hint}?)` : ''}`);
    } else {
      const t = typed(key, kind, value);
      if (t.error) errors.push(`${where}.${key}: ${t.error}`);
      else args[key] = t.value;
    }
  }
  for (const key of PATH_OPTIONS) {
    const path = args[key];
    if (typeof path !== 'string') continue;
    const full = isAbsolute(path) ? path : resolve(baseDir, path);
    try {
      accessSync(full, constants.R_OK);
      args[key] = full;
    } catch (err) {
      errors.push(`${where}.${key}: cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
    }
  }
  const profile = args['site-profile'];
  if (typeof profile === 'string' && /[/\\]/.test(profile) && !isAbsolute(profile))
    args['site-profile'] = resolve(baseDir, profile);
  return args;
}

/** Value checks through the same parsers `check` uses; returns the module or pushes error lines. */
function buildModule(
  name: string,
  where: string,
  args: Record<string, unknown>,
  errors: string[],
): ProbeModule | undefined {
  const a = args as CommonCheckArgs & { strict?: boolean; repeat?: number; interval?: number };
  const before = errors.length;
  const attempt = <T>(what: () => T): T | undefined => {
    try {
      return what();
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      errors.push(`${where}: ${err.message}`);
      return undefined;
    }
  };
  attempt(() => targetFromArgs({ ...a, endpoint: PLACEHOLDER }));
  const siteProfile = a['site-profile'] ? attempt(() => resolveSiteProfile(a['site-profile']!)) : undefined;
  const repeat = attempt(() => parseRepeat(a.repeat, a.interval));
  if (errors.length > before) return undefined;
  const { strict, repeat: _r, interval: _i, ...check } = a;
  return {
    name,
    args: check,
    strict: strict ?? false,
    ...(siteProfile ? { siteProfile } : {}),
    ...(repeat ? { repeat } : {}),
    secrets: a['key-passphrase'] ? [a['key-passphrase']] : [],
  };
}

/** Parses TEXT (YAML or JSON) from PATH into modules; every problem is one line in the returned list. */
export function parseServeConfig(text: string, path: string): { config?: ServeConfig; errors: string[] } {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) return { errors: doc.errors.map((e) => `not valid YAML: ${e.message.split('\n')[0]}`) };
  const data = doc.toJS() as unknown;
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    return { errors: ['must be a mapping with a modules: key'] };
  const errors: string[] = [];
  for (const key of Object.keys(data))
    if (key !== 'modules') errors.push(`${key}: unknown top-level key (only modules:)`);
  const modules = (data as Record<string, unknown>)['modules'];
  if (modules === null || typeof modules !== 'object' || Array.isArray(modules) || Object.keys(modules).length === 0) {
    errors.push('modules: must map module names to check options, with at least one module');
    return { errors };
  }
  const out = new Map<string, ProbeModule>();
  for (const [name, raw] of Object.entries(modules as Record<string, unknown>)) {
    const where = `modules.${name}`;
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
      errors.push(`${where}: a module name is 1-64 letters, digits, '_', '.' or '-'`);
      continue;
    }
    const module = buildModule(name, where, moduleArgs(where, raw, dirname(path), errors), errors);
    if (module) out.set(name, module);
  }
  return errors.length ? { errors } : { config: { path, modules: out }, errors: [] };
}

/**
 * Reads and validates the configuration at PATH. Throws UsageError whose message has one line per problem, each
 * starting with the file name, e.g. `serve.yml: modules.site-a.tiemout: unknown option (did you mean timeout?)`.
 */
export function loadServeConfig(path: string): ServeConfig {
  const text = readInputText(path, { label: 'the configuration', maxBytes: CONFIG_FILE_MAX_BYTES });
  const { config, errors } = parseServeConfig(text, resolve(path));
  if (!config) throw new UsageError(errors.map((e) => `${path}: ${e}`).join('\n'));
  return config;
}
