/**
 * Stage `dns` (`route.<route>.dns`): the name the route connects to resolves. Order: a `--resolve` pin, then the
 * resolver of the run (`--dns-server`, else getaddrinfo, shared by the routes of one run). A private or loopback
 * answer for the AWS endpoint is a warning (AWS IoT endpoints are public), and the route goes on.
 */
import type { DnsOutcome } from '../../src/probes/dns.js';
import { isPrivateAddress } from '../../src/probes/dns.js';
import { discoverRouteHost } from '../route-host.js';
import { nslookupCommand } from '../route-reproduce.js';
import type { RouteRun, StageDef, StageOutcome } from '../route-stage.js';

function pinnedOutcome(run: RouteRun, host: string, addresses: string[]): StageOutcome {
  const chosen = pick(
    run,
    addresses.map((a) => ({ address: a, family: a.includes(':') ? (6 as const) : (4 as const) })),
  );
  run.peer = { address: chosen.address, family: chosen.family, port: run.dest.port };
  return {
    stage: 'dns',
    status: 'pass',
    code: 'DNS_PINNED',
    durationMs: 0,
    summary: `${host} pinned to ${addresses.join(', ')} by --resolve`,
    evidence: { name: host, addresses, source: '--resolve' },
  };
}

/** The address to use: the first one, or the first of the route's address family when it has one. */
function pick<T extends { address: string; family: 4 | 6 }>(run: RouteRun, list: T[]): T {
  return (run.spec.family ? list.find((a) => a.family === run.spec.family) : undefined) ?? list[0]!;
}

function failureOutcome(host: string, outcome: Extract<DnsOutcome, { ok: false }>, reproduce: string): StageOutcome {
  return {
    stage: 'dns',
    status: 'fail',
    code: outcome.code,
    durationMs: outcome.durationMs,
    reproduce,
    summary: `${host} does not resolve: ${outcome.message}`,
    evidence: { name: host, error: outcome.systemCode ?? outcome.code },
  };
}

function answerOutcome(run: RouteRun, host: string, outcome: Extract<DnsOutcome, { ok: true }>): StageOutcome {
  const { target } = run.ctx;
  const override = run.dest.override;
  const chosen = pick(run, outcome.addresses);
  run.peer = { address: chosen.address, family: chosen.family, port: run.dest.port };
  const addresses = outcome.addresses.map((a) => a.address);
  const privateAddrs = addresses.filter(isPrivateAddress);
  const unexpectedPrivate = !override && host === target.endpoint && privateAddrs.length > 0;
  return {
    stage: 'dns',
    status: unexpectedPrivate ? 'warn' : 'pass',
    code: override ? 'DNS_OVERRIDE' : unexpectedPrivate ? 'DNS_PRIVATE_ADDRESS' : 'DNS_OK',
    durationMs: outcome.durationMs,
    summary: unexpectedPrivate
      ? `${host} resolves to a private or loopback address (${privateAddrs.join(', ')}): ` +
        'a local DNS override or a proxy, not AWS'
      : `${host} → ${addresses.join(', ')}${override ? ' (address from --connect-to)' : ''}`,
    evidence: { name: host, addresses, source: outcome.source, ...(override ? { override: '--connect-to' } : {}) },
    reproduce: nslookupCommand(target, host),
  };
}

/**
 * A route whose host name is unknown (the credential-provider endpoint without --credentials-endpoint and without AWS
 * access to look it up): skipped for want of input, as the cloud checks are without credentials. Nothing on the path
 * failed, so it is no failure to diagnose.
 */
function noHostName(run: RouteRun, why: string): StageOutcome {
  return {
    stage: 'dns',
    status: 'skip',
    code: 'CREDENTIALS_ENDPOINT_UNKNOWN',
    durationMs: 0,
    summary: `no credential-provider endpoint: give --credentials-endpoint (${why})`,
    evidence: { reason: why },
  };
}

/** The `dns` stage: sets `run.peer` on success; a failure ends the route. */
export const dnsStage: StageDef = {
  id: 'dns',
  continueOnWarn: true,
  async run(run) {
    if (!run.dest.name) {
      const why = await discoverRouteHost(run);
      if (why) return [noHostName(run, why)];
    }
    const host = run.dest.host;
    const pinned = run.ctx.target.resolve.find((p) => p.host.toLowerCase() === host.toLowerCase());
    if (pinned && pinned.addresses[0]) return [pinnedOutcome(run, host, pinned.addresses)];
    const outcome = await run.ctx.resolve(host);
    if (!outcome.ok) return [failureOutcome(host, outcome, nslookupCommand(run.ctx.target, host))];
    const family = run.spec.family;
    if (family && !outcome.addresses.some((a) => a.family === family)) {
      const message = `${host} has no IPv${family} address (${outcome.addresses.map((a) => a.address).join(', ')})`;
      return [
        failureOutcome(
          host,
          { ...outcome, ok: false, code: 'DNS_NO_ANSWER', message },
          nslookupCommand(run.ctx.target, host),
        ),
      ];
    }
    return [answerOutcome(run, host, outcome)];
  },
};
