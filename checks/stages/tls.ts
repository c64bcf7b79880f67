/**
 * Stage `tls` (`route.<route>.tls`): the TLS handshake with SNI = the endpoint name, ALPN as the route offers, the
 * device certificate and key, then the server chain verified against `--ca` (never Node's default store) and the
 * leaf's name against the endpoint (RFC 6125 via Node's checkServerIdentity). A TLS 1.2 server that rejects the
 * client certificate does it inside the handshake (RFC 5246 §7.4.6): that verdict also settles `alpn` (skip) and
 * `client-auth` (fail).
 */
import type { TlsFailure, TlsSuccess } from '../../src/probes/tls.js';
import { CLIENT_CERT_ALERTS, tlsHandshake } from '../../src/probes/tls.js';
import type { RouteCode } from '../route-codes.js';
import { sClientCommand } from '../route-reproduce.js';
import type { RouteRun, StageDef, StageOutcome } from '../route-stage.js';
import { compareWithDevice, deviceHandshake, recordLimitOutcome, wireEvidence } from './tls-device.js';
import { stepMs } from '../../src/runner/deadline.js';

function failedHandshake(run: RouteRun, handshake: TlsFailure, reproduce: string): StageOutcome[] {
  const { target, credentials } = run.ctx;
  const out: StageOutcome[] = [
    {
      stage: 'tls',
      status: 'fail',
      code: handshake.code,
      durationMs: handshake.durationMs,
      reproduce,
      summary: handshake.alert
        ? `the server aborted the handshake with alert ${handshake.alert.name} (${handshake.alert.number})`
        : handshake.message,
      evidence: {
        sni: deviceHandshake(run).sendSni === false ? null : run.dest.name,
        bytesFromServer: handshake.bytesFromServer,
        ...wireEvidence(handshake.wire),
        ...(handshake.alert ? { alert: handshake.alert.name, alertNumber: handshake.alert.number } : {}),
        ...(handshake.systemCode ? { error: handshake.systemCode } : {}),
      },
    },
  ];
  const alert = handshake.alert;
  if (alert && CLIENT_CERT_ALERTS.has(alert.number)) {
    // TLS 1.2: the server rejects the client certificate inside the handshake. Say so in the row it belongs to.
    out.push({
      stage: 'alpn',
      status: 'skip',
      code: 'SKIPPED',
      durationMs: 0,
      summary: 'blocked by tls: handshake aborted before ALPN was settled',
    });
    out.push({
      stage: 'client-auth',
      status: 'fail',
      code: 'CLIENT_CERT_REJECTED',
      durationMs: 0,
      reproduce,
      summary: `the server rejected the client certificate (alert ${alert.name} during the handshake)`,
      evidence: { alert: alert.name, alertNumber: alert.number, certificateId: credentials.cert?.certificateId },
    });
  }
  return out;
}

/** The code of a chain verification error from Node, or null when the chain verified (names are checked apart). */
function classifyChainError(error: string | null): RouteCode | null {
  // Node reports a name mismatch through authorizationError too; the name is checked separately.
  if (!error || error === 'ERR_TLS_CERT_ALTNAME_INVALID') return null;
  if (error === 'CERT_HAS_EXPIRED') return 'TLS_SERVER_CERT_EXPIRED';
  if (error === 'CERT_NOT_YET_VALID') return 'TLS_SERVER_CERT_NOT_YET_VALID';
  return 'TLS_CHAIN_UNTRUSTED';
}

function chainSummary(code: RouteCode, tls: TlsSuccess): string {
  const leaf = tls.chain[0];
  if (code === 'TLS_SERVER_CERT_EXPIRED') return `the server certificate expired on ${leaf?.validTo ?? '?'}`;
  if (code === 'TLS_SERVER_CERT_NOT_YET_VALID') {
    return `the server certificate is not valid before ${leaf?.validFrom ?? '?'}`;
  }
  const top = tls.chain.at(-1);
  return `the CA file does not verify the server chain (${tls.chainError}); chain ends at "${top?.issuer ?? '?'}"`;
}

function completedHandshake(run: RouteRun, handshake: TlsSuccess, reproduce: string): StageOutcome {
  const { target, credentials } = run.ctx;
  const { address, port } = run.peer!;
  const evidence = {
    address,
    port,
    sni: handshake.sniSent,
    protocol: handshake.protocol,
    cipher: handshake.cipher,
    chain: handshake.chain,
    ...wireEvidence(handshake.wire),
  };
  const base = { stage: 'tls' as const, durationMs: handshake.durationMs };
  const chainCode = classifyChainError(handshake.chainError);
  if (chainCode) {
    return {
      ...base,
      status: 'fail',
      code: chainCode,
      reproduce,
      summary: credentials.ca
        ? chainSummary(chainCode, handshake)
        : 'the CA file given with --ca is unusable (see files.ca), so nothing verifies the server chain',
      evidence: { ...evidence, verifyError: handshake.chainError },
    };
  }
  if (handshake.hostnameError) {
    return {
      ...base,
      status: 'fail',
      code: 'TLS_HOSTNAME_MISMATCH',
      reproduce,
      evidence,
      summary: `the server certificate does not cover ${run.dest.name}: ${handshake.hostnameError}`,
    };
  }
  const tooLarge = recordLimitOutcome(run, handshake.wire, handshake.durationMs);
  if (tooLarge) return { ...tooLarge, reproduce, evidence: { ...evidence, ...tooLarge.evidence } };
  return {
    ...base,
    status: 'pass',
    code: 'TLS_OK',
    evidence,
    summary:
      `${handshake.protocol} ${handshake.cipher}, chain verified, name matches; ` +
      `largest record ${handshake.wire.largestRecordBytes} bytes`,
  };
}

/** Add the comparison handshakes (device settings set only) to the evidence of the failed `tls` outcome. */
async function withComparison(run: RouteRun, outcomes: StageOutcome[]): Promise<StageOutcome[]> {
  const first = outcomes[0];
  if (!first || first.code === 'TLS_RECORD_TOO_LARGE') return outcomes;
  const comparison = await compareWithDevice(run);
  if (Object.keys(comparison).length === 0) return outcomes;
  return [{ ...first, evidence: { ...first.evidence, device: comparison } }, ...outcomes.slice(1)];
}

/** The `tls` stage: sets `run.tls` when the handshake completes (even when the chain or name then fails). */
export const tlsStage: StageDef = {
  id: 'tls',
  async run(run) {
    const { target, credentials } = run.ctx;
    const peer = run.peer!;
    // Custom authentication sends no client certificate (facts §1 row 3).
    const mtls = run.spec.auth === undefined;
    const handshake = await tlsHandshake(run.stream!, {
      ...deviceHandshake(run),
      timeoutMs: stepMs(run.ctx),
      ...(mtls && credentials.cert ? { cert: credentials.cert.pem } : {}),
      ...(mtls && credentials.key ? { key: credentials.key.pem } : {}),
      // A --ca file that could not be read trusts nothing: never Node's default store behind the user's back.
      ca: credentials.ca?.pem ?? [],
    });
    const reproduce = sClientCommand({ ...target, endpoint: run.dest.name }, run.spec, peer.address, peer.port);
    if (!handshake.ok) return withComparison(run, failedHandshake(run, handshake, reproduce));
    run.tls = handshake;
    run.own(handshake.socket);
    const outcome = completedHandshake(run, handshake, reproduce);
    if (outcome.status === 'pass') return [outcome];
    // The route ends here: free the server (some serve one connection at a time) before comparing handshakes.
    handshake.socket.destroy();
    return withComparison(run, [outcome]);
  },
};
