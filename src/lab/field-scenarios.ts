/**
 * Field scenarios of the lab: the healthy account, seen from a device whose path or TLS stack differs from the
 * technician's laptop (issue "field paths"). Each one sets up the "site" around the lab (a proxy, a front that applies
 * a TLS security policy, listeners on one address family only, a closed direct path) and names the check flags that
 * describe the device (`--tls-version 1.2`, `--no-sni` …), which `demo` uses and `lab` prints.
 *
 * Facts behind them: proxies and their answers (field-notes §1), broken IPv6 paths (§2), security policies and the
 * unconfirmed refusal (alert or bare close: both are offered, §3.2), chain sizes (§3.3, §3.4), SNI needed only for
 * SNI_ONLY certificates (facts §2.2), ALPN on 443 (facts §1).
 */
import { createServer } from 'node:net';
import { startFieldFront, type FieldFront, type FrontPolicy } from './field-front.js';
import { startLabProxy, urlHost, type LabProxy } from './field-proxy.js';
import { startInterceptBox, type InterceptBox } from './intercept-box.js';

/** Check flags a scenario adds, named as `check` names them. */
export interface FieldCheckArgs {
  'connect-to'?: string[];
  resolve?: string[];
  proxy?: string;
  'proxy-only'?: boolean;
  'tls-version'?: string;
  ciphers?: string;
  'max-record'?: number;
  sni?: boolean;
  alpn?: boolean;
}

/** What a field scenario sets up. */
export interface FieldSetup {
  /** A site proxy; `give: 'none'` leaves the credentials out of the device's configuration. */
  proxy?: {
    kind: 'http' | 'socks5';
    auth?: boolean;
    give?: 'credentials' | 'none';
    allowPorts?: number[];
    only?: boolean;
    /** The proxy's tunnels pass a TLS-inspecting box that re-signs the endpoint's certificate (intercept-box.ts). */
    intercept?: boolean;
  };
  /** The device is configured with a proxy that does not answer. */
  deadProxy?: boolean;
  /** The direct path is closed: the routes' own connections are refused. */
  directBlocked?: boolean;
  /** Listen on 127.0.0.1 and ::1 with the same ports; this family's listeners are missing (connections refused). */
  brokenFamily?: 4 | 6;
  /** The endpoint's TLS security policy, applied by a front. */
  policy?: FrontPolicy;
  /** Intermediates between the server CA and the server certificate (a long chain, as a custom domain may send). */
  longChain?: number;
  /** The device certificate is registered in SNI_ONLY mode (registered without a CA): it needs SNI. */
  sniOnlyCert?: boolean;
  /** The device's TLS stack. */
  device?: Pick<FieldCheckArgs, 'tls-version' | 'ciphers' | 'max-record' | 'sni' | 'alpn'>;
}

/** A field scenario: name, description, setup. */
export interface FieldScenario {
  name: string;
  description: string;
  field: FieldSetup;
}

const TLS12 = { 'tls-version': '1.2' } as const;
const DEVICE_SUITES = 'AES128-SHA:AES256-SHA';
const POLICY_SUITES = ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384'];

/** The field scenarios, in `demo --list` order. */
export const FIELD_SCENARIOS: readonly FieldScenario[] = [
  {
    name: 'proxy-required',
    description:
      'Direct connections are refused; an HTTP CONNECT proxy with Basic auth (given in HTTPS_PROXY style) gets through.',
    field: { directBlocked: true, proxy: { kind: 'http', auth: true } },
  },
  {
    name: 'proxy-intercepting',
    description:
      "The site proxy's tunnels pass a TLS-inspecting box that re-signs the endpoint's certificate with a corporate CA.",
    field: { proxy: { kind: 'http', intercept: true, only: true } },
  },
  {
    name: 'proxy-auth-required',
    description: 'The site proxy wants Basic credentials the device does not have: 407 on CONNECT.',
    field: { proxy: { kind: 'http', auth: true, give: 'none', only: true } },
  },
  {
    name: 'proxy-443-only',
    description: "The site proxy tunnels only port 443 (as Squid's stock SSL_ports): 8883 and 8443 get 403.",
    field: { proxy: { kind: 'http', allowPorts: [443], only: true } },
  },
  {
    name: 'socks5-proxy',
    description:
      'A SOCKS5 proxy (socks5h, user/password) that refuses 8883 with REP 2; the other ports work through it.',
    field: { proxy: { kind: 'socks5', auth: true, allowPorts: [443, 8443], only: true } },
  },
  {
    name: 'proxy-unreachable',
    description: 'The device is configured with a proxy that does not answer, while the direct path works.',
    field: { deadProxy: true },
  },
  {
    name: 'ipv6-broken',
    description: 'The endpoint answers on 127.0.0.1 and ::1; the IPv6 path is broken (refused), IPv4 works.',
    field: { brokenFamily: 6 },
  },
  {
    name: 'ipv4-broken',
    description: 'The endpoint answers on 127.0.0.1 and ::1; the IPv4 path is broken (refused), IPv6 works.',
    field: { brokenFamily: 4 },
  },
  {
    name: 'tls13-only',
    description: 'Security policy TLS13_1_3 (TLS 1.3 only) against a TLS 1.2-only device: alert protocol_version.',
    field: { policy: { tls13Only: true, refusal: 'alert' }, device: TLS12 },
  },
  {
    name: 'tls13-only-close',
    description: "As tls13-only, but the endpoint closes without an alert (AWS's reaction is unconfirmed).",
    field: { policy: { tls13Only: true, refusal: 'close' }, device: TLS12 },
  },
  {
    name: 'restricted-ciphers',
    description: `A TLS 1.2 device offering only ${DEVICE_SUITES} against a policy without them: alert handshake_failure.`,
    field: { policy: { tls12Suites: POLICY_SUITES, refusal: 'alert' }, device: { ...TLS12, ciphers: DEVICE_SUITES } },
  },
  {
    name: 'restricted-ciphers-close',
    description: 'As restricted-ciphers, but the endpoint closes without an alert.',
    field: { policy: { tls12Suites: POLICY_SUITES, refusal: 'close' }, device: { ...TLS12, ciphers: DEVICE_SUITES } },
  },
  {
    name: 'long-chain',
    description:
      "The server sends a chain of six certificates (a custom domain may send up to 16 KB); the device's TLS buffer is 4096 bytes.",
    field: { longChain: 5, device: { 'max-record': 4096 } },
  },
  {
    name: 'sni-only-cert',
    description:
      'The device certificate is registered without a CA (SNI_ONLY) and the device sends no SNI: MQTT is closed after CONNECT.',
    field: { sniOnlyCert: true, device: { sni: false } },
  },
  {
    name: 'device-no-alpn',
    description: 'The device offers no ALPN on 443: AWS IoT does not take its client certificate there.',
    field: { device: { alpn: false } },
  },
];

/** The lab listener ports by AWS port. */
export type LabPorts = Record<8883 | 443 | 8443, number>;

/** What a running site adds to the check, and how to stop it. */
export interface FieldSite {
  checkArgs: FieldCheckArgs;
  /** A value the printed command must not show (the proxy password), for `lab.json` only. */
  secret?: string;
  close(): Promise<void>;
}

async function closedPort(bind: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, bind, resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 1;
}

function overrides(endpoint: string, host: string, ports: Partial<LabPorts>): string[] {
  return ([8883, 443, 8443] as const).map((p) => `${endpoint}:${p}:${host}:${ports[p] ?? 1}`);
}

/** Fronts on both loopback families with the same port each; the broken family gets none (refused). */
async function dualStack(
  endpoint: string,
  ports: LabPorts,
  setup: FieldSetup,
  fronts: FieldFront[],
): Promise<FieldCheckArgs> {
  const out: Partial<LabPorts> = {};
  for (const p of [8883, 443, 8443] as const) {
    const upstream = { host: '127.0.0.1', port: ports[p] };
    const first = setup.brokenFamily === 4 ? '::1' : '127.0.0.1';
    const a = await startFieldFront({ bind: first, upstream, ...(setup.policy ? { policy: setup.policy } : {}) });
    fronts.push(a);
    out[p] = a.port;
  }
  const portsOnly = ([8883, 443, 8443] as const).map((p) => `${endpoint}:${p}::${out[p]}`);
  return { 'connect-to': portsOnly, resolve: [`${endpoint}:*:127.0.0.1,::1`] };
}

async function startProxy(
  endpoint: string,
  bind: string,
  ports: LabPorts,
  setup: NonNullable<FieldSetup['proxy']>,
): Promise<{ proxy: LabProxy; url: string; secret?: string }> {
  const secret = setup.auth ? `lab-${Math.random().toString(36).slice(2, 10)}` : undefined;
  const proxy = await startLabProxy({
    kind: setup.kind,
    bind,
    ...(secret ? { users: { lab: secret } } : {}),
    ...(setup.allowPorts ? { allowPorts: setup.allowPorts } : {}),
    upstream: (host, port) =>
      host.toLowerCase() === endpoint && port in ports ? { host: bind, port: ports[port as 443] } : null,
  });
  const scheme = setup.kind === 'http' ? 'http' : 'socks5h';
  const creds = secret && setup.give !== 'none' ? `lab:${secret}@` : '';
  return { proxy, url: `${scheme}://${creds}${urlHost(bind)}:${proxy.port}`, ...(secret ? { secret } : {}) };
}

/** One re-signing box per lab listener (the box relays to it); the proxy's tunnels go to the boxes. */
async function interceptBoxes(
  endpoint: string,
  bind: string,
  ports: LabPorts,
  identity: { certPem: string; keyPem: string } | undefined,
  boxes: InterceptBox[],
): Promise<LabPorts> {
  if (!identity) throw new Error('an intercepting proxy needs the re-signed certificate');
  const out: Partial<LabPorts> = {};
  for (const p of [8883, 443, 8443] as const) {
    const box = await startInterceptBox({
      bind,
      identity,
      upstream: { host: bind, port: ports[p] },
      servername: endpoint,
    });
    boxes.push(box);
    out[p] = box.port;
  }
  return out as LabPorts;
}

/** Start what a field scenario puts around the lab (loopback `bind`) and return the check flags that go with it. */
export async function startFieldSite(
  endpoint: string,
  bind: string,
  ports: LabPorts,
  setup: FieldSetup,
  reSigned?: { certPem: string; keyPem: string },
): Promise<FieldSite> {
  const fronts: FieldFront[] = [];
  const boxes: InterceptBox[] = [];
  const proxies: LabProxy[] = [];
  const close = async (): Promise<void> => {
    await Promise.all([...fronts, ...boxes, ...proxies].map((p) => p.close()));
  };
  try {
    let args: FieldCheckArgs = { ...(setup.device ?? {}) };
    let secret: string | undefined;
    if (setup.brokenFamily) args = { ...args, ...(await dualStack(endpoint, ports, setup, fronts)) };
    else if (setup.policy) {
      const out: Partial<LabPorts> = {};
      for (const p of [8883, 443, 8443] as const) {
        const f = await startFieldFront({ bind, upstream: { host: bind, port: ports[p] }, policy: setup.policy });
        fronts.push(f);
        out[p] = f.port;
      }
      args['connect-to'] = overrides(endpoint, urlHost(bind), out);
    }
    if (setup.directBlocked) {
      const dead = await closedPort(bind);
      args['connect-to'] = overrides(endpoint, urlHost(bind), { 8883: dead, 443: dead, 8443: dead });
    }
    if (setup.proxy) {
      const behind = setup.proxy.intercept ? await interceptBoxes(endpoint, bind, ports, reSigned, boxes) : ports;
      const started = await startProxy(endpoint, bind, behind, setup.proxy);
      proxies.push(started.proxy);
      secret = started.secret;
      args = { ...args, proxy: started.url, ...(setup.proxy.only ? { 'proxy-only': true } : {}) };
    }
    if (setup.deadProxy) args = { ...args, proxy: `http://${urlHost(bind)}:${await closedPort(bind)}` };
    return { checkArgs: args, ...(secret ? { secret } : {}), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The flags as a command line shows them; the proxy password replaced by `****`. */
export function fieldArgv(args: FieldCheckArgs): string[] {
  const out: string[] = [];
  for (const c of args['connect-to'] ?? []) out.push('--connect-to', c);
  for (const r of args.resolve ?? []) out.push('--resolve', r);
  if (args.proxy) out.push('--proxy', args.proxy.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1****@'));
  if (args['proxy-only']) out.push('--proxy-only');
  if (args['tls-version']) out.push('--tls-version', args['tls-version']);
  if (args.ciphers) out.push('--ciphers', args.ciphers);
  if (args['max-record'] !== undefined) out.push('--max-record', String(args['max-record']));
  if (args.sni === false) out.push('--no-sni');
  if (args.alpn === false) out.push('--no-alpn');
  return out;
}
