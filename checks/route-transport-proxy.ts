/**
 * Transport `proxy`: the route's connection goes through the configured proxy (`--proxy`, or HTTPS_PROXY / ALL_PROXY
 * as curl reads them: field-notes §1.4). Rows: `dns` resolves the PROXY's name (with HTTP CONNECT and socks5h the
 * proxy resolves the endpoint, as curl does, so a site without working DNS can still get through: field-notes §1.2,
 * §1.8 js#10); the default `tcp` stage connects to the proxy; `proxy` asks it for the tunnel (CONNECT status line, its
 * time, Proxy-Authenticate; or the SOCKS5 REP code); TLS and everything after run inside the tunnel unchanged.
 */
import { isIP } from 'node:net';
import { resolveFamily } from '../src/probes/families.js';
import { hostPort } from '../src/probes/shell.js';
import { curlProxyArgs, describeProxy, type ProxyConfig } from '../src/probes/proxy-config.js';
import { proxyConnect, type ProxyStageResult } from '../src/probes/proxy-connect.js';
import { TOOL_VERSION } from '../src/version.js';
import type { RouteRun, StageDef, StageOutcome, Transport } from './route-stage.js';
import { stepMs } from '../src/runner/deadline.js';

/** The endpoint address a socks5:// route resolved locally (socks5 sends an address, not the name). */
const localEndpointAddress = new WeakMap<RouteRun, string>();

/**
 * What the proxy is asked to reach: the endpoint name and the kind's port. `--connect-to` does not apply (it aims
 * this machine's own connections); the proxy resolves the name itself.
 */
export function proxyDestination(run: RouteRun): { host: string; port: number } {
  return { host: run.ctx.target.endpoint, port: run.spec.port };
}

function proxyOf(run: RouteRun): ProxyConfig {
  const proxy = run.ctx.target.proxy;
  if (!proxy) throw new Error(`route ${run.spec.id}: transport proxy without a configured proxy`);
  return proxy;
}

/** Evidence every cell of a proxied route may carry: which proxy (never its password) and where it came from. */
export function proxyEvidence(proxy: ProxyConfig): Record<string, unknown> {
  return { proxy: describeProxy(proxy), proxySource: proxy.source };
}

async function resolveProxyHost(run: RouteRun, proxy: ProxyConfig): Promise<StageOutcome> {
  const started = performance.now();
  const family = isIP(proxy.host);
  if (family) {
    run.peer = { address: proxy.host, port: proxy.port, family: family as 4 | 6 };
    return {
      stage: 'dns',
      status: 'pass',
      code: 'DNS_PINNED',
      durationMs: 0,
      summary: '',
      evidence: { name: proxy.host, addresses: [proxy.host] },
    };
  }
  const outcome = await run.ctx.resolve(proxy.host);
  if (!outcome.ok) {
    return {
      stage: 'dns',
      status: 'fail',
      code: outcome.code,
      durationMs: Math.round(performance.now() - started),
      summary: `the proxy's name ${proxy.host} does not resolve: ${outcome.message}`,
      evidence: { name: proxy.host, role: 'proxy', error: outcome.systemCode ?? outcome.code, ...proxyEvidence(proxy) },
      reproduce: `nslookup ${proxy.host}`,
    };
  }
  const first = outcome.addresses[0]!;
  run.peer = { address: first.address, port: proxy.port, family: first.family };
  return {
    stage: 'dns',
    status: 'pass',
    code: 'DNS_OK',
    durationMs: outcome.durationMs,
    summary: '',
    evidence: { name: proxy.host, addresses: outcome.addresses.map((a) => a.address) },
  };
}

/** `dns` of a proxied route: the proxy's address; for socks5:// also the endpoint's, resolved here. */
const proxyDnsStage: StageDef = {
  id: 'dns',
  async run(run) {
    const proxy = proxyOf(run);
    const endpoint = proxyDestination(run).host;
    const resolved = await resolveProxyHost(run, proxy);
    if (resolved.status !== 'pass') return [resolved];
    const proxyAt = (resolved.evidence?.['addresses'] as string[])[0]!;
    if (proxy.kind !== 'socks5') {
      return [
        {
          ...resolved,
          code: 'DNS_BY_PROXY',
          summary: `the proxy resolves ${endpoint} (${proxy.kind === 'http' ? 'HTTP CONNECT' : 'socks5h'}); proxy at ${hostPort(proxyAt, proxy.port)}`,
          evidence: {
            ...resolved.evidence,
            role: 'proxy',
            endpoint,
            endpointResolvedBy: 'proxy',
            ...proxyEvidence(proxy),
          },
        },
      ];
    }
    const family = run.spec.family ?? 4;
    const local = await resolveFamily(endpoint, family, stepMs(run.ctx), run.ctx.target.dnsServer);
    if (!local.ok) {
      return [
        {
          stage: 'dns',
          status: 'fail',
          code: local.code as StageOutcome['code'],
          durationMs: local.durationMs,
          summary: `socks5:// resolves the endpoint here, and ${local.message} (socks5h:// lets the proxy resolve it)`,
          evidence: {
            name: endpoint,
            role: 'endpoint',
            error: local.systemCode ?? local.code,
            ...proxyEvidence(proxy),
          },
          reproduce: `nslookup ${endpoint}`,
        },
      ];
    }
    localEndpointAddress.set(run, local.addresses[0]!);
    return [
      {
        ...resolved,
        code: 'DNS_OK',
        durationMs: resolved.durationMs + local.durationMs,
        summary: `${endpoint} → ${local.addresses.join(', ')} (sent to the SOCKS5 proxy at ${hostPort(proxyAt, proxy.port)})`,
        evidence: {
          ...resolved.evidence,
          role: 'proxy',
          endpoint,
          endpointAddresses: local.addresses,
          endpointResolvedBy: 'local',
          ...proxyEvidence(proxy),
        },
      },
    ];
  },
};

function curlReproduce(run: RouteRun, proxy: ProxyConfig): string {
  const { host, port } = proxyDestination(run);
  return [
    'curl',
    '-v',
    '-p',
    ...curlProxyArgs(proxy),
    '--max-time',
    String(Math.ceil(run.ctx.target.timeoutMs / 1000)),
    `telnet://${hostPort(host, port)}`,
  ].join(' ');
}

function proxyOutcome(run: RouteRun, proxy: ProxyConfig, result: ProxyStageResult): StageOutcome {
  const evidence = {
    ...proxyEvidence(proxy),
    kind: proxy.kind,
    requested: result.requested,
    credentialsSent: result.credentialsSent,
    ...(result.status !== undefined ? { status: result.status, statusLine: result.statusLine } : {}),
    ...(result.proxyAuthenticate ? { proxyAuthenticate: result.proxyAuthenticate } : {}),
    ...(result.rep !== undefined ? { rep: result.rep, repName: result.repName } : {}),
    bytesFromProxy: result.bytesFromProxy,
  };
  return {
    stage: 'proxy',
    status: result.ok ? 'pass' : 'fail',
    code: result.code,
    durationMs: result.durationMs,
    summary: result.message,
    evidence,
    ...(result.ok ? {} : { reproduce: curlReproduce(run, proxy) }),
  };
}

/** `proxy`: ask the proxy (over the TCP connection to it) for a tunnel to the endpoint's port. */
export const proxyStage: StageDef = {
  id: 'proxy',
  async run(run) {
    const proxy = proxyOf(run);
    const target = {
      ...proxyDestination(run),
      ...(localEndpointAddress.has(run) ? { address: localEndpointAddress.get(run)! } : {}),
    };
    const result = await proxyConnect(run.stream!, proxy, target, {
      timeoutMs: stepMs(run.ctx),
      userAgent: `iot-doctor/${TOOL_VERSION}`,
    });
    return [proxyOutcome(run, proxy, result)];
  },
};

/** The proxy transport: its own `dns` and `proxy` rows; `tcp` (to the proxy) and the rest are the defaults. */
export const proxyTransport: Transport = { id: 'proxy', stages: { dns: proxyDnsStage, proxy: proxyStage } };
