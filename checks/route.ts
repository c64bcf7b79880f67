/**
 * One route = one connection, observed stage by stage: dns → tcp → tls → alpn → client-auth → protocol → round-trip.
 * A failed stage ends the route; the later stages are `skip` with the reason.
 */
import type { TLSSocket } from 'node:tls';
import {
  ROUTES,
  STAGE_IDS,
  STAGE_TITLES,
  routeResultId,
  type CheckResult,
  type Evidence,
  type RouteId,
  type RouteSpec,
  type StageId,
  type Status,
} from '../src/model/index.js';
import { isPrivateAddress } from '../src/probes/dns.js';
import { hostPort, shq } from '../src/probes/shell.js';
import { connectTcp } from '../src/probes/tcp.js';
import { CLIENT_CERT_ALERTS, alertFromError, tlsHandshake, type TlsSuccess } from '../src/probes/tls.js';
import type { Target } from '../src/target.js';
import type { RouteCode } from './route-codes.js';
import { ROUTE_HINTS } from './route-hints.js';
import { runProtocolStages } from './route-protocol.js';
import type { CheckContext, DoctorCheck } from './types.js';

export interface StageOutcome {
  stage: StageId;
  status: Status;
  code: RouteCode;
  summary: string;
  evidence?: Evidence;
  durationMs: number;
  reproduce?: string;
  hint?: string;
}

/** Where a route actually connects: the endpoint's port, or what `--connect-to` says. */
export function connectionTarget(target: Target, spec: RouteSpec): { host: string; port: number; override: boolean } {
  const rule = target.connectTo.find(
    (r) => (r.host === '' || r.host.toLowerCase() === target.endpoint.toLowerCase()) && (r.port === 0 || r.port === spec.port),
  );
  if (!rule) return { host: target.endpoint, port: spec.port, override: false };
  // A rule that only changes the port still resolves the endpoint name through DNS.
  return { host: rule.address || target.endpoint, port: rule.toPort || spec.port, override: rule.address !== '' };
}

/** `openssl s_client` connecting as this route does: address, SNI, ALPN, the CA file and the client credentials. */
export function sClientArgs(target: Target, spec: RouteSpec, host: string, port: number): string[] {
  const parts = ['openssl', 's_client', '-connect', hostPort(host, port), '-servername', target.endpoint];
  if (spec.alpn) parts.push('-alpn', spec.alpn);
  parts.push('-CAfile', shq(target.caPath ?? 'AmazonRootCA1.pem'));
  if (target.certPath) parts.push('-cert', shq(target.certPath));
  if (target.keyPath) parts.push('-key', shq(target.keyPath));
  return parts;
}

/** The `openssl s_client` line that repeats this route's handshake by hand (full output: it shows the ALPN result). */
export function sClientCommand(target: Target, spec: RouteSpec, host: string, port: number): string {
  return [...sClientArgs(target, spec, host, port), '-verify_hostname', target.endpoint, '-verify_return_error', '-showcerts', '</dev/null'].join(' ');
}

async function resolveStage(ctx: CheckContext, host: string, override: boolean): Promise<StageOutcome & { address?: string; family?: 4 | 6 }> {
  const { target } = ctx;
  const pinned = target.resolve.find((p) => p.host.toLowerCase() === host.toLowerCase());
  if (pinned && pinned.addresses[0]) {
    return {
      stage: 'dns', status: 'pass', code: 'DNS_PINNED', durationMs: 0,
      summary: `${host} pinned to ${pinned.addresses.join(', ')} by --resolve`,
      evidence: { name: host, addresses: pinned.addresses, source: '--resolve' },
      address: pinned.addresses[0], family: pinned.addresses[0].includes(':') ? 6 : 4,
    };
  }
  const outcome = await ctx.resolve(host);
  const reproduce = target.dnsServer ? `nslookup ${host} ${target.dnsServer.replace(/:\d+$/, '')}` : `nslookup ${host}`;
  if (!outcome.ok) {
    return {
      stage: 'dns', status: 'fail', code: outcome.code, durationMs: outcome.durationMs, reproduce,
      summary: `${host} does not resolve: ${outcome.message}`,
      evidence: { name: host, error: outcome.systemCode ?? outcome.code },
    };
  }
  const first = outcome.addresses[0]!;
  const addresses = outcome.addresses.map((a) => a.address);
  const viaOverride = override ? ' (address from --connect-to)' : '';
  const privateAddrs = addresses.filter(isPrivateAddress);
  const unexpectedPrivate = !override && host === target.endpoint && privateAddrs.length > 0;
  return {
    stage: 'dns',
    status: unexpectedPrivate ? 'warn' : 'pass',
    code: override ? 'DNS_OVERRIDE' : unexpectedPrivate ? 'DNS_PRIVATE_ADDRESS' : 'DNS_OK',
    durationMs: outcome.durationMs,
    summary: unexpectedPrivate
      ? `${host} resolves to a private or loopback address (${privateAddrs.join(', ')}): a local DNS override or a proxy, not AWS`
      : `${host} → ${addresses.join(', ')}${viaOverride}`,
    evidence: { name: host, addresses, source: outcome.source, ...(override ? { override: '--connect-to' } : {}) },
    reproduce,
    address: first.address,
    family: first.family,
  };
}

/**
 * After the handshake, give the server a short window to reject the client certificate. With TLS 1.3 the verdict
 * comes after the client's Finished: an alert, or (Node servers) a plain close. With TLS 1.2 it already failed the
 * handshake. The window is about one round trip (measured by the TCP connect), at least 50 ms.
 */
function observeClientAuth(socket: TLSSocket, graceMs: number): Promise<{ ok: true; waitedMs: number } | { ok: false; how: string; alert?: { number: number; name: string } }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (value: { ok: true; waitedMs: number } | { ok: false; how: string; alert?: { number: number; name: string } }): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onClose);
      resolve(value);
    };
    const onError = (err: Error): void => {
      const alert = alertFromError(err);
      done({ ok: false, how: alert ? `alert ${alert.name} (${alert.number})` : `error: ${err.message}`, ...(alert ? { alert } : {}) });
    };
    const onClose = (): void => done({ ok: false, how: 'closed the connection right after the handshake, without an alert' });
    const timer = setTimeout(() => done({ ok: true, waitedMs: Math.round(performance.now() - started) }), graceMs);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/**
 * Close our side and let the server's FIN arrive in the background: the results do not wait a round trip for it,
 * and a server that never closes is cut off after a second so the process can exit.
 */
function closeInBackground(socket: TLSSocket): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), 1000);
  socket.once('close', () => clearTimeout(timer));
  socket.end();
}

/** Probe one route and return one result per stage, in stage order. */
export async function probeRoute(spec: RouteSpec, ctx: CheckContext): Promise<CheckResult[]> {
  try {
    return await probeStages(spec, ctx);
  } finally {
    if (spec.protocol === 'mqtt') ctx.hub.mqttEnded(spec.id);
    else ctx.hub.httpsEnded(spec.id);
  }
}

async function probeStages(spec: RouteSpec, ctx: CheckContext): Promise<CheckResult[]> {
  const { target, credentials } = ctx;
  const outcomes: StageOutcome[] = [];
  const { host, port, override } = connectionTarget(target, spec);
  const sClient = (addr: string): string => sClientCommand(target, spec, addr, port);

  const dns = await resolveStage(ctx, host, override);
  outcomes.push(dns);
  let tls: TlsSuccess | undefined;
  try {
    if (dns.status !== 'fail' && dns.address) {
      const address = dns.address;
      const tcp = await connectTcp(address, port, target.timeoutMs);
      const tcpEvidence = { address, port, family: dns.family };
      if (!tcp.ok) {
        outcomes.push({
          stage: 'tcp', status: 'fail', code: tcp.code, durationMs: tcp.durationMs,
          summary: `${hostPort(address, port)}: ${tcp.message}`,
          evidence: { ...tcpEvidence, error: tcp.systemCode ?? tcp.code },
          reproduce: `nc -vz -w ${Math.ceil(target.timeoutMs / 1000)} ${address} ${port}`,
        });
      } else {
        outcomes.push({
          stage: 'tcp', status: 'pass', code: 'TCP_OK', durationMs: tcp.durationMs,
          summary: `connected to ${hostPort(address, port)}`,
          evidence: { ...tcpEvidence, localAddress: tcp.localAddress },
        });
        const handshake = await tlsHandshake(tcp.socket, {
          servername: target.endpoint,
          alpn: spec.alpn,
          timeoutMs: target.timeoutMs,
          ...(credentials.cert ? { cert: credentials.cert.pem } : {}),
          ...(credentials.key ? { key: credentials.key.pem } : {}),
          // A --ca file that could not be read trusts nothing: never Node's default store behind the user's back.
          ca: credentials.ca?.pem ?? [],
        });
        const reproduce = sClient(address);
        if (!handshake.ok) {
          const clientCertAlert = handshake.alert && CLIENT_CERT_ALERTS.has(handshake.alert.number);
          outcomes.push({
            stage: 'tls', status: 'fail', code: handshake.code, durationMs: handshake.durationMs, reproduce,
            summary: handshake.alert
              ? `the server aborted the handshake with alert ${handshake.alert.name} (${handshake.alert.number})`
              : handshake.message,
            evidence: {
              sni: target.endpoint, bytesFromServer: handshake.bytesFromServer,
              ...(handshake.alert ? { alert: handshake.alert.name, alertNumber: handshake.alert.number } : {}),
              ...(handshake.systemCode ? { error: handshake.systemCode } : {}),
            },
          });
          if (clientCertAlert) {
            // TLS 1.2: the server rejects the client certificate inside the handshake. Say so in the row it belongs to.
            outcomes.push({
              stage: 'alpn', status: 'skip', code: 'SKIPPED', durationMs: 0,
              summary: 'blocked by tls: handshake aborted before ALPN was settled',
            });
            outcomes.push({
              stage: 'client-auth', status: 'fail', code: 'CLIENT_CERT_REJECTED', durationMs: 0, reproduce,
              summary: `the server rejected the client certificate (alert ${handshake.alert!.name} during the handshake)`,
              evidence: { alert: handshake.alert!.name, alertNumber: handshake.alert!.number, certificateId: credentials.cert?.certificateId },
            });
          }
        } else {
          tls = handshake;
          const chainEvidence = handshake.chain;
          const baseEvidence = {
            address, port, sni: target.endpoint, protocol: handshake.protocol, cipher: handshake.cipher, chain: chainEvidence,
          };
          const chainCode = classifyChainError(handshake.chainError);
          if (chainCode) {
            outcomes.push({
              stage: 'tls', status: 'fail', code: chainCode, durationMs: handshake.durationMs, reproduce,
              summary: credentials.ca
              ? chainSummary(chainCode, handshake)
              : 'the CA file given with --ca is unusable (see files.ca), so nothing verifies the server chain',
              evidence: { ...baseEvidence, verifyError: handshake.chainError },
            });
          } else if (handshake.hostnameError) {
            outcomes.push({
              stage: 'tls', status: 'fail', code: 'TLS_HOSTNAME_MISMATCH', durationMs: handshake.durationMs, reproduce,
              summary: `the server certificate does not cover ${target.endpoint}: ${handshake.hostnameError}`,
              evidence: baseEvidence,
            });
          } else {
            outcomes.push({
              stage: 'tls', status: 'pass', code: 'TLS_OK', durationMs: handshake.durationMs,
              summary: `${handshake.protocol} ${handshake.cipher}, chain verified, name matches`,
              evidence: baseEvidence,
            });
          }
        }
      }
    }

    if (tls && outcomes.at(-1)?.status === 'pass') {
      const socket = tls.socket;
      const reproduce = sClient(dns.address!);
      // ALPN: what the server selected, not what we offered.
      if (!spec.alpn) {
        outcomes.push({
          stage: 'alpn', status: 'pass', code: 'ALPN_NOT_USED', durationMs: 0,
          summary: 'no ALPN offered on this route (none needed)', evidence: { offered: null, selected: tls.alpn || null },
        });
      } else if (tls.alpn === spec.alpn) {
        outcomes.push({
          stage: 'alpn', status: 'pass', code: 'ALPN_SELECTED', durationMs: 0,
          summary: `server selected ${spec.alpn}`, evidence: { offered: spec.alpn, selected: tls.alpn },
        });
      } else {
        outcomes.push({
          stage: 'alpn', status: 'fail', code: tls.alpn ? 'ALPN_UNEXPECTED' : 'ALPN_NOT_SELECTED', durationMs: 0, reproduce,
          summary: tls.alpn
            ? `offered ${spec.alpn} but the server selected ${tls.alpn}`
            : `offered ${spec.alpn} but the server selected no ALPN protocol`,
          evidence: { offered: spec.alpn, selected: tls.alpn || null },
        });
      }
      if (outcomes.at(-1)!.status === 'pass') {
        if (!credentials.cert || !credentials.key) {
          // AWS IoT needs the client certificate on every one of these routes: without it nothing after TLS can be
          // tried, which is worth a warning, not a silent skip.
          outcomes.push({
            stage: 'client-auth', status: 'warn', code: 'NO_CLIENT_CREDENTIALS', durationMs: 0,
            summary: target.certPath || target.keyPath
              ? 'the client certificate and key are not usable (see the files checks): client-auth, protocol and round trip cannot be tried'
              : 'no client certificate and key given (--cert, --key): client-auth, protocol and round trip cannot be tried',
            hint: 'Give the device certificate and its private key with --cert and --key.',
          });
        } else {
          const graceMs = Math.min(1000, Math.max(50, Math.round((outcomes[1]?.durationMs ?? 0) * 1.5) + 25));
          const auth = await observeClientAuth(socket, graceMs);
          outcomes.push(
            auth.ok
              ? {
                  stage: 'client-auth', status: 'pass', code: 'CLIENT_CERT_ACCEPTED', durationMs: auth.waitedMs,
                  summary: `connection still open ${auth.waitedMs} ms after the handshake with our client certificate`,
                  evidence: { certificateId: credentials.cert.certificateId, protocol: tls.protocol },
                }
              : {
                  stage: 'client-auth', status: 'fail', code: 'CLIENT_CERT_REJECTED', durationMs: 0, reproduce,
                  summary: `the server rejected the client certificate: ${auth.how}`,
                  evidence: {
                    certificateId: credentials.cert.certificateId, protocol: tls.protocol,
                    ...(auth.alert ? { alert: auth.alert.name, alertNumber: auth.alert.number } : {}),
                  },
                },
          );
        }
      }
      if (outcomes.at(-1)!.status === 'pass' && target.protocol) {
        outcomes.push(...(await runProtocolStages(spec, socket, tls.fate, ctx, { address: dns.address!, port })));
      }
    }
  } finally {
    if (tls) closeInBackground(tls.socket);
  }
  return finishRoute(spec, outcomes);
}

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
  if (code === 'TLS_SERVER_CERT_NOT_YET_VALID') return `the server certificate is not valid before ${leaf?.validFrom ?? '?'}`;
  const top = tls.chain.at(-1);
  return `the CA file does not verify the server chain (${tls.chainError}); chain ends at "${top?.issuer ?? '?'}"`;
}

/** Fill the stages that did not run with `skip`, attach hints, and turn outcomes into results. */
export function finishRoute(spec: RouteSpec, outcomes: StageOutcome[]): CheckResult[] {
  const byStage = new Map(outcomes.map((o) => [o.stage, o]));
  // What ended the route: the first failure, or a last stage that could not pass (e.g. no client credentials).
  const last = outcomes.at(-1);
  const blocker = outcomes.find((o) => o.status === 'fail' || o.status === 'error') ?? (last && last.status !== 'pass' ? last : undefined);
  return STAGE_IDS.map((stage): CheckResult => {
    const o = byStage.get(stage);
    const base = { id: routeResultId(spec.id, stage), route: spec.id, stage, title: STAGE_TITLES[stage] };
    if (!o && !blocker && (stage === 'protocol' || stage === 'round-trip')) {
      return { ...base, status: 'skip', code: 'PROTOCOL_NOT_REQUESTED', durationMs: 0, evidence: {}, summary: 'not run (--no-protocol)' };
    }
    if (!o) {
      return {
        ...base, status: 'skip', code: 'SKIPPED', durationMs: 0, evidence: {},
        summary: blocker ? `blocked by ${blocker.stage}: ${blocker.code}` : 'not run',
      };
    }
    const hint = o.hint ?? (o.status === 'pass' ? undefined : ROUTE_HINTS[o.code]?.(spec));
    return {
      ...base,
      status: o.status,
      code: o.code,
      summary: o.summary,
      evidence: o.evidence ?? {},
      ...(hint ? { hint } : {}),
      ...(o.reproduce && o.status !== 'pass' ? { reproduce: o.reproduce } : {}),
      durationMs: o.durationMs,
    };
  });
}

export function routeCheck(id: RouteId): DoctorCheck {
  const spec = ROUTES[id];
  return {
    id: `route.${id}`,
    title: spec.title,
    family: 'route',
    run: (ctx) => probeRoute(spec, ctx),
  };
}
