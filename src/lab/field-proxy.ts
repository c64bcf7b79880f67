/**
 * The lab's site proxy: an HTTP CONNECT proxy (RFC 9110 §9.3.6, Basic credentials, a CONNECT port allow-list as
 * Squid's SSL_ports: field-notes §1.3) or a SOCKS5 proxy (RFC 1928, user/password RFC 1929, REP 2 for a refused
 * port), on loopback, that resolves the endpoint name itself (as real proxies do: field-notes §1.2) by mapping
 * `<endpoint>:<AWS port>` to the lab's listener. Every read has a deadline and a size cap.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { isIP } from 'node:net';

/** Where a tunnel to `host:port` really goes, or null when the name is unknown to the proxy. */
export type UpstreamMap = (host: string, port: number) => { host: string; port: number } | null;

/** A lab proxy's settings. */
export interface LabProxyOptions {
  kind: 'http' | 'socks5';
  bind: string;
  /** user → password; when set, the proxy wants them (407 / SOCKS5 method 2). */
  users?: Record<string, string>;
  /** Ports a tunnel may reach; default any. */
  allowPorts?: number[];
  upstream: UpstreamMap;
  /** Deadline of the client's request and of the upstream connect, ms (default 5000). */
  timeoutMs?: number;
}

/** A running lab proxy. */
export interface LabProxy {
  port: number;
  /** Tunnels requested, and how each was answered ("200", "407", "REP 2" …). */
  answers: string[];
  close(): Promise<void>;
}

const MAX_REQUEST_BYTES = 8 * 1024;

/** Read from `socket` until `complete(buffer)` says how many bytes make the request, with a deadline and a cap. */
function readRequest(socket: Socket, complete: (b: Buffer) => number, timeoutMs: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const done = (value: Buffer | null): void => {
      clearTimeout(timer);
      socket.off('data', onData).off('close', onClose);
      socket.pause();
      resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const n = complete(buf);
      if (n > 0) {
        const rest = buf.subarray(n);
        done(buf.subarray(0, n));
        if (rest.length) socket.unshift(rest);
      } else if (buf.length > MAX_REQUEST_BYTES) done(null);
    };
    const onClose = (): void => done(null);
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.on('data', onData).on('close', onClose);
    socket.resume();
  });
}

/** Connect to the upstream (deadline), or null. */
function openUpstream(target: { host: string; port: number }, timeoutMs: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const up = connect(target.port, target.host);
    const timer = setTimeout(() => {
      up.destroy();
      resolve(null);
    }, timeoutMs);
    up.once('connect', () => {
      clearTimeout(timer);
      up.removeAllListeners('error');
      resolve(up);
    });
    up.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

function splice(a: Socket, b: Socket): void {
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.pipe(b);
  b.pipe(a);
  a.resume();
}

function basicOk(header: string | undefined, users: Record<string, string>): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header?.trim() ?? '');
  if (!m) return false;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const at = text.indexOf(':');
  return at > 0 && users[text.slice(0, at)] === text.slice(at + 1);
}

/** The HTTP CONNECT dialogue of one client connection. */
async function httpClient(socket: Socket, opts: LabProxyOptions, answers: string[]): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const head = await readRequest(socket, (b) => (b.indexOf('\r\n\r\n') < 0 ? 0 : b.indexOf('\r\n\r\n') + 4), timeoutMs);
  if (!head) return void socket.destroy();
  const lines = head.toString('latin1').split('\r\n');
  const m = /^CONNECT (\[[^\]]+\]|[^\s:]+):(\d+) HTTP\/1\.[01]$/.exec(lines[0] ?? '');
  const reply = (status: string, extra: string[] = []): void => {
    answers.push(status.split(' ')[0]!);
    socket.end([`HTTP/1.1 ${status}`, ...extra, 'Content-Length: 0', '', ''].join('\r\n'));
  };
  if (!m) return reply('405 Method Not Allowed');
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1');
  const port = Number(m[2]);
  const auth = lines.find((l) => /^proxy-authorization:/i.test(l))?.replace(/^[^:]*:/, '');
  if (opts.users && !basicOk(auth, opts.users)) {
    return reply('407 Proxy Authentication Required', ['Proxy-Authenticate: Basic realm="iot-doctor lab proxy"']);
  }
  if (opts.allowPorts && !opts.allowPorts.includes(port)) return reply('403 Forbidden');
  const target = opts.upstream(host, port);
  const up = target ? await openUpstream(target, timeoutMs) : null;
  if (!up) return reply(target ? '503 Service Unavailable' : '502 Bad Gateway');
  answers.push('200');
  socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
  splice(socket, up);
}

/** Bytes of a complete SOCKS5 request (RFC 1928 §4), or 0. */
function socksRequestLength(b: Buffer): number {
  if (b.length < 5) return 0;
  const atyp = b[3];
  const len = atyp === 1 ? 10 : atyp === 4 ? 22 : atyp === 3 ? 7 + b[4]! : -1;
  return len < 0 ? b.length : b.length >= len ? len : 0;
}

function socksTarget(req: Buffer): { host: string; port: number } | null {
  const atyp = req[3];
  if (atyp === 1 && req.length >= 10) return { host: [...req.subarray(4, 8)].join('.'), port: req.readUInt16BE(8) };
  if (atyp === 3) return { host: req.subarray(5, 5 + req[4]!).toString('latin1'), port: req.readUInt16BE(5 + req[4]!) };
  if (atyp === 4 && req.length >= 22) {
    const parts = [];
    for (let i = 0; i < 8; i++) parts.push(req.readUInt16BE(4 + 2 * i).toString(16));
    return { host: parts.join(':'), port: req.readUInt16BE(20) };
  }
  return null;
}

/** RFC 1928 method selection and RFC 1929 user/password; true when the client may go on. */
async function socksGreeting(socket: Socket, opts: LabProxyOptions, timeoutMs: number): Promise<boolean> {
  const hello = await readRequest(socket, (b) => (b.length >= 2 && b.length >= 2 + b[1]! ? 2 + b[1]! : 0), timeoutMs);
  if (!hello || hello[0] !== 5) return false;
  const methods = [...hello.subarray(2)];
  const wanted = opts.users ? 2 : 0;
  if (!methods.includes(wanted)) {
    socket.end(Buffer.from([5, 0xff]));
    return false;
  }
  socket.write(Buffer.from([5, wanted]));
  if (!opts.users) return true;
  const auth = await readRequest(
    socket,
    (b) => {
      if (b.length < 2) return 0;
      const ulen = b[1]!;
      return b.length >= 3 + ulen && b.length >= 3 + ulen + b[2 + ulen]! ? 3 + ulen + b[2 + ulen]! : 0;
    },
    timeoutMs,
  );
  if (!auth) return false;
  const ulen = auth[1]!;
  const user = auth.subarray(2, 2 + ulen).toString('utf8');
  const pass = auth.subarray(3 + ulen).toString('utf8');
  const ok = opts.users[user] === pass;
  socket.write(Buffer.from([1, ok ? 0 : 1]));
  if (!ok) socket.end();
  return ok;
}

/** The SOCKS5 dialogue of one client connection. */
async function socksClient(socket: Socket, opts: LabProxyOptions, answers: string[]): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  if (!(await socksGreeting(socket, opts, timeoutMs))) return void socket.destroy();
  const req = await readRequest(socket, socksRequestLength, timeoutMs);
  const target = req && req[1] === 1 ? socksTarget(req) : null;
  const reply = (rep: number): void => {
    answers.push(`REP ${rep}`);
    socket.write(Buffer.from([5, rep, 0, 1, 0, 0, 0, 0, 0, 0]));
  };
  if (!target) {
    reply(7);
    return void socket.end();
  }
  if (opts.allowPorts && !opts.allowPorts.includes(target.port)) {
    reply(2);
    return void socket.end();
  }
  const mapped = opts.upstream(target.host, target.port);
  const up = mapped ? await openUpstream(mapped, timeoutMs) : null;
  if (!up) {
    reply(mapped ? 5 : 4);
    return void socket.end();
  }
  reply(0);
  splice(socket, up);
}

/** Start a lab proxy on `bind`, an ephemeral port. */
export async function startLabProxy(opts: LabProxyOptions): Promise<LabProxy> {
  const answers: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pause();
    const dialogue = opts.kind === 'http' ? httpClient(socket, opts, answers) : socksClient(socket, opts, answers);
    dialogue.catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, opts.bind, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    answers,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** `host` as it goes into a URL (IPv6 in brackets). */
export function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}
