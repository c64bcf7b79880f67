/** Small network helpers for the lab: address checks, listening, and keeping track of every open socket. */
import { isIP, type Server, createServer, type Socket, type AddressInfo } from 'node:net';

/** True for 127.0.0.0/8, ::1 and IPv4-mapped 127.x addresses. */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  if (a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return isIP(v4) === 4 && v4.split('.')[0] === '127';
}

/**
 * Resolve and check the bind address. `localhost` means 127.0.0.1. Anything that is not a loopback IP is refused
 * unless explicitly allowed, so the lab never listens on a real network by accident.
 */
export function checkBindAddress(bind: string | undefined, allowNonLoopback: boolean): string {
  const raw = (bind ?? '127.0.0.1').trim();
  const address = raw === 'localhost' ? '127.0.0.1' : raw.replace(/^\[(.*)\]$/, '$1');
  if (isIP(address) === 0) {
    throw new Error(`lab bind address "${raw}" is not an IP address; use 127.0.0.1 or ::1`);
  }
  if (!isLoopback(address) && !allowNonLoopback) {
    throw new Error(
      `lab refuses to listen on ${address}: only loopback addresses (127.0.0.0/8, ::1) are allowed, ` +
        'so the lab is never reachable from another machine',
    );
  }
  return address;
}

/** `host` as it appears in a URL or a curl `--connect-to` value (IPv6 in brackets). */
export function hostForUrl(address: string): string {
  return isIP(address) === 6 ? `[${address}]` : address;
}

/** Listens on `host:port` (0: ephemeral, `exclusive`) and resolves to the bound port; rejects on a bind error. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops `server` listening; resolves once its connections are gone (at once if it never listened). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

/** Ports below every common ephemeral range (Linux 32768-60999, BSD/macOS/Windows 49152-65535). */
const QUIET_PORTS = { from: 20_000, to: 32_767 };

/**
 * A port that was free a moment ago and stays free: bind, read the port, close. Used for "connection refused" and
 * for mosquitto. Picked below the ephemeral range, where the kernel never hands a port to a `listen(0)` or an
 * outgoing connection, so another server of a busy machine cannot take it between this check and its use; falls back
 * to a kernel-chosen port after 20 ports in use.
 */
export async function reserveClosedPort(host: string): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const candidate = QUIET_PORTS.from + Math.floor(Math.random() * (QUIET_PORTS.to - QUIET_PORTS.from + 1));
    const server = createServer();
    try {
      const port = await listen(server, candidate, host);
      await closeServer(server);
      return port;
    } catch {
      await closeServer(server);
    }
  }
  const server = createServer();
  const port = await listen(server, 0, host);
  await closeServer(server);
  return port;
}

/** Every socket a lab has accepted or opened, so `close()` can end them all. */
export class SocketTracker {
  private readonly sockets = new Set<Socket>();
  private closed = false;

  /** Tracks `socket` until it closes; after `destroyAll()` a new socket is destroyed at once. */
  add(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  get size(): number {
    return this.sockets.size;
  }

  /** Destroys every tracked socket, and every later one. */
  destroyAll(): void {
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}

/** Timers that must not outlive the lab. */
export class TimerSet {
  private readonly timers = new Set<NodeJS.Timeout>();

  /** `setTimeout(fn, ms)` that `clearAll()` can cancel; `ms` in milliseconds. */
  set(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  /** Cancels `t` (no-op for `undefined` or a timer that already ran). */
  clear(t: NodeJS.Timeout | undefined): void {
    if (!t) return;
    clearTimeout(t);
    this.timers.delete(t);
  }

  /** Cancels every pending timer. */
  clearAll(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
