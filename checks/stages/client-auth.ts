/**
 * Stage `client-auth` (`route.<route>.client-auth`): the server accepts the client certificate. With TLS 1.3 the
 * server's verdict comes after the client's Finished (RFC 8446 §4.4.2): an alert, or (Node servers) a plain close.
 * So the stage watches the connection for about one round trip after the handshake. With TLS 1.2 a rejection already
 * failed the tls stage, which settled this row.
 */
import type { TLSSocket } from 'node:tls';
import { alertFromError } from '../../src/probes/tls.js';
import { sClientCommand } from '../route-reproduce.js';
import type { RouteRun, StageDef, StageOutcome } from '../route-stage.js';

type ClientAuthVerdict =
  { ok: true; waitedMs: number } | { ok: false; how: string; alert?: { number: number; name: string } };

/**
 * Give the server `graceMs` to reject the client certificate: resolves `ok` when the connection is still open then,
 * or with how it ended (alert, error, close).
 */
function observeClientAuth(socket: TLSSocket, graceMs: number): Promise<ClientAuthVerdict> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (value: ClientAuthVerdict): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onClose);
      resolve(value);
    };
    const onError = (err: Error): void => {
      const alert = alertFromError(err);
      const how = alert ? `alert ${alert.name} (${alert.number})` : `error: ${err.message}`;
      done({ ok: false, how, ...(alert ? { alert } : {}) });
    };
    const onClose = (): void =>
      done({ ok: false, how: 'closed the connection right after the handshake, without an alert' });
    const timer = setTimeout(() => done({ ok: true, waitedMs: Math.round(performance.now() - started) }), graceMs);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

function noCredentials(run: RouteRun): StageOutcome {
  const { target } = run.ctx;
  // AWS IoT needs the client certificate on every one of these routes: without it nothing after TLS can be
  // tried, which is worth a warning, not a silent skip.
  return {
    stage: 'client-auth',
    status: 'warn',
    code: 'NO_CLIENT_CREDENTIALS',
    durationMs: 0,
    summary:
      target.certPath || target.keyPath
        ? 'the client certificate and key are not usable (see the files checks): ' +
          'client-auth, protocol and round trip cannot be tried'
        : 'no client certificate and key given (--cert, --key): client-auth, protocol and round trip cannot be tried',
    hint: 'Give the device certificate and its private key with --cert and --key.',
  };
}

/** The `client-auth` stage: the observation window is 1.5 × the TCP connect time + 25 ms, within 50..1000 ms. */
export const clientAuthStage: StageDef = {
  id: 'client-auth',
  async run(run) {
    const { credentials, target } = run.ctx;
    if (!credentials.cert || !credentials.key) return [noCredentials(run)];
    const tls = run.tls!;
    const graceMs = Math.min(1000, Math.max(50, Math.round((run.tcpMs ?? 0) * 1.5) + 25));
    const auth = await observeClientAuth(tls.socket, graceMs);
    if (auth.ok) {
      return [
        {
          stage: 'client-auth',
          status: 'pass',
          code: 'CLIENT_CERT_ACCEPTED',
          durationMs: auth.waitedMs,
          summary: `connection still open ${auth.waitedMs} ms after the handshake with our client certificate`,
          evidence: { certificateId: credentials.cert.certificateId, protocol: tls.protocol },
        },
      ];
    }
    const { address, port } = run.peer!;
    return [
      {
        stage: 'client-auth',
        status: 'fail',
        code: 'CLIENT_CERT_REJECTED',
        durationMs: 0,
        reproduce: sClientCommand(target, run.spec, address, port),
        summary: `the server rejected the client certificate: ${auth.how}`,
        evidence: {
          certificateId: credentials.cert.certificateId,
          protocol: tls.protocol,
          ...(auth.alert ? { alert: auth.alert.name, alertNumber: auth.alert.number } : {}),
        },
      },
    ];
  },
};
