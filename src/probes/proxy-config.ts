/**
 * Which proxy a route goes through: `--proxy URL`, else the environment the way curl reads it (field-notes §1.4):
 * `https_proxy`/`HTTPS_PROXY`, then `all_proxy`/`ALL_PROXY` (lowercase wins, an empty value counts as unset), with
 * `no_proxy`/`NO_PROXY` exceptions (replaced by `--noproxy LIST`; they apply to `--proxy` too); `--no-proxy` ignores
 * the environment. The password is kept for the proxy handshake only: every text made here for people (`describe`,
 * `reproduce`, `reason`) leaves it out.
 */
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import { shq } from './shell.js';

/** The proxy protocols iot-doctor speaks: HTTP CONNECT, SOCKS5 with local resolution, SOCKS5 with proxy resolution. */
export type ProxyKind = 'http' | 'socks5' | 'socks5h';

/** A parsed proxy URL. `password` must never be printed; use `describeProxy`. */
export interface ProxyConfig {
  kind: ProxyKind;
  host: string;
  port: number;
  user?: string;
  password?: string;
  /** Where the setting came from: '--proxy' or the name of the environment variable. */
  source: string;
}

/** What the run does about proxies: the proxy (or none), why none, and whether the direct path is probed too. */
export interface ProxyChoice {
  proxy: ProxyConfig | null;
  /** One line: why this proxy is used ("HTTPS_PROXY from the environment") or why none is. */
  reason: string;
  /** Why no proxy applies although one is configured (NO_PROXY matched), or why none was looked for. */
  note?: string;
}

/** curl's default proxy port when the URL names none (`--proxy host` means host:1080). */
export const DEFAULT_PROXY_PORT = 1080;

const SCHEMES: Readonly<Record<string, ProxyKind>> = {
  'http:': 'http',
  'socks5:': 'socks5',
  'socks5h:': 'socks5h',
};

function decode(part: string, what: string, source: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new UsageError(`${source}: the proxy ${what} is not valid percent-encoding`);
  }
}

/**
 * Parse `http://[user:pass@]host[:port]`, `socks5://…` or `socks5h://…` (no scheme: http, as curl). Throws a
 * UsageError that never quotes the password for anything else (https:// proxies, socks4, paths, bad ports).
 */
export function parseProxyUrl(raw: string, source = '--proxy'): ProxyConfig {
  const text = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`${source}: "${redactUrlText(text)}" is not a proxy URL like http://proxy.example:3128`);
  }
  const kind = SCHEMES[url.protocol.toLowerCase()];
  if (!kind) {
    throw new UsageError(
      `${source}: proxy scheme ${url.protocol.replace(/:$/, '')}:// is not supported; use http://, socks5:// or socks5h://`,
    );
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new UsageError(`${source}: the proxy URL names no host`);
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) {
    throw new UsageError(`${source}: a proxy URL is scheme://[user:password@]host:port, without a path`);
  }
  const port = url.port === '' ? DEFAULT_PROXY_PORT : Number(url.port);
  if (port < 1) throw new UsageError(`${source}: proxy port 0 is not usable`);
  const user = url.username ? decode(url.username, 'user name', source) : undefined;
  const password = url.password ? decode(url.password, 'password', source) : undefined;
  return {
    kind,
    host,
    port,
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    source,
  };
}

/** Replace the password of anything that looks like `scheme://user:pass@` in a text with `****`. */
export function redactUrlText(text: string): string {
  return text.replace(/(\/\/[^:/@\s]*:)[^@/\s]*@/g, '$1****@');
}

function hostForUrl(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** The proxy as people may see it: `http://alice:****@proxy.example:3128` (never the password). */
export function describeProxy(proxy: ProxyConfig): string {
  const user = proxy.user !== undefined ? `${encodeURIComponent(proxy.user)}${proxy.password ? ':****' : ''}@` : '';
  return `${proxy.kind}://${user}${hostForUrl(proxy.host)}:${proxy.port}`;
}

/** The proxy part of a curl command line that repeats the route by hand; curl asks for the password (`-U user`). */
export function curlProxyArgs(proxy: ProxyConfig): string[] {
  const url = `${proxy.kind}://${hostForUrl(proxy.host)}:${proxy.port}`;
  return ['--proxy', url, ...(proxy.user !== undefined ? ['--proxy-user', shq(proxy.user)] : [])];
}

/** An environment variable as curl reads it: the lowercase name first, an empty value counts as unset. */
function envPair(env: NodeJS.ProcessEnv, lower: string): { name: string; value: string } | undefined {
  for (const name of [lower, lower.toUpperCase()]) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') return { name, value };
  }
  return undefined;
}

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function ipv6ToBigInt(address: string): bigint {
  let text = address.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipv4ToInt(v4[1]!);
    text = text.replace(v4[1]!, `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`);
  }
  const [head = '', tail] = text.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - headParts.length - tailParts.length).fill('0');
  return [...headParts, ...fill, ...tailParts].reduce(
    (acc, part) => (acc << 16n) + BigInt(parseInt(part || '0', 16)),
    0n,
  );
}

function inCidr(address: string, entry: string): boolean {
  const [base = '', bitsText = ''] = entry.split('/');
  const family = isIP(base);
  if (family === 0 || family !== isIP(address)) return false;
  const width = family === 4 ? 32 : 128;
  const bits = Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > width) return false;
  if (family === 4) {
    if (bits === 0) return true;
    const mask = bits === 32 ? 0xffffffff : ~(0xffffffff >>> bits) >>> 0;
    return (ipv4ToInt(address) & mask) >>> 0 === (ipv4ToInt(base) & mask) >>> 0;
  }
  const shift = BigInt(128 - bits);
  return ipv6ToBigInt(address) >> shift === ipv6ToBigInt(base) >> shift;
}

/**
 * curl's NO_PROXY matching (CURLOPT_NOPROXY, field-notes §1.4): a comma-separated list; `*` alone matches every
 * host; a name matches itself and its subdomains (`example.com` matches `a.example.com`, not `badexample.com`), a
 * leading dot is ignored; an IP address matches exactly, a CIDR range (curl ≥ 7.86) by prefix; IPv6 without
 * brackets. Case-insensitive. Returns the entry that matched, or null.
 */
export function noProxyMatch(host: string, list: string): string | null {
  const name = host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  const entries = list
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  if (entries.length === 1 && entries[0] === '*') return '*';
  for (const raw of entries) {
    const entry = raw.replace(/^\[(.*)\]$/, '$1');
    if (isIP(name)) {
      if (entry.includes('/') ? inCidr(name, entry) : isIP(entry) && ipEquals(name, entry)) return raw;
      continue;
    }
    const suffix = entry.replace(/^\./, '').replace(/\.$/, '');
    if (suffix && (name === suffix || name.endsWith(`.${suffix}`))) return raw;
  }
  return null;
}

function ipEquals(a: string, b: string): boolean {
  if (isIP(a) !== isIP(b)) return false;
  return isIP(a) === 4 ? a === b : ipv6ToBigInt(a) === ipv6ToBigInt(b);
}

/** The flags that decide the proxy: `--proxy URL`, `--noproxy LIST` (curl's), `--no-proxy` (ignore the environment). */
export interface ProxyFlags {
  proxy?: string;
  /** curl's `--noproxy LIST`: replaces no_proxy/NO_PROXY; `""` keeps the proxy for every host. */
  noProxyList?: string;
  noProxy?: boolean;
}

/** The exceptions list of a run: `--noproxy LIST` wins over no_proxy/NO_PROXY (curl: CURLOPT_NOPROXY). */
function exceptionsList(flags: ProxyFlags, env: NodeJS.ProcessEnv): { name: string; value: string } | undefined {
  if (flags.noProxyList !== undefined) return { name: '--noproxy', value: flags.noProxyList };
  if (flags.noProxy) return undefined;
  return envPair(env, 'no_proxy');
}

/** Where a proxy setting came from, for people: `--proxy`, or `HTTPS_PROXY from the environment`. */
export function proxySourceWords(source: string): string {
  return source.startsWith('--') ? source : `${source} from the environment`;
}

/**
 * Decide the proxy for TLS connections to `endpoint`, as curl does (field-notes §1.4; CURLOPT_PROXY,
 * CURLOPT_NOPROXY): `--proxy`, else (unless `--no-proxy`) `https_proxy`/`HTTPS_PROXY`, then `all_proxy`/`ALL_PROXY`;
 * then the exceptions, `--noproxy LIST` or else `no_proxy`/`NO_PROXY` (not with `--no-proxy`), exempt the endpoint
 * from either (curl applies NO_PROXY to `-x` too since 7.53; `--noproxy ""` keeps the proxy). `reason` says in one
 * line why a proxy is or is not used. Errors: UsageError for a malformed URL (naming its flag or variable).
 */
export function chooseProxy(endpoint: string, flags: ProxyFlags, env: NodeJS.ProcessEnv = process.env): ProxyChoice {
  let found: { name: string; value: string } | undefined;
  if (flags.proxy !== undefined && flags.proxy !== '') found = { name: '--proxy', value: flags.proxy };
  else if (flags.noProxy) {
    const note = '--no-proxy: proxy environment variables ignored';
    return { proxy: null, reason: note, note };
  } else found = envPair(env, 'https_proxy') ?? envPair(env, 'all_proxy');
  if (!found) {
    return {
      proxy: null,
      reason: 'no proxy configured (no --proxy; https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY unset)',
    };
  }
  const proxy = parseProxyUrl(found.value, found.name);
  const exceptions = exceptionsList(flags, env);
  const matched = exceptions ? noProxyMatch(endpoint, exceptions.value) : null;
  if (exceptions && matched !== null) {
    const entry = matched === '*' ? '"*" (every host)' : `"${matched}"`;
    const keep = exceptions.name === '--noproxy' ? '' : ' (--noproxy "" keeps the proxy)';
    const note = `no proxy: ${exceptions.name} entry ${entry} exempts ${endpoint} from ${found.name}${keep}`;
    return { proxy: null, reason: note, note };
  }
  return { proxy, reason: proxySourceWords(found.name) };
}
