/**
 * The proxy stage of a route: over a TCP connection already open to the proxy, ask it for a tunnel to the endpoint
 * (HTTP CONNECT, or a SOCKS5 CONNECT through the `socks` package) and classify its answer. On success the same
 * connection carries the TLS handshake. Every wait has a deadline and the proxy's reply is read into a capped buffer.
 *
 * Sources: HTTP CONNECT and 407 (MDN CONNECT; RFC 9110 §9.3.6, §15.5.8), SOCKS5 (RFC 1928 §4, §6; user/password
 * RFC 1929), the outcomes worth telling apart (field-notes §1.2).
 */
import type { Socket } from 'node:net';
import { isIP } from 'node:net';
import { errorMessage } from '../errors.js';
import type { ProxyConfig } from './proxy-config.js';

/** Codes of the proxy stage. */
export type ProxyStageCode =
  | 'PROXY_CONNECT_OK'
  | 'PROXY_AUTH_REQUIRED'
  | 'PROXY_DENIED'
  | 'PROXY_TARGET_UNREACHABLE'
  | 'PROXY_ERROR'
  | 'PROXY_CLOSED'
  | 'PROXY_TIMEOUT'
  | 'PROXY_BAD_REPLY';

/** SOCKS5 reply codes (REP), RFC 1928 §6. */
export const SOCKS5_REPLIES: Readonly<Record<number, string>> = {
  0: 'succeeded',
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

/** The proxy's answer, as evidence for the `proxy` cell. Never holds the credentials. */
export interface ProxyStageResult {
  ok: boolean;
  code: ProxyStageCode;
  /** One line for people. */
  message: string;
  durationMs: number;
  kind: ProxyConfig['kind'];
  /** What the proxy was asked to reach (`host:port`, a name when the proxy resolves it). */
  requested: string;
  /** HTTP: the status code and the status line word for word. */
  status?: number;
  statusLine?: string;
  /** HTTP: the Proxy-Authenticate challenges of a 407. */
  proxyAuthenticate?: string[];
  /** SOCKS5: the REP code and its RFC 1928 name. */
  rep?: number;
  repName?: string;
  /** Whether credentials were sent (never the credentials). */
  credentialsSent: boolean;
  bytesFromProxy: number;
}

/** Largest HTTP reply header accepted from a proxy before giving up (bytes). */
export const MAX_PROXY_REPLY_BYTES = 16 * 1024;

function authority(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** The CONNECT request (RFC 9110 §9.3.6): authority form, the same Host, Basic credentials when configured. */
export function connectRequest(proxy: ProxyConfig, host: string, port: number, userAgent: string): string {
  const target = authority(host, port);
  const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`, `User-Agent: ${userAgent}`];
  if (proxy.user !== undefined) {
    const token = Buffer.from(`${proxy.user}:${proxy.password ?? ''}`, 'utf8').toString('base64');
    lines.push(`Proxy-Authorization: Basic ${token}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

interface ParsedReply {
  status: number;
  statusLine: string;
  proxyAuthenticate: string[];
}

/** Parse the status line and the Proxy-Authenticate headers of a proxy's reply header block; null when not HTTP. */
export function parseProxyReply(head: string): ParsedReply | null {
  const lines = head.split('\r\n');
  const statusLine = lines[0] ?? '';
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})(?: .*)?$/.exec(statusLine);
  if (!m) return null;
  const proxyAuthenticate = lines
    .slice(1)
    .filter((l) => /^proxy-authenticate\s*:/i.test(l))
    .map((l) => l.slice(l.indexOf(':') + 1).trim());
  return { status: Number(m[1]), statusLine, proxyAuthenticate };
}

function classifyStatus(status: number): ProxyStageCode {
  if (status >= 200 && status < 300) return 'PROXY_CONNECT_OK';
  if (status === 407) return 'PROXY_AUTH_REQUIRED';
  if (status === 502 || status === 503 || status === 504) return 'PROXY_TARGET_UNREACHABLE';
  if (status >= 400 && status < 500) return 'PROXY_DENIED';
  return 'PROXY_ERROR';
}

function statusMessage(reply: ParsedReply, requested: string): string {
  const code = classifyStatus(reply.status);
  if (code === 'PROXY_CONNECT_OK') return `tunnel to ${requested} open: "${reply.statusLine}"`;
  if (code === 'PROXY_AUTH_REQUIRED') {
    const challenge = reply.proxyAuthenticate.length
      ? ` (Proxy-Authenticate: ${reply.proxyAuthenticate.join(', ')})`
      : '';
    return `the proxy wants credentials: "${reply.statusLine}"${challenge}`;
  }
  return `the proxy refused CONNECT ${requested}: "${reply.statusLine}"`;
}

type StageVerdict = Omit<ProxyStageResult, 'durationMs' | 'kind' | 'requested' | 'credentialsSent' | 'bytesFromProxy'>;

const NOT_HTTP: StageVerdict = {
  ok: false,
  code: 'PROXY_BAD_REPLY',
  message: 'the proxy answered CONNECT with something that is not HTTP',
};

/**
 * The verdict on the bytes a proxy sent so far in answer to CONNECT: null while the header is incomplete (and
 * plausible), else the verdict and the length of the header (bytes after it belong to the tunnel).
 */
export function replyVerdict(
  received: Buffer,
  requested: string,
): { verdict: StageVerdict; headerBytes: number } | null {
  const end = received.indexOf('\r\n\r\n');
  if (end < 0) {
    if (received.length > MAX_PROXY_REPLY_BYTES) {
      const message = `the proxy's reply header exceeds ${MAX_PROXY_REPLY_BYTES} bytes`;
      return { verdict: { ok: false, code: 'PROXY_BAD_REPLY', message }, headerBytes: received.length };
    }
    const notHttp = received.length >= 5 && !received.subarray(0, 5).equals(Buffer.from('HTTP/'));
    return notHttp ? { verdict: NOT_HTTP, headerBytes: received.length } : null;
  }
  const reply = parseProxyReply(received.subarray(0, end).toString('latin1'));
  if (!reply) return { verdict: NOT_HTTP, headerBytes: end + 4 };
  const code = classifyStatus(reply.status);
  const verdict: StageVerdict = {
    ok: code === 'PROXY_CONNECT_OK',
    code,
    message: statusMessage(reply, requested),
    status: reply.status,
    statusLine: reply.statusLine,
    ...(reply.proxyAuthenticate.length ? { proxyAuthenticate: reply.proxyAuthenticate } : {}),
  };
  return { verdict, headerBytes: end + 4 };
}

/**
 * HTTP CONNECT over `socket` (open to the proxy). Resolves once the reply header is complete, the proxy closes,
 * `timeoutMs` passes or the header exceeds MAX_PROXY_REPLY_BYTES; bytes after the header go back into the socket.
 * On failure the socket is destroyed. Never rejects.
 */
export function httpConnect(
  socket: Socket,
  proxy: ProxyConfig,
  target: { host: string; port: number },
  opts: { timeoutMs: number; userAgent: string },
): Promise<ProxyStageResult> {
  const started = performance.now();
  const requested = authority(target.host, target.port);
  const base = { kind: proxy.kind, requested, credentialsSent: proxy.user !== undefined };
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const finish = (result: StageVerdict, headerBytes = received.length): void => {
      clearTimeout(timer);
      socket.off('data', onData).off('close', onClose).off('error', onError);
      if (!result.ok) socket.destroy();
      const durationMs = Math.round(performance.now() - started);
      resolve({ ...base, ...result, bytesFromProxy: headerBytes, durationMs });
    };
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const outcome = replyVerdict(received, requested);
      if (!outcome) return;
      socket.pause();
      finish(outcome.verdict, outcome.headerBytes);
      const rest = received.subarray(outcome.headerBytes);
      if (outcome.verdict.ok && rest.length) socket.unshift(rest);
    };
    const onClose = (): void => {
      const message = `the proxy closed the connection without answering CONNECT ${requested} (${received.length} bytes received)`;
      finish({ ok: false, code: 'PROXY_CLOSED', message });
    };
    const onError = (err: Error): void => {
      const message = `the proxy connection failed during CONNECT: ${errorMessage(err)}`;
      finish({ ok: false, code: 'PROXY_CLOSED', message });
    };
    const timer = setTimeout(() => {
      finish({
        ok: false,
        code: 'PROXY_TIMEOUT',
        message: `no answer to CONNECT ${requested} within ${opts.timeoutMs} ms`,
      });
    }, opts.timeoutMs);
    socket.on('data', onData).on('close', onClose).on('error', onError);
    socket.write(connectRequest(proxy, target.host, target.port, opts.userAgent));
  });
}

/** Map an error of the `socks` package to the stage code (and the REP code it names). */
export function classifySocksError(message: string): { code: ProxyStageCode; rep?: number } {
  const rejected = /Socks5 proxy rejected connection - (\w+)/i.exec(message);
  if (rejected) {
    const names = [
      'Granted',
      'Failure',
      'NotAllowed',
      'NetworkUnreachable',
      'HostUnreachable',
      'ConnectionRefused',
      'TTLExpired',
      'CommandNotSupported',
      'AddressNotSupported',
    ];
    const rep = names.indexOf(rejected[1]!);
    if (rep === 2) return { code: 'PROXY_DENIED', rep };
    if (rep >= 3 && rep <= 6) return { code: 'PROXY_TARGET_UNREACHABLE', rep };
    return { code: 'PROXY_ERROR', ...(rep >= 0 ? { rep } : {}) };
  }
  if (/Authentication failed|no accepted authentication type/i.test(message)) return { code: 'PROXY_AUTH_REQUIRED' };
  if (/timed out/i.test(message)) return { code: 'PROXY_TIMEOUT' };
  if (/Socket closed/i.test(message)) return { code: 'PROXY_CLOSED' };
  return { code: 'PROXY_BAD_REPLY' };
}

function socksMessage(
  code: ProxyStageCode,
  requested: string,
  rep: number | undefined,
  raw: string,
  withAuth: boolean,
): string {
  if (rep !== undefined)
    return `the SOCKS5 proxy answered CONNECT ${requested} with REP ${rep} (${SOCKS5_REPLIES[rep] ?? 'unknown'})`;
  if (code === 'PROXY_AUTH_REQUIRED') {
    return withAuth
      ? 'the SOCKS5 proxy refused the user name and password (RFC 1929)'
      : 'the SOCKS5 proxy accepts no method we offered: it wants a user name and password (RFC 1928 method 0xFF)';
  }
  if (code === 'PROXY_TIMEOUT') return `no SOCKS5 answer for ${requested} in time`;
  if (code === 'PROXY_CLOSED') return `the SOCKS5 proxy closed the connection during the handshake for ${requested}`;
  return `the SOCKS5 handshake failed: ${raw}`;
}

/**
 * SOCKS5 CONNECT (RFC 1928) over `socket` (open to the proxy), with user/password (RFC 1929) when configured.
 * socks5h sends the name (ATYP 3, the proxy resolves it); socks5 sends `target.address` (resolved locally).
 * Never rejects; on failure the socket is destroyed.
 */
export async function socks5Connect(
  socket: Socket,
  proxy: ProxyConfig,
  target: { host: string; port: number; address?: string },
  opts: { timeoutMs: number },
): Promise<ProxyStageResult> {
  const started = performance.now();
  const host = proxy.kind === 'socks5' && target.address ? target.address : target.host;
  const requested = authority(host, target.port);
  const withAuth = proxy.user !== undefined;
  let bytes = 0;
  const count = (chunk: Buffer): void => {
    bytes += chunk.length;
  };
  socket.on('data', count);
  const base = { kind: proxy.kind, requested, credentialsSent: withAuth };
  const { SocksClient } = await import('socks');
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Error>((resolve) => {
    timer = setTimeout(() => resolve(new Error('Proxy connection timed out')), opts.timeoutMs);
  });
  const attempt = SocksClient.createConnection({
    proxy: {
      host: proxy.host,
      port: proxy.port,
      type: 5,
      ...(withAuth ? { userId: proxy.user!, password: proxy.password ?? '' } : {}),
    },
    command: 'connect',
    destination: { host, port: target.port },
    timeout: opts.timeoutMs,
    existing_socket: socket,
  }).then(
    () => null,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
  const error = await Promise.race([attempt, deadline]);
  clearTimeout(timer);
  // The package resumes the socket on the next tick after success: let it, before TLS takes the socket over.
  if (!error) await new Promise((resolve) => setImmediate(resolve));
  socket.off('data', count);
  const durationMs = Math.round(performance.now() - started);
  if (!error) {
    return {
      ...base,
      ok: true,
      code: 'PROXY_CONNECT_OK',
      rep: 0,
      repName: SOCKS5_REPLIES[0]!,
      durationMs,
      bytesFromProxy: bytes,
      message: `tunnel to ${requested} open (SOCKS5 REP 0, succeeded)`,
    };
  }
  socket.destroy();
  const { code, rep } = classifySocksError(error.message);
  return {
    ...base,
    ok: false,
    code,
    durationMs,
    bytesFromProxy: bytes,
    message: socksMessage(code, requested, rep, error.message, withAuth),
    ...(rep !== undefined ? { rep, repName: SOCKS5_REPLIES[rep] ?? 'unknown' } : {}),
  };
}

/** The proxy stage for any configured proxy kind. */
export function proxyConnect(
  socket: Socket,
  proxy: ProxyConfig,
  target: { host: string; port: number; address?: string },
  opts: { timeoutMs: number; userAgent: string },
): Promise<ProxyStageResult> {
  return proxy.kind === 'http' ? httpConnect(socket, proxy, target, opts) : socks5Connect(socket, proxy, target, opts);
}
