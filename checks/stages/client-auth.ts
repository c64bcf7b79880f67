/**
 * Stage `client-auth` (`route.<route>.client-auth`): the server accepts the client certificate. With TLS 1.3 the
 * server's verdict comes after the client's Finished (RFC 8446 §4.4.2): an alert, or (Node servers) a plain close.
 * So the stage watches the connection for about one round trip after the handshake. With TLS 1.2 a rejection already
 * failed the tls stage, which settled this row.
 */
import type { TLSSocket } from 'node:tls';
import { CLIENT_CERT_ALERTS, alertFromError, type TlsAlert } from '../../src/probes/tls.js';
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

/** The observation window: 1.5 × the TCP connect time + 25 ms, within 50..1000 ms (about one round trip). */
function windowMs(run: RouteRun): number {
  return Math.min(1000, Math.max(50, Math.round((run.tcpMs ?? 0) * 1.5) + 25));
}

function accepted(run: RouteRun, waitedMs: number, summary: string, extra: Record<string, unknown> = {}): StageOutcome {
  const { credentials } = run.ctx;
  return {
    stage: 'client-auth',
    status: 'pass',
    code: 'CLIENT_CERT_ACCEPTED',
    durationMs: waitedMs,
    summary,
    evidence: { certificateId: credentials.cert?.certificateId, protocol: run.tls!.protocol, ...extra },
  };
}

function rejected(run: RouteRun, how: string, extra: Record<string, unknown> = {}, alert?: TlsAlert): StageOutcome {
  const { credentials, target } = run.ctx;
  const { address, port } = run.peer!;
  return {
    stage: 'client-auth',
    status: 'fail',
    code: 'CLIENT_CERT_REJECTED',
    durationMs: 0,
    reproduce: sClientCommand(target, run.spec, address, port),
    summary: `the server rejected the client certificate: ${how}`,
    evidence: {
      certificateId: credentials.cert?.certificateId,
      protocol: run.tls!.protocol,
      ...(alert ? { alert: alert.name, alertNumber: alert.number } : {}),
      ...extra,
    },
  };
}

/**
 * The `client-auth` stage. With the protocol stages to come, it decides nothing yet: the server's first answer over
 * the connection (CONNACK, an HTTP status) proves the certificate was accepted, so the healthy path waits for no
 * window; `settleClientAuth` gives the verdict with the protocol's outcome. Under `--no-protocol` it watches the
 * connection for the observation window (1.5 × the TCP connect time + 25 ms, within 50..1000 ms).
 */
export const clientAuthStage: StageDef = {
  id: 'client-auth',
  async run(run) {
    const { credentials, target } = run.ctx;
    if (!credentials.cert || !credentials.key) return [noCredentials(run)];
    if (target.protocol && run.spec.stages.includes('protocol')) {
      run.clientAuthPending = true;
      return [];
    }
    const auth = await observeClientAuth(run.tls!.socket, windowMs(run));
    if (auth.ok) {
      return [
        accepted(
          run,
          auth.waitedMs,
          `connection still open ${auth.waitedMs} ms after the handshake with our client certificate`,
        ),
      ];
    }
    return [rejected(run, auth.how, {}, auth.alert)];
  },
};

/** Protocol outcomes that mean the server closed or reset the connection without answering anything. */
const NO_ANSWER = new Set<string>([
  'MQTT_CLOSED_BEFORE_CONNECT',
  'MQTT_CLOSED_AFTER_CONNECT',
  'HTTP_CLOSED_WITHOUT_RESPONSE',
  'HTTP_ERROR',
  'CREDENTIALS_NO_RESPONSE',
]);

/** What the protocol's first outcome proves about the connection, in words ("CONNACK", "HTTP 403"). */
function answerOf(first: StageOutcome): string {
  const status = first.evidence?.['status'];
  if (typeof status === 'number') return `HTTP ${status}`;
  if (first.code.startsWith('MQTT_CONNACK')) return 'CONNACK';
  return 'no close';
}

/**
 * Settles a client-auth verdict left pending: `outcomes` are the protocol stage's. A client-certificate alert on the
 * connection (RFC 8446 §6.2) is a rejection. A close or reset without any answer is confirmed on a second connection
 * that sends nothing and watches the observation window, as the stage would have (a server may reject the
 * certificate with a plain close, and AWS IoT closes after CONNECT for a policy or registration problem: facts §3):
 * closed there, the certificate is rejected and the protocol rows are blocked; still open, the protocol failure
 * stands. Any answer (CONNACK, refused or not, an HTTP status) or an open, silent connection proves acceptance.
 * Returns the outcomes to record, client-auth first.
 */
export async function settleClientAuth(run: RouteRun, outcomes: StageOutcome[]): Promise<StageOutcome[]> {
  if (!run.clientAuthPending) return outcomes;
  run.clientAuthPending = false;
  const fate = run.tls!.fate;
  const alert = fate.error ? alertFromError(fate.error) : undefined;
  if (alert && CLIENT_CERT_ALERTS.has(alert.number)) {
    return [rejected(run, `alert ${alert.name} (${alert.number}) after the handshake`, {}, alert)];
  }
  const first = outcomes[0];
  if (!first) return outcomes;
  if (!NO_ANSWER.has(first.code)) {
    const answer = answerOf(first);
    const summary =
      answer === 'no close'
        ? 'the connection made with our client certificate stayed open (the server did not reject it)'
        : `the server answered ${answer} over the connection made with our client certificate`;
    return [accepted(run, 0, summary, { provedBy: answer }), ...outcomes];
  }
  const verdict = await confirmOnSecondConnection(run);
  // Rejected: the route ends at client-auth and the protocol rows show what blocked them.
  return verdict.status === 'pass' ? [verdict, ...outcomes] : [verdict];
}

/** A second connection, idle for the observation window: closed or alerted there means the certificate is refused. */
async function confirmOnSecondConnection(run: RouteRun): Promise<StageOutcome> {
  const started = performance.now();
  const again = await run.reconnect?.();
  if (!again?.tls) {
    const where = again?.outcomes.find((o) => o.status === 'fail' || o.status === 'error');
    const inHandshake = again?.outcomes.find((o) => o.stage === 'client-auth' && o.status === 'fail');
    if (inHandshake) return { ...inHandshake, summary: `${inHandshake.summary} (on a second connection)` };
    return accepted(
      run,
      0,
      'handshake completed with our client certificate; a second connection to confirm it ' +
        `failed at ${where?.stage ?? 'connect'} (${where?.code ?? 'aborted'})`,
      { confirmed: false },
    );
  }
  const graceMs = windowMs(run);
  const auth = await observeClientAuth(again.tls.socket, graceMs);
  again.tls.socket.destroy();
  const ms = Math.round(performance.now() - started);
  const extra = { confirmedOnSecondConnection: true, confirmMs: ms };
  if (!auth.ok)
    return rejected(run, `${auth.how} (seen again on a second connection that sent nothing)`, extra, auth.alert);
  return accepted(
    run,
    ms,
    `a second connection with our client certificate stayed open ${auth.waitedMs} ms after ` +
      'the handshake: the certificate is accepted, the failure is in the protocol',
    extra,
  );
}
