import { connect, type Socket } from 'node:net';
import { errorCode, errorMessage } from '../errors.js';

export type TcpFailureCode = 'TCP_REFUSED' | 'TCP_TIMEOUT' | 'TCP_UNREACHABLE' | 'TCP_RESET' | 'TCP_ERROR';

export type TcpOutcome =
  | { ok: true; socket: Socket; durationMs: number; localAddress?: string; localPort?: number }
  | { ok: false; code: TcpFailureCode; message: string; durationMs: number; systemCode?: string };

/** Open a TCP connection with a deadline; classify refused (RST), silently dropped (timeout) and unreachable. */
export function connectTcp(address: string, port: number, timeoutMs: number): Promise<TcpOutcome> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, code: 'TCP_TIMEOUT', message: `no answer from ${address}:${port} within ${timeoutMs} ms`, durationMs: elapsed() });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      // MQTT and HTTP packets of the probe are small: send each at once, as device SDKs do.
      socket.setNoDelay(true);
      resolve({ ok: true, socket, durationMs: elapsed(), localAddress: socket.localAddress, localPort: socket.localPort });
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      const systemCode = errorCode(err);
      const code: TcpFailureCode =
        systemCode === 'ECONNREFUSED'
          ? 'TCP_REFUSED'
          : systemCode === 'EHOSTUNREACH' || systemCode === 'ENETUNREACH' || systemCode === 'EACCES' || systemCode === 'EPERM'
            ? 'TCP_UNREACHABLE'
            : systemCode === 'ECONNRESET'
              ? 'TCP_RESET'
              : systemCode === 'ETIMEDOUT'
                ? 'TCP_TIMEOUT'
                : 'TCP_ERROR';
      resolve({ ok: false, code, message: errorMessage(err), durationMs: elapsed(), ...(systemCode ? { systemCode } : {}) });
    });
  });
}
