/**
 * The commands a technician pastes to repeat a route stage by hand: nslookup, nc, `openssl s_client`, mosquitto_pub /
 * mosquitto_sub and curl. Each builder returns one shell line (quoted with `shq`), or several lines joined by "\n".
 * They read the target and the route, never the network.
 */
import type { RouteSpec } from '../src/model/index.js';
import { publishPath } from '../src/probes/https.js';
import { curlProxyArgs, type ProxyConfig } from '../src/probes/proxy-config.js';
import { hostPort, shq } from '../src/probes/shell.js';
import { regionFromEndpoint, type Target } from '../src/target.js';

/** The address and port a route actually connected to (after DNS and `--connect-to`). */
export interface Peer {
  address: string;
  port: number;
}

/**
 * `nslookup [-port=N] <host> [server]`: the name lookup of the dns stage, asking `--dns-server` (`ADDR`, `ADDR:PORT`
 * or `[IPv6]:PORT`) on its own port; nslookup takes the port as `-port=N`, not in the server's address.
 */
export function nslookupCommand(target: Target, host: string): string {
  if (!target.dnsServer) return `nslookup ${host}`;
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(target.dnsServer) ?? /^([^:]+):(\d+)$/.exec(target.dnsServer);
  const address = m?.[1] ?? target.dnsServer;
  const port = m?.[2] && m[2] !== '53' ? `-port=${m[2]} ` : '';
  return `nslookup ${port}${host} ${address}`;
}

/** `nc -vz -w <s> <address> <port>`: the TCP connect of the tcp stage, with the run's timeout in whole seconds. */
export function ncCommand(target: Target, peer: Peer): string {
  return `nc -vz -w ${Math.ceil(target.timeoutMs / 1000)} ${peer.address} ${peer.port}`;
}

/** The proxy a route goes through (`… via proxy` instances), or undefined for a direct route. */
function routeProxy(target: Target, spec: RouteSpec): ProxyConfig | undefined {
  return spec.transport === 'proxy' && target.proxy ? target.proxy : undefined;
}

/**
 * Where `openssl s_client` connects for this route: the address the route reached, or, through an HTTP proxy, the
 * endpoint's port by `-proxy` (OpenSSL ≥ 1.1.0 sends the CONNECT; `-proxy_user` and `-proxy_pass env:…`, OpenSSL 3,
 * so the password is never on the line). `s_client` has no SOCKS support: a SOCKS route names the endpoint's port
 * and a comment line (`sClientCommand`) says so.
 */
function sClientConnect(target: Target, spec: RouteSpec, host: string, port: number): string[] {
  const proxy = routeProxy(target, spec);
  if (!proxy) return ['-connect', hostPort(host, port)];
  const connect = ['-connect', hostPort(target.endpoint, spec.port)];
  if (proxy.kind !== 'http') return connect;
  const user = proxy.user !== undefined ? ['-proxy_user', shq(proxy.user), '-proxy_pass', 'env:PROXY_PASSWORD'] : [];
  return [...connect, '-proxy', hostPort(proxy.host, proxy.port), ...user];
}

/** `openssl s_client` connecting as this route does: address, SNI, ALPN, the CA file and the client credentials. */
export function sClientArgs(target: Target, spec: RouteSpec, host: string, port: number): string[] {
  const parts = ['openssl', 's_client', ...sClientConnect(target, spec, host, port), '-servername', target.endpoint];
  if (spec.alpn) parts.push('-alpn', spec.alpn);
  parts.push('-CAfile', shq(target.caPath ?? 'AmazonRootCA1.pem'));
  if (spec.auth) return parts; // custom authentication: no client certificate
  if (target.certPath) parts.push('-cert', shq(target.certPath));
  if (target.keyPath) parts.push('-key', shq(target.keyPath));
  return parts;
}

/** The `openssl s_client` line that repeats this route's handshake by hand (full output: it shows the ALPN result). */
export function sClientCommand(target: Target, spec: RouteSpec, host: string, port: number): string {
  const verify = ['-verify_hostname', target.endpoint, '-verify_return_error', '-showcerts', '</dev/null'];
  return proxyNote(target, spec, 'openssl s_client') + [...sClientArgs(target, spec, host, port), ...verify].join(' ');
}

/** A comment line before a by-hand command that cannot go through the route's proxy (or needs its password). */
function proxyNote(target: Target, spec: RouteSpec, tool: 'openssl s_client' | 'mosquitto'): string {
  const proxy = routeProxy(target, spec);
  if (!proxy) return '';
  const kind = proxy.kind === 'http' ? 'an HTTP' : 'a SOCKS';
  const through =
    (tool === 'openssl s_client' && proxy.kind === 'http') || (tool === 'mosquitto' && proxy.kind !== 'http');
  if (!through) return `# ${tool} cannot go through ${kind} proxy: run this where port ${spec.port} is reachable\n`;
  return proxy.password !== undefined ? '# set PROXY_PASSWORD to the proxy password first\n' : '';
}

function tlsFlags(target: Target): string[] {
  const flags = [`--cafile ${shq(target.caPath ?? 'AmazonRootCA1.pem')}`];
  if (target.certPath) flags.push(`--cert ${shq(target.certPath)}`);
  if (target.keyPath) flags.push(`--key ${shq(target.keyPath)}`);
  return flags;
}

function hostsNote(target: Target, peer: Peer, spec: RouteSpec): string {
  return peer.address === target.endpoint || (peer.port === spec.port && !target.connectTo.length)
    ? ''
    : `# mosquitto connects to the name it verifies: first map ${target.endpoint} to ${peer.address} ` +
        '(e.g. in /etc/hosts)\n';
}

/**
 * `mosquitto_pub` (one QoS 1 message) or `mosquitto_sub` (one message, bounded wait) as the route's MQTT session:
 * endpoint name, port, TLS files, ALPN, MQTT version, client id and topic. Prefixed by a comment line when the
 * route connected to another address than the endpoint's (mosquitto verifies the name it connects to).
 */
export function mosquittoCommand(
  tool: 'mosquitto_pub' | 'mosquitto_sub',
  target: Target,
  spec: RouteSpec,
  peer: Peer,
  clientId: string,
  topic: string,
): string {
  const proxy = routeProxy(target, spec);
  const port = proxy ? spec.port : peer.port;
  const parts = [tool, '-h', target.endpoint, '-p', String(port), ...tlsFlags(target)];
  // mosquitto's --proxy (SOCKS5 only) takes the password in the URL: "$PROXY_PASSWORD" keeps it off the line.
  if (proxy && proxy.kind !== 'http') parts.push('--proxy', socksUrl(proxy));
  if (spec.alpn) parts.push('--tls-alpn', spec.alpn);
  if (target.mqttVersion === 5) parts.push('-V', 'mqttv5');
  parts.push('-i', shq(clientId), '-t', shq(topic), '-q', '1', '-d');
  if (tool === 'mosquitto_pub') parts.push('-m', shq('{"probe":"by hand"}'));
  else parts.push('-C', '1', '-W', String(Math.max(5, Math.ceil(target.timeoutMs / 1000) * 2)));
  return (proxy ? proxyNote(target, spec, 'mosquitto') : hostsNote(target, peer, spec)) + parts.join(' ');
}

function socksUrl(proxy: ProxyConfig): string {
  const user =
    proxy.user !== undefined ? `${encodeURIComponent(proxy.user)}${proxy.password ? ':$PROXY_PASSWORD' : ''}@` : '';
  return `"socks5h://${user}${hostPort(proxy.host, proxy.port)}"`;
}

/**
 * The HTTPS publish (`POST /topics/<topic>?qos=1`) by hand: curl for routes without ALPN (with `--connect-to` when
 * the peer is not the endpoint's own address); for ALPN routes `printf … | openssl s_client`, since curl cannot offer
 * a custom ALPN protocol id.
 */
export function httpsPublishCommand(target: Target, spec: RouteSpec, peer: Peer, topic: string): string {
  const url = `https://${target.endpoint}:${spec.port}${publishPath(topic)}`;
  const body = '{"probe":"by hand"}';
  if (!spec.alpn) {
    const parts = ['curl', '--cacert', shq(target.caPath ?? 'AmazonRootCA1.pem')];
    if (target.certPath) parts.push('--cert', shq(target.certPath));
    if (target.keyPath) parts.push('--key', shq(target.keyPath));
    const proxy = routeProxy(target, spec);
    if (proxy) parts.push(...curlProxyArgs(proxy));
    else if (peer.address !== target.endpoint || peer.port !== spec.port) {
      const address = peer.address.includes(':') ? `[${peer.address}]` : peer.address;
      parts.push('--connect-to', shq(`${target.endpoint}:${spec.port}:${address}:${peer.port}`));
    }
    parts.push('-X', 'POST', '-H', "'content-type: application/json'", '-d', shq(body), '-D', '-', shq(url));
    return parts.join(' ');
  }
  const req =
    `POST ${publishPath(topic)} HTTP/1.1\\r\\nHost: ${target.endpoint}\\r\\nContent-Type: application/json\\r\\n` +
    `Content-Length: ${body.length}\\r\\nConnection: close\\r\\n\\r\\n${body}`;
  return `printf ${shq(req)} | ${[...sClientArgs(target, spec, peer.address, peer.port), '-quiet'].join(' ')}`;
}

/** The region `mqtt-wss-443` signs with (as checks/stages/upgrade.ts decides it), for the by-hand line. */
function wssRegion(target: Target): string | undefined {
  return target.signingRegion ?? regionFromEndpoint(target.endpoint) ?? target.region;
}

/**
 * The WebSocket upgrade of `mqtt-wss-443` by hand: curl's HTTP/1.1 `GET /mqtt` with the upgrade headers (field notes
 * §4.1) to the URL `iot-doctor presign` signs when the line runs, with the user's own AWS credentials: the signed URL
 * (access key id, session token) never appears in a report. curl prints the answer's status and headers (101, or
 * 403 with `x-amzn-ErrorType`; field notes §4.2), then waits on the open WebSocket: `--max-time` ends it. A comment
 * line says so, and that no standard command-line tool speaks MQTT over a SigV4 WebSocket.
 */
export function wssUpgradeCommand(target: Target, spec: RouteSpec, peer: Peer): string {
  const region = wssRegion(target);
  const presign = ['iot-doctor', 'presign', '--endpoint', shq(target.endpoint), '--scheme', 'https'];
  if (region) presign.push('--region', shq(region));
  if (target.awsProfile) presign.push('--profile', shq(target.awsProfile));
  const parts = ['curl', '-sS', '-i', '--http1.1', '--max-time', String(Math.ceil(target.timeoutMs / 1000))];
  parts.push('--cacert', shq(target.caPath ?? 'AmazonRootCA1.pem'));
  const proxy = routeProxy(target, spec);
  if (proxy) parts.push(...curlProxyArgs(proxy));
  else if (peer.address !== target.endpoint || peer.port !== spec.port) {
    const address = peer.address.includes(':') ? `[${peer.address}]` : peer.address;
    parts.push('--connect-to', `${target.endpoint}:${spec.port}:${address}:${peer.port}`);
  }
  parts.push('-H', "'Connection: Upgrade'", '-H', "'Upgrade: websocket'", '-H', "'Sec-WebSocket-Version: 13'");
  parts.push('-H', '"Sec-WebSocket-Key: $(head -c 16 /dev/urandom | base64)"', '-H', "'Sec-WebSocket-Protocol: mqtt'");
  parts.push(`"$(${presign.join(' ')})"`);
  return (
    '# the SigV4 URL is signed when this runs (iot-doctor presign, your AWS credentials); HTTP/1.1 101 = accepted, ' +
    '403 + x-amzn-ErrorType = refused; curl then waits on the open WebSocket until --max-time\n' +
    parts.join(' ')
  );
}

/**
 * The by-hand lines of `mqtt-wss-443`'s MQTT session: no standard command-line tool speaks MQTT over a SigV4-signed
 * WebSocket (mosquitto_pub/_sub sign nothing; with the device certificate they test another route), so a comment
 * says so and the upgrade line shows the part a shell can repeat. `sub`: the comment alone.
 */
export function wssSessionCommands(target: Target, spec: RouteSpec, peer: Peer): { pub: string; sub: string } {
  const note =
    '# no standard command-line MQTT client signs a WebSocket URL with SigV4 (mosquitto_pub/_sub cannot): ' +
    'for CONNECT, publish and subscribe use an AWS IoT Device SDK over WebSocket; the upgrade by hand:';
  return { pub: `${note}\n${wssUpgradeCommand(target, spec, peer)}`, sub: note.replace(/; the upgrade by hand:$/, '') };
}
