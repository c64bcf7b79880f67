/**
 * A network test bed made of Linux network namespaces: client ─ router ─ server, joined by veth pairs, addressed
 * from 198.51.100.0/24 only, with no route out of the bed. More clients can be joined to the router through a TUN
 * relay that delays and drops packets (a slow, lossy link). Faults are iptables rules in the router namespace.
 *
 * Every name carries the process id (and a per-process counter), so parallel runs do not collide. `destroy()` removes
 * everything the bed created: helper processes, namespaces (with their interfaces and firewall rules), the
 * /etc/netns/<ns>/ folders and the temporary folder. An exit hook does the same if the process ends without it, and
 * `Bed.create` first removes what beds of earlier, dead processes left behind.
 *
 * Used by the e2e tests (vitest) and by the benchmark (plain node), so nothing here imports vitest.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file with the project's package.json. */
export const REPO_ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tsconfig.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
})();

export const NS_PREFIX = 'iotd';

/** Addresses inside the bed. Only 198.51.100.0/24 is used, and only inside namespaces the bed creates. */
export const ADDR = {
  /** router ─ server link, 198.51.100.0/28 */
  routerServerSide: '198.51.100.1',
  server: '198.51.100.2',
  /** client ─ router link, 198.51.100.16/28 */
  routerClientSide: '198.51.100.17',
  client: '198.51.100.18',
  /** TUN links: point-to-point pairs from 198.51.100.33 up (router side odd, client side even). */
  tunBase: 33,
  bed: '198.51.100.0/24',
} as const;

/**
 * IPv6 addresses of the bed after `enableIpv6()`: the documentation prefix 2001:db8::/32 (RFC 3849) only, inside the
 * bed's namespaces.
 */
export const ADDR6 = {
  routerServerSide: '2001:db8:100::1',
  server: '2001:db8:100::2',
  routerClientSide: '2001:db8:110::1',
  client: '2001:db8:110::2',
  bed: '2001:db8::/32',
} as const;

export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  /** CLOCK_MONOTONIC (ns, `process.hrtime.bigint()`) right before the process was spawned. */
  spawnedAtNs?: bigint;
}

export interface RunOptions {
  /** Kill the process group after this long (default 60 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
}

/** A long-running helper started by the bed; killed (with its whole process group) by `stop()` or `destroy()`. */
export interface Helper {
  name: string;
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves with the first stdout line that matches, rejects when the process exits or the time is up. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Resolves when the process exits by itself; kills it (and rejects) after `timeoutMs`. */
  wait(timeoutMs: number): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM to the helper, then SIGKILL to its process group after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>;
  readonly exited: boolean;
}

export interface TunClientOptions {
  /** Short word used in the namespace name (letters only). */
  name: string;
  /** One-way delay, each direction. */
  delayMs: number;
  /** Share of packets dropped, each direction (0..1). */
  loss: number;
  /** Seed of the relay's random drops (repeatable runs). */
  seed?: number;
  /** Have the relay report every SYN the client sends (see `TunClient.synsSince`). */
  logSyn?: boolean;
}

/** A TCP SYN the client sent, as the relay saw it leave the client namespace (before the link's delay). */
export interface SynSeen {
  /** CLOCK_MONOTONIC in nanoseconds: the clock of `process.hrtime.bigint()`. */
  atNs: bigint;
  port: number;
}

export interface TunClient {
  ns: string;
  address: string;
  routerAddress: string;
  relay: Helper;
  /** SYNs sent at or after `sinceNs` (CLOCK_MONOTONIC ns), oldest first; empty unless created with `logSyn`. */
  synsSince(sinceNs: bigint): SynSeen[];
  /** The relay's packet counts, printed when it stops. */
  stats(): Promise<{ stopped: string; forwarded: number; dropped: number; bytes: number } | undefined>;
}

export interface BedOptions {
  /** Upper bound on the life of every helper the bed starts (default 300 s). */
  maxHelperSeconds?: number;
  /** One line per action, for debugging (default: silent unless IOT_DOCTOR_E2E_DEBUG is set). */
  log?: (line: string) => void;
}

const live = new Set<Bed>();
let counter = 0;
let exitHookInstalled = false;

function sh(cmd: string, args: string[], opts: { allowFail?: boolean; input?: string } = {}): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input ?? '', timeout: 30_000 });
  if (res.error) {
    if (opts.allowFail) return '';
    throw new Error(`${cmd} ${args.join(' ')}: ${res.error.message}`);
  }
  if (res.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}: ${(res.stderr || res.stdout).trim()}`);
  }
  return res.stdout;
}

function commandExists(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** The Python used for the relay: the system one when present (no version shims). */
export function python(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** Why the bed cannot run here, or null when it can (root, `ip netns`, iptables, python3, /dev/net/tun). */
export function bedUnavailableReason(): string | null {
  if (process.platform !== 'linux') return `needs Linux network namespaces (platform ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root for network namespaces';
  if (!commandExists('ip')) return 'needs iproute2 (`ip`)';
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (list.status !== 0) return `\`ip netns\` does not work here: ${(list.stderr || '').trim()}`;
  if (!commandExists('iptables')) return 'needs iptables';
  if (!commandExists(python())) return 'needs python3 (TUN relay)';
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  return null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function namespacePids(ns: string): number[] {
  return sh('ip', ['netns', 'pids', ns], { allowFail: true }).split(/\s+/).filter(Boolean).map(Number);
}

function signalPids(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Stop what still runs inside a namespace of ours: SIGTERM, up to `graceMs` to exit, then SIGKILL. */
function killNamespacePids(ns: string, graceMs = 0): void {
  let pids = namespacePids(ns);
  if (pids.length && graceMs > 0) {
    signalPids(pids, 'SIGTERM');
    const until = Date.now() + graceMs;
    while ((pids = namespacePids(ns)).length && Date.now() < until) spawnSync('sleep', ['0.1']);
  }
  signalPids(pids, 'SIGKILL');
}

/**
 * Remove namespaces (and their /etc/netns folders) that a bed of a process that no longer exists left behind.
 * Only names this module makes are touched: `iotd-<pid>-<n>-<role>`.
 */
export function sweepStale(log: (line: string) => void = () => {}): void {
  const names = sh('ip', ['netns', 'list'], { allowFail: true })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter(Boolean);
  for (const ns of names) {
    const m = new RegExp(`^${NS_PREFIX}-(\\d+)-\\d+-[a-z]+$`).exec(ns);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    log(`removing stale namespace ${ns}`);
    killNamespacePids(ns, 2000);
    sh('ip', ['netns', 'del', ns], { allowFail: true });
  }
  if (existsSync('/etc/netns')) {
    for (const entry of readdirSync('/etc/netns')) {
      const m = new RegExp(`^${NS_PREFIX}-(\\d+)-\\d+-[a-z]+$`).exec(entry);
      if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
      rmSync(join('/etc/netns', entry), { recursive: true, force: true });
    }
  }
  for (const entry of readdirSync(tmpdir())) {
    const m = /^iotd-bed-(\d+)-\d+-/.exec(entry);
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const bed of live) bed.destroySync();
  });
}

export class Bed {
  readonly id: string;
  readonly ns: { client: string; router: string; server: string };
  readonly tmp: string;
  readonly tunClients = new Map<string, TunClient>();
  private readonly helpers = new Set<Helper>();
  private readonly namespaces: string[] = [];
  private readonly etcDirs: string[] = [];
  private readonly hostsEntries = new Map<string, string[]>();
  private ipv6 = false;
  private readonly log: (line: string) => void;
  private readonly maxHelperSeconds: number;
  private destroyed = false;
  private tunCount = 0;

  private constructor(opts: BedOptions) {
    this.id = `${process.pid}-${counter++}`;
    this.ns = {
      client: `${NS_PREFIX}-${this.id}-client`,
      router: `${NS_PREFIX}-${this.id}-router`,
      server: `${NS_PREFIX}-${this.id}-server`,
    };
    this.tmp = mkdtempSync(join(tmpdir(), `iotd-bed-${this.id}-`));
    this.log =
      opts.log ??
      (process.env.IOT_DOCTOR_E2E_DEBUG ? (l) => process.stderr.write(`[bed ${this.id}] ${l}\n`) : () => {});
    this.maxHelperSeconds = opts.maxHelperSeconds ?? 300;
  }

  /** Build client ─ router ─ server. Removes whatever it made if a step fails. */
  static async create(opts: BedOptions = {}): Promise<Bed> {
    const reason = bedUnavailableReason();
    if (reason) throw new Error(`the network test bed cannot run here: ${reason}`);
    sweepStale(opts.log);
    installExitHook();
    const bed = new Bed(opts);
    live.add(bed);
    try {
      bed.build();
    } catch (err) {
      await bed.destroy();
      throw err;
    }
    return bed;
  }

  private ifname(role: string): string {
    // Interface names are at most 15 bytes: 'i' + pid (≤ 7) + counter + role.
    return `i${this.id.replace('-', 'n')}${role}`.slice(0, 15);
  }

  private ip(...args: string[]): void {
    this.log(`ip ${args.join(' ')}`);
    sh('ip', args);
  }

  private addNamespace(ns: string): void {
    this.ip('netns', 'add', ns);
    this.namespaces.push(ns);
    this.ip('-n', ns, 'link', 'set', 'lo', 'up');
    // IPv6 stays off: the bed speaks IPv4 from 198.51.100.0/24 only.
    this.sysctl(ns, 'net.ipv6.conf.all.disable_ipv6', '1');
    this.sysctl(ns, 'net.ipv6.conf.default.disable_ipv6', '1');
    // Name resolution inside: the hosts file below, and a resolver that stays on the namespace's own loopback.
    const etc = join('/etc/netns', ns);
    mkdirSync(etc, { recursive: true });
    this.etcDirs.push(etc);
    writeFileSync(join(etc, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
    this.writeHosts(ns);
  }

  private sysctl(ns: string, key: string, value: string): void {
    sh('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `${key}=${value}`], { allowFail: key.startsWith('net.ipv6') });
  }

  private writeHosts(ns: string): void {
    const lines = [
      '127.0.0.1 localhost',
      ...[...this.hostsEntries].flatMap(([name, addrs]) => addrs.map((a) => `${a} ${name}`)),
    ];
    writeFileSync(join('/etc/netns', ns, 'hosts'), lines.join('\n') + '\n');
  }

  private build(): void {
    const { client, router, server } = this.ns;
    for (const ns of [router, server, client]) this.addNamespace(ns);
    this.sysctl(router, 'net.ipv4.ip_forward', '1');

    const [rs, s, rc, c] = [this.ifname('rs'), this.ifname('s'), this.ifname('rc'), this.ifname('c')];
    this.ip('link', 'add', rs, 'netns', router, 'type', 'veth', 'peer', 'name', s, 'netns', server);
    this.ip('link', 'add', rc, 'netns', router, 'type', 'veth', 'peer', 'name', c, 'netns', client);
    this.ip('-n', router, 'addr', 'add', `${ADDR.routerServerSide}/28`, 'dev', rs);
    this.ip('-n', router, 'addr', 'add', `${ADDR.routerClientSide}/28`, 'dev', rc);
    this.ip('-n', server, 'addr', 'add', `${ADDR.server}/28`, 'dev', s);
    this.ip('-n', client, 'addr', 'add', `${ADDR.client}/28`, 'dev', c);
    for (const [ns, dev] of [
      [router, rs],
      [router, rc],
      [server, s],
      [client, c],
    ] as const)
      this.ip('-n', ns, 'link', 'set', dev, 'up');
    // Routes only within 198.51.100.0/24: nothing can leave the bed.
    this.ip('-n', server, 'route', 'add', ADDR.bed, 'via', ADDR.routerServerSide);
    this.ip('-n', client, 'route', 'add', ADDR.bed, 'via', ADDR.routerClientSide);
  }

  /** Map `name` to `address` in the hosts file of every namespace of the bed (for processes started afterwards). */
  setHost(name: string, address: string = ADDR.server): void {
    this.setHostAddresses(name, [address]);
  }

  /** Map `name` to several addresses (e.g. an A and an AAAA) in the hosts file of every namespace of the bed. */
  setHostAddresses(name: string, addresses: string[]): void {
    this.hostsEntries.set(name, addresses);
    for (const ns of this.namespaces) this.writeHosts(ns);
  }

  /**
   * Turn IPv6 on for client, router and server, with the ADDR6 addresses (no duplicate address detection, so they
   * are usable at once) and routes only within 2001:db8::/32. Afterwards `clearFaults()` also flushes ip6tables.
   */
  enableIpv6(): void {
    const { client, router, server } = this.ns;
    for (const ns of [router, server, client]) {
      this.sysctl(ns, 'net.ipv6.conf.all.disable_ipv6', '0');
      this.sysctl(ns, 'net.ipv6.conf.default.disable_ipv6', '0');
      this.sysctl(ns, 'net.ipv6.conf.lo.disable_ipv6', '0');
    }
    this.sysctl(router, 'net.ipv6.conf.all.forwarding', '1');
    const [rs, s, rc, c] = [this.ifname('rs'), this.ifname('s'), this.ifname('rc'), this.ifname('c')];
    for (const [ns, dev] of [
      [router, rs],
      [router, rc],
      [server, s],
      [client, c],
    ] as const) {
      this.sysctl(ns, `net.ipv6.conf.${dev}.disable_ipv6`, '0');
    }
    this.ip('-n', router, '-6', 'addr', 'add', `${ADDR6.routerServerSide}/64`, 'dev', rs, 'nodad');
    this.ip('-n', router, '-6', 'addr', 'add', `${ADDR6.routerClientSide}/64`, 'dev', rc, 'nodad');
    this.ip('-n', server, '-6', 'addr', 'add', `${ADDR6.server}/64`, 'dev', s, 'nodad');
    this.ip('-n', client, '-6', 'addr', 'add', `${ADDR6.client}/64`, 'dev', c, 'nodad');
    this.ip('-n', server, '-6', 'route', 'add', ADDR6.bed, 'via', ADDR6.routerServerSide);
    this.ip('-n', client, '-6', 'route', 'add', ADDR6.bed, 'via', ADDR6.routerClientSide);
    this.ipv6 = true;
  }

  /** `ip6tables -w ARGS` in the router namespace. */
  ip6tables(...args: string[]): void {
    this.log(`router: ip6tables ${args.join(' ')}`);
    sh('ip', ['netns', 'exec', this.ns.router, 'ip6tables', '-w', ...args]);
  }

  /**
   * Join a new client namespace to the router through two TUN devices and a relay that forwards each packet after
   * `delayMs` and drops a share `loss` of them. The relay stops when the bed is destroyed, when this process goes
   * away (its stdin closes), or after the bed's helper time limit.
   */
  async addTunClient(opts: TunClientOptions): Promise<TunClient> {
    if (!/^[a-z]{1,8}$/.test(opts.name)) throw new Error(`tun client name must be 1-8 lowercase letters: ${opts.name}`);
    const k = this.tunCount++;
    const ns = `${NS_PREFIX}-${this.id}-${opts.name}`;
    const routerAddress = `198.51.100.${ADDR.tunBase + 2 * k}`;
    const address = `198.51.100.${ADDR.tunBase + 2 * k + 1}`;
    this.addNamespace(ns);
    const devRouter = this.ifname(`t${k}`);
    const devClient = this.ifname(`u${k}`);
    // A higher scheduling priority keeps the link's delay close to the nominal one while the client and the lab
    // keep both CPUs busy with TLS handshakes (`nice` execs the relay: same process).
    const relay = this.spawnHelper(`relay-${opts.name}`, null, 'nice', [
      '-n',
      '-15',
      python(),
      join(REPO_ROOT, 'test/e2e/tun-relay.py'),
      '--ns-a',
      this.ns.router,
      '--dev-a',
      devRouter,
      '--ns-b',
      ns,
      '--dev-b',
      devClient,
      '--delay-ms',
      String(opts.delayMs),
      '--loss',
      String(opts.loss),
      '--max-seconds',
      String(this.maxHelperSeconds),
      ...(opts.seed === undefined ? [] : ['--seed', String(opts.seed)]),
      ...(opts.logSyn ? ['--log-syn'] : []),
    ]);
    await relay.waitFor(/^ready$/, 10_000);
    this.ip('-n', this.ns.router, 'addr', 'add', routerAddress, 'peer', address, 'dev', devRouter);
    this.ip('-n', ns, 'addr', 'add', address, 'peer', routerAddress, 'dev', devClient);
    this.ip('-n', this.ns.router, 'link', 'set', devRouter, 'up');
    this.ip('-n', ns, 'link', 'set', devClient, 'up');
    this.ip('-n', ns, 'route', 'add', ADDR.bed, 'dev', devClient);
    const tun: TunClient = {
      ns,
      address,
      routerAddress,
      relay,
      synsSince(sinceNs) {
        const syns: SynSeen[] = [];
        for (const line of relay.output().stdout.split('\n')) {
          const m = /^syn (\d+) (\d+)$/.exec(line);
          if (m && BigInt(m[1]!) >= sinceNs) syns.push({ atNs: BigInt(m[1]!), port: Number(m[2]) });
        }
        return syns;
      },
      async stats() {
        if (!relay.exited) await relay.stop();
        const last = relay.output().stdout.trim().split('\n').at(-1) ?? '';
        try {
          return JSON.parse(last) as { stopped: string; forwarded: number; dropped: number; bytes: number };
        } catch {
          return undefined;
        }
      },
    };
    this.tunClients.set(opts.name, tun);
    return tun;
  }

  /** `iptables -w ARGS` in the router namespace. */
  iptables(...args: string[]): void {
    this.log(`router: iptables ${args.join(' ')}`);
    sh('ip', ['netns', 'exec', this.ns.router, 'iptables', '-w', ...args]);
  }

  /** Packet and byte counters of the router's FORWARD chain and nat PREROUTING chain, as text. */
  counters(): string {
    return [
      sh('ip', ['netns', 'exec', this.ns.router, 'iptables', '-w', '-L', 'FORWARD', '-n', '-v', '-x'], {
        allowFail: true,
      }),
      sh('ip', ['netns', 'exec', this.ns.router, 'iptables', '-w', '-t', 'nat', '-L', 'PREROUTING', '-n', '-v', '-x'], {
        allowFail: true,
      }),
    ].join('\n');
  }

  /** Remove every fault: flush the router's FORWARD and nat PREROUTING chains. */
  clearFaults(): void {
    this.iptables('-F', 'FORWARD');
    this.iptables('-t', 'nat', '-F', 'PREROUTING');
    this.iptables('-t', 'nat', '-F', 'OUTPUT');
    if (this.ipv6) {
      this.ip6tables('-F', 'FORWARD');
      this.ip6tables('-F', 'OUTPUT');
    }
  }

  /** Run a command to completion inside a namespace (`ip netns exec`); null runs it here, outside the bed. */
  run(ns: string | null, cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    const [file, argv] = ns ? ['ip', ['netns', 'exec', ns, cmd, ...args]] : [cmd, args];
    this.log(`run${ns ? ` in ${ns}` : ''}: ${cmd} ${args.join(' ')}`);
    return new Promise((resolve, reject) => {
      const spawnedAtNs = process.hrtime.bigint();
      const child = spawn(file, argv, {
        cwd: opts.cwd ?? REPO_ROOT,
        env: opts.env ?? process.env,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input ?? '');
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child, 'SIGKILL');
      }, opts.timeoutMs ?? 60_000);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (exitCode, signal) => {
        clearTimeout(timer);
        resolve({ exitCode, signal, stdout, stderr, durationMs: performance.now() - started, timedOut, spawnedAtNs });
      });
    });
  }

  /**
   * Start a long-running helper inside a namespace (null: here). Its stdin stays an open pipe, so a helper can tell
   * that this process went away; it is killed with its process group by `stop()` or `destroy()`.
   */
  spawnHelper(
    name: string,
    ns: string | null,
    cmd: string,
    args: string[],
    opts: { env?: NodeJS.ProcessEnv } = {},
  ): Helper {
    if (this.destroyed) throw new Error('bed destroyed');
    const [file, argv] = ns ? ['ip', ['netns', 'exec', ns, cmd, ...args]] : [cmd, args];
    this.log(`start ${name}${ns ? ` in ${ns}` : ''}: ${cmd} ${args.join(' ')}`);
    const child = spawn(file, argv, {
      cwd: REPO_ROOT,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.on('error', () => {});
    let stdout = '';
    let stderr = '';
    let exited = false;
    let exitInfo: { exitCode: number | null; signal: NodeJS.Signals | null } = { exitCode: null, signal: null };
    const lineWaiters = new Set<() => void>();
    const exitPromise = new Promise<void>((resolve) => {
      child.on('close', (exitCode, signal) => {
        exited = true;
        exitInfo = { exitCode, signal };
        for (const w of lineWaiters) w();
        resolve();
      });
      child.on('error', (err) => {
        stderr += `spawn error: ${err.message}\n`;
        exited = true;
        for (const w of lineWaiters) w();
        resolve();
      });
    });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      for (const w of lineWaiters) w();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const bedHelpers = this.helpers;
    const helper: Helper = {
      name,
      child,
      output: () => ({ stdout, stderr }),
      get exited() {
        return exited;
      },
      waitFor(pattern, timeoutMs) {
        return new Promise((resolve, reject) => {
          const check = (): void => {
            const line = stdout.split('\n').find((l) => pattern.test(l));
            if (line !== undefined) {
              done();
              resolve(line);
            } else if (exited) {
              done();
              reject(
                new Error(
                  `${name} exited (${exitInfo.exitCode ?? exitInfo.signal}) before printing ${pattern}: ${stderr.trim().slice(-2000)}`,
                ),
              );
            }
          };
          const timer = setTimeout(() => {
            done();
            reject(
              new Error(
                `${name} did not print ${pattern} within ${timeoutMs} ms; stderr: ${stderr.trim().slice(-2000)}`,
              ),
            );
          }, timeoutMs);
          const done = (): void => {
            clearTimeout(timer);
            lineWaiters.delete(check);
          };
          lineWaiters.add(check);
          check();
        });
      },
      async wait(timeoutMs) {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), timeoutMs);
        });
        const outcome = await Promise.race([exitPromise, late]);
        clearTimeout(timer);
        if (outcome === 'late') {
          await helper.stop(500);
          throw new Error(`${name} did not exit within ${timeoutMs} ms; stderr: ${stderr.trim().slice(-2000)}`);
        }
        bedHelpers.delete(helper);
        return exitInfo;
      },
      async stop(graceMs = 2000) {
        if (!exited) {
          // SIGTERM to the helper alone (it stops its own children); the whole group only gets SIGKILL.
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
          await exitPromise;
          clearTimeout(timer);
        }
        bedHelpers.delete(helper);
        return exitInfo;
      },
    };
    this.helpers.add(helper);
    return helper;
  }

  /** Stop every helper, delete the namespaces and the /etc/netns folders and the temporary folder. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    await Promise.allSettled([...this.helpers].map((h) => h.stop(1500)));
    this.destroySync();
  }

  /** The synchronous part of `destroy()`; also run from the process exit hook. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const h of this.helpers) killGroup(h.child, 'SIGKILL');
    this.helpers.clear();
    for (const ns of [...this.namespaces].reverse()) {
      killNamespacePids(ns);
      sh('ip', ['netns', 'del', ns], { allowFail: true });
    }
    for (const dir of this.etcDirs) rmSync(dir, { recursive: true, force: true });
    rmSync(this.tmp, { recursive: true, force: true });
    live.delete(this);
    this.log('destroyed');
  }

  /** What is left of this bed on the system (namespaces, /etc/netns folders): empty after `destroy()`. */
  leftovers(): string[] {
    const namespaces = sh('ip', ['netns', 'list'], { allowFail: true })
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((n) => n.startsWith(`${NS_PREFIX}-${this.id}-`));
    const dirs = this.etcDirs.filter((d) => existsSync(d));
    return [...namespaces, ...dirs, ...(existsSync(this.tmp) ? [this.tmp] : [])];
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Newest modification time (ms) of the .ts files under `dir`, recursively. */
function newestTs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestTs(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Make sure `dist/` holds a build of the current sources (the bed runs the compiled CLI, lab and helpers inside the
 * namespaces). Runs `tsc -p tsconfig.json` when a compiled file is missing or older than the sources; type errors
 * elsewhere in the project do not stop tsc from writing the files.
 */
export function ensureBuilt(): void {
  const outputs = [
    'dist/src/bin.js',
    'dist/src/lab/index.js',
    'dist/test/e2e/lab-host.js',
    'dist/test/e2e/intercept-proxy.js',
    'dist/test/e2e/watchdog.js',
  ].map((p) => join(REPO_ROOT, p));
  const oldest = Math.min(...outputs.map((p) => (existsSync(p) ? statSync(p).mtimeMs : 0)));
  const newest = Math.max(...['src', 'checks', 'test/e2e'].map((d) => newestTs(join(REPO_ROOT, d))));
  if (oldest > newest) return;
  const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
  spawnSync(process.execPath, [tsc, '-p', join(REPO_ROOT, 'tsconfig.json')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const missing = outputs.filter((p) => !existsSync(p));
  if (missing.length)
    throw new Error(`build did not produce ${missing.join(', ')}: run npx tsc -p tsconfig.json and fix the errors`);
}

/** Run a command synchronously outside the bed (used for certificate fixtures). */
export function execSync(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', ...(cwd ? { cwd } : {}), stdio: ['ignore', 'pipe', 'pipe'] });
}
