/**
 * Faults as a network applies them: iptables rules in the bed's router namespace (FORWARD chain for filters, nat
 * PREROUTING for the interception), and the TLS-inspecting proxy. `bed.clearFaults()` removes the rules.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADDR, REPO_ROOT, execSync, type Bed, type Helper } from './bed.js';

/** Appends a FORWARD rule for TCP to the server's `port`, ending with `action` (the `-j` target and its options). */
function filterPort(bed: Bed, port: number, ...action: string[]): void {
  bed.iptables('-A', 'FORWARD', '-p', 'tcp', '-d', ADDR.server, '--dport', String(port), '-j', ...action);
}

/** A firewall that silently drops the port: the client sees nothing, only its own timeout. */
export function dropPort(bed: Bed, port: number): void {
  filterPort(bed, port, 'DROP');
}

/** A firewall that answers SYNs on the port with a TCP reset: "connection refused" within a round trip. */
export function resetPort(bed: Bed, port: number): void {
  filterPort(bed, port, 'REJECT', '--reject-with', 'tcp-reset');
}

/** A firewall that answers with ICMP "communication administratively prohibited": EHOSTUNREACH at the client. */
export function prohibitPort(bed: Bed, port: number): void {
  filterPort(bed, port, 'REJECT', '--reject-with', 'icmp-admin-prohibited');
}

/**
 * An SNI filter: any packet to the port that carries `name` (the ClientHello's server_name) is answered with a TCP
 * reset. TCP itself connects; the TLS handshake is reset.
 */
export function sniFilter(bed: Bed, name: string, port: number): void {
  bed.iptables(
    '-A',
    'FORWARD',
    '-p',
    'tcp',
    '-d',
    ADDR.server,
    '--dport',
    String(port),
    '-m',
    'string',
    '--string',
    name,
    '--algo',
    'bm',
    '-j',
    'REJECT',
    '--reject-with',
    'tcp-reset',
  );
}

/** Packets matched by the FORWARD rule whose text contains `needle` (from `iptables -L -v -x`). */
export function ruleHits(bed: Bed, needle: string): number {
  const line = bed
    .counters()
    .split('\n')
    .find((l) => l.includes(needle));
  return line ? Number(line.trim().split(/\s+/)[0]) : 0;
}

export interface InspectionPki {
  /** The inspection CA alone (what a corporate IT department would install on its devices). */
  caPem: string;
  caPath: string;
  /** Leaf for the endpoint name followed by the CA, and the leaf key: what the proxy presents. */
  chainPath: string;
  keyPath: string;
}

/** A "Corporate TLS Inspection CA" and a certificate for `endpoint` it issued (EC P-256, made with the openssl CLI). */
export function makeInspectionPki(dir: string, endpoint: string): InspectionPki {
  mkdirSync(dir, { recursive: true });
  const p = (f: string): string => join(dir, f);
  const ossl = (...args: string[]): string => execSync('openssl', args, dir);
  ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p('ca.key'));
  ossl(
    'req',
    '-x509',
    '-new',
    '-key',
    p('ca.key'),
    '-sha256',
    '-days',
    '30',
    '-out',
    p('ca.pem'),
    '-subj',
    '/O=Example Corp IT Security/CN=Corporate TLS Inspection CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p('leaf.key'));
  ossl(
    'req',
    '-new',
    '-key',
    p('leaf.key'),
    '-out',
    p('leaf.csr'),
    '-subj',
    `/O=Example Corp IT Security/CN=${endpoint}`,
  );
  writeFileSync(
    p('leaf.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=DNS:${endpoint},DNS:*.${endpoint.split('.').slice(1).join('.')}`,
    ].join('\n') + '\n',
  );
  ossl(
    'x509',
    '-req',
    '-in',
    p('leaf.csr'),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    '30',
    '-sha256',
    '-extfile',
    p('leaf.ext'),
    '-out',
    p('leaf.pem'),
  );
  const caPem = readFileSync(p('ca.pem'), 'utf8');
  writeFileSync(p('chain.pem'), readFileSync(p('leaf.pem'), 'utf8') + caPem);
  return { caPem, caPath: p('ca.pem'), chainPath: p('chain.pem'), keyPath: p('leaf.key') };
}

export interface ProxyStats {
  /** TCP connections redirected to the proxy. */
  connections: number;
  /** TLS handshakes the device completed with the proxy. */
  handshakes: number;
  /** Server names of the ClientHellos. */
  sni: string[];
  /** ALPN protocol selected on each completed handshake: always false. */
  alpnSelected: (string | false)[];
  upstreamErrors: number;
}

export interface InterceptProxy {
  helper: Helper;
  port: number;
  /** Stop the proxy and return what it saw. */
  stop(): Promise<ProxyStats | undefined>;
}

/**
 * Start the TLS-inspecting proxy in the router namespace and send the port's traffic to it
 * (`-t nat PREROUTING ... -j REDIRECT`). The proxy reaches the real server from the router itself.
 */
/**
 * `from`: 'forwarded' intercepts the device's own connections through the router (nat PREROUTING); 'squid' intercepts
 * the connections Squid opens from the router for its CONNECT tunnels (nat OUTPUT, owner uid `proxy`), as a proxy
 * that re-signs TLS would.
 */
export async function interceptPort(
  bed: Bed,
  pki: InspectionPki,
  port = 443,
  proxyPort = 3129,
  from: 'forwarded' | 'squid' = 'forwarded',
): Promise<InterceptProxy> {
  const helper = bed.spawnHelper('intercept-proxy', bed.ns.router, process.execPath, [
    join(REPO_ROOT, 'dist/test/e2e/intercept-proxy.js'),
    '--port',
    String(proxyPort),
    '--upstream',
    `${ADDR.server}:${port}`,
    '--cert',
    pki.chainPath,
    '--key',
    pki.keyPath,
    '--max-seconds',
    '300',
  ]);
  await helper.waitFor(/^proxy ready \d+$/, 10_000);
  const match = ['-p', 'tcp', '-d', ADDR.server, '--dport', String(port)];
  if (from === 'squid') {
    bed.iptables(
      '-t',
      'nat',
      '-A',
      'OUTPUT',
      ...match,
      '-m',
      'owner',
      '--uid-owner',
      'proxy',
      '-j',
      'REDIRECT',
      '--to-ports',
      String(proxyPort),
    );
  } else {
    bed.iptables('-t', 'nat', '-A', 'PREROUTING', ...match, '-j', 'REDIRECT', '--to-ports', String(proxyPort));
  }
  return {
    helper,
    port: proxyPort,
    async stop() {
      await helper.stop();
      const last = helper.output().stdout.trim().split('\n').at(-1) ?? '';
      try {
        return JSON.parse(last) as ProxyStats;
      } catch {
        return undefined;
      }
    },
  };
}
