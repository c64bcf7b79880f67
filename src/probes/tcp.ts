import { connect, type Socket } from 'node:net';
import { errorCode, errorMessage } from '../errors.js';

/** Failure codes of a TCP connect (all are route codes of the tcp stage). */
export type TcpFailureCode = 'TCP_REFUSED' | 'TCP_TIMEOUT' | 'TCP_UNREACHABLE' | 'TCP_RESET' | 'TCP_ERROR';

/** The result of `connectTcp`: the open socket, or a classified failure; durations in milliseconds. */
export type TcpOutcome =
  | { ok: true; socket: Socket; durationMs: number; localAddress?: string; localPort?: number }
  | { ok: false; code: TcpFailureCode; message: string; durationMs: number; systemCode?: string };

/**
 * Open a TCP connection to `address` (IPv4 or IPv6 literal) and `port` within `timeoutMs` milliseconds; classify
 * refused (RST: TCP_REFUSED), silently dropped (no answer: TCP_TIMEOUT) and unreachable (ICMP or local policy:
 * TCP_UNREACHABLE). Never rejects. When `signal` aborts first the attempt is destroyed and ends as TCP_ERROR
 * ("aborted"); the caller owns the returned socket (no 'error' listener is left on it).
 */
export function connectTcp(
  address: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<TcpOutcome> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const onAbort = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: false, code: 'TCP_ERROR', message: 'aborted', durationMs: elapsed() });
    };
    const settle = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const timer = setTimeout(() => {
      settle();
      socket.destroy();
      const message = `no answer from ${address}:${port} within ${timeoutMs} ms`;
      resolve({ ok: false, code: 'TCP_TIMEOUT', message, durationMs: elapsed() });
    }, timeoutMs);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      settle();
      socket.removeAllListeners('error');
      // MQTT and HTTP packets of the probe are small: send each at once, as device SDKs do.
      socket.setNoDelay(true);
      resolve({
        ok: true,
        socket,
        durationMs: elapsed(),
        localAddress: socket.localAddress,
        localPort: socket.localPort,
      });
    });
    socket.once('error', (err) => {
      settle();
      socket.destroy();
      const systemCode = errorCode(err);
      const code = classifyTcpError(systemCode);
      resolve({
        ok: false,
        code,
        message: errorMessage(err),
        durationMs: elapsed(),
        ...(systemCode ? { systemCode } : {}),
      });
    });
  });
}

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EACCES', 'EPERM']);

/** The failure code of a connect error by its system code (ECONNREFUSED → TCP_REFUSED, …). */
function classifyTcpError(systemCode: string | undefined): TcpFailureCode {
  if (systemCode === 'ECONNREFUSED') return 'TCP_REFUSED';
  if (systemCode && UNREACHABLE.has(systemCode)) return 'TCP_UNREACHABLE';
  if (systemCode === 'ECONNRESET') return 'TCP_RESET';
  if (systemCode === 'ETIMEDOUT') return 'TCP_TIMEOUT';
  return 'TCP_ERROR';
}
