/**
 * Real proxies for the tests, from Debian: Squid (HTTP CONNECT, `http_access` port rules, Basic auth through its
 * basic_ncsa_auth helper with a password file made here) and Dante (SOCKS5, `socks block` port rules). Each gets its
 * own configuration, PID and log files in a folder of the test; the caller starts the returned command (on loopback
 * or inside a namespace) and waits with `waitReady`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A command line that runs a proxy in the foreground, and the log that says when it is ready. */
export interface ProxyCommand {
  cmd: string;
  args: string[];
  log: string;
  ready: RegExp;
}

const BASIC_NCSA = '/usr/lib/squid/basic_ncsa_auth';

/** Why Squid or Dante cannot run here, or null. */
export function proxiesUnavailableReason(): string | null {
  const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  if (!has('squid')) return 'needs squid (Debian package squid)';
  if (!has('danted')) return 'needs danted (Debian package dante-server)';
  if (!existsSync(BASIC_NCSA)) return `needs ${BASIC_NCSA} (Debian package squid)`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0)
    return 'needs root (squid and danted switch users)';
  return null;
}

export interface SquidOptions {
  dir: string;
  address: string;
  port: number;
  /** user → password; when set, every request needs Basic credentials. */
  users?: Record<string, string>;
  /** Ports CONNECT may reach (Squid's stock SSL_ports is 443 only); default: any. */
  allowPorts?: number[];
  /** name → address: Squid's own hosts file instead of /etc/hosts (e.g. to keep it on one address family). */
  hosts?: Record<string, string>;
}

/**
 * Write squid.conf (and the htpasswd file for basic_ncsa_auth) and return the foreground command. Squid switches to
 * the 'proxy' user: every folder above `dir` must be traversable by it.
 */
export function squidCommand(opts: SquidOptions): ProxyCommand {
  mkdirSync(opts.dir, { recursive: true });
  // Squid drops to the 'proxy' user: it must be able to write its logs and read the password file.
  chmodSync(opts.dir, 0o777);
  const p = (f: string): string => join(opts.dir, f);
  const lines = [
    `http_port ${opts.address}:${opts.port}`,
    `pid_filename ${p('squid.pid')}`,
    `cache_log ${p('cache.log')}`,
    `access_log ${p('access.log')}`,
    'cache deny all',
    'shutdown_lifetime 0 seconds',
    'acl CONNECT method CONNECT',
  ];
  if (opts.hosts) {
    writeFileSync(
      p('hosts'),
      Object.entries(opts.hosts)
        .map(([name, address]) => `${address} ${name}\n`)
        .join(''),
    );
    lines.push(`hosts_file ${p('hosts')}`);
  }
  if (opts.allowPorts) {
    lines.push(`acl allowed_ports port ${opts.allowPorts.join(' ')}`, 'http_access deny CONNECT !allowed_ports');
  }
  if (opts.users) {
    const entries = Object.entries(opts.users).map(
      ([user, password]) =>
        `${user}:${execFileSync('openssl', ['passwd', '-apr1', '-stdin'], { input: password, encoding: 'utf8' }).trim()}`,
    );
    writeFileSync(p('htpasswd'), `${entries.join('\n')}\n`, { mode: 0o644 });
    lines.push(
      `auth_param basic program ${BASIC_NCSA} ${p('htpasswd')}`,
      'auth_param basic realm iot-doctor-test-proxy',
      'acl authed proxy_auth REQUIRED',
      'http_access allow authed',
    );
  } else {
    lines.push('http_access allow all');
  }
  lines.push('http_access deny all');
  writeFileSync(p('squid.conf'), `${lines.join('\n')}\n`);
  return {
    cmd: 'squid',
    args: ['-N', '-f', p('squid.conf')],
    log: p('cache.log'),
    ready: /Accepting HTTP Socket connections/,
  };
}

export interface DanteOptions {
  dir: string;
  address: string;
  port: number;
  /** The address Dante connects out from. */
  external: string;
  /** Ports it refuses to connect to (REP 2, "connection not allowed by ruleset"). */
  blockPorts?: number[];
}

/** Write danted.conf (no authentication, optional port blocks) and return the foreground command. */
export function danteCommand(opts: DanteOptions): ProxyCommand {
  mkdirSync(opts.dir, { recursive: true });
  const p = (f: string): string => join(opts.dir, f);
  const any = '0.0.0.0/0';
  const lines = [
    `logoutput: ${p('danted.log')}`,
    `internal: ${opts.address} port = ${opts.port}`,
    `external: ${opts.external}`,
    'socksmethod: none',
    'clientmethod: none',
    'user.privileged: root',
    'user.unprivileged: nobody',
    `client pass { from: ${any} to: ${any} }`,
    ...(opts.blockPorts ?? []).map((port) => `socks block { from: ${any} to: ${any} port = ${port} }`),
    `socks pass { from: ${any} to: ${any} }`,
  ];
  writeFileSync(p('danted.conf'), `${lines.join('\n')}\n`);
  return {
    cmd: 'danted',
    args: ['-f', p('danted.conf'), '-p', p('danted.pid'), '-N', '1'],
    log: p('danted.log'),
    ready: /running/,
  };
}

/** Wait until the proxy's log says it accepts connections (polls the file; throws after `timeoutMs`). */
export async function waitReady(command: ProxyCommand, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (existsSync(command.log) && command.ready.test(readFileSync(command.log, 'utf8'))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const log = existsSync(command.log) ? readFileSync(command.log, 'utf8').slice(-1500) : '(no log)';
  throw new Error(`${command.cmd} did not become ready within ${timeoutMs} ms: ${log}`);
}
