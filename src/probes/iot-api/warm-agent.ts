/**
 * Connections to the AWS IoT API opened before the SDK has loaded (issue 16: the cloud checks cost at most one round
 * trip). The session knows the API's URL from its options before `@aws-sdk/client-iot` is parsed: a few TCP (http)
 * or TLS (https) connections to it are opened at once, and the SDK's keep-alive agent takes them over as its first
 * sockets, so the first round of calls no longer waits for the connect (and TLS) round trips, and parallel calls do
 * not each open their own. A connection that failed, closed or was never taken is dropped: the agent then connects
 * as it would have without them. Every connection has the call deadline; none keeps the process alive.
 */
import { Agent as HttpAgent, type AgentOptions } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import { regionFromEndpoint } from '../../target.js';
import type { IotApiOptions } from './types.js';

/**
 * How many connections are opened ahead: the widest round of the cloud checks' calls (8 with the certificate's ARN
 * and thing known ahead: DescribeEndpoint, DescribeCertificate, ListAttachedPolicies, ListPrincipalThings, two
 * GetEffectivePolicies, ListThingGroupsForThing, GetThingConnectivityData), and two to spare.
 */
export const WARM_SOCKETS = 10;

/**
 * The URL the SDK will send the IoT API calls to, when it is known without the SDK: the options' endpoint, the SDK's
 * `AWS_ENDPOINT_URL_IOT` / `AWS_ENDPOINT_URL` (unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`), else the regional
 * endpoint `https://iot.<region>.amazonaws.com` of the commercial partition (AWS General Reference, AWS IoT Core
 * endpoints) when the region is known and no FIPS or dual-stack endpoint is asked for. Undefined otherwise.
 */
export function apiUrlAhead(options: IotApiOptions, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const configured =
    env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'] === 'true'
      ? undefined
      : (env['AWS_ENDPOINT_URL_IOT'] ?? env['AWS_ENDPOINT_URL']);
  const region = options.region ?? (options.dataEndpoint ? regionFromEndpoint(options.dataEndpoint) : undefined);
  const special = env['AWS_USE_FIPS_ENDPOINT'] === 'true' || env['AWS_USE_DUALSTACK_ENDPOINT'] === 'true';
  const regional =
    region && !special && /^[a-z]{2}(-[a-z]+)+-\d+$/.test(region) && !/^(cn|us-iso)/.test(region)
      ? `https://iot.${region}.amazonaws.com`
      : undefined;
  const url = options.endpoint ?? configured ?? regional;
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : undefined;
  } catch {
    return undefined;
  }
}

/** The connections opened ahead to one host and port, taken in order by the agent. */
class WarmPool {
  private readonly idle: Socket[] = [];

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  add(socket: Socket, timeoutMs: number): void {
    socket.unref();
    const drop = (): void => {
      socket.destroy();
      const i = this.idle.indexOf(socket);
      if (i >= 0) this.idle.splice(i, 1);
    };
    socket.once('error', drop);
    socket.once('close', drop);
    socket.setTimeout(timeoutMs, drop);
    this.idle.push(socket);
  }

  /** A connection to `host:port` still open (or opening), taken out of the pool; undefined when none is left. */
  take(host: string | null | undefined, port: number): Socket | undefined {
    if (host !== this.host || port !== this.port) return undefined;
    while (this.idle.length) {
      const s = this.idle.shift()!;
      s.removeAllListeners('error').removeAllListeners('close').removeAllListeners('timeout');
      s.setTimeout(0);
      if (!s.destroyed) {
        s.ref();
        return s;
      }
    }
    return undefined;
  }

  destroy(): void {
    for (const s of this.idle.splice(0)) s.destroy();
  }
}

type Create = (options: Record<string, unknown>, cb?: (err: Error | null, s: Duplex) => void) => Duplex;

/** Makes `agent` hand out the pool's connections before connecting by itself. */
function takeFirst<T extends HttpAgent>(agent: T, pool: WarmPool, https: boolean): T {
  const own = (agent as unknown as { createConnection: Create }).createConnection.bind(agent);
  const defaultPort = https ? 443 : 80;
  (agent as unknown as { createConnection: Create }).createConnection = (options, cb) => {
    const host = (options['host'] ?? options['hostname']) as string | undefined;
    const warm = pool.take(host, Number(options['port'] ?? defaultPort));
    return warm ?? own(options, cb);
  };
  const destroy = agent.destroy.bind(agent);
  agent.destroy = () => {
    pool.destroy();
    destroy();
  };
  return agent;
}

/**
 * Opens `count` connections to the API URL now (TLS with the host as SNI and the default trust store for https,
 * as the SDK's own agent does) and returns the keep-alive agents (the SDK's defaults: keep-alive, 50 sockets) that
 * take them over; undefined when the URL is not known ahead. Never throws; connection errors only drop a connection.
 */
export function warmAgents(
  options: IotApiOptions,
  count = WARM_SOCKETS,
): { httpAgent: HttpAgent; httpsAgent: HttpsAgent } | undefined {
  const url = apiUrlAhead(options);
  if (!url) return undefined;
  const https = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (https ? 443 : 80));
  const pool = new WarmPool(host, port);
  for (let i = 0; i < count; i++) {
    try {
      const socket = https
        ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }) })
        : netConnect({ host, port });
      pool.add(socket, options.timeoutMs);
    } catch {
      break;
    }
  }
  const agentOptions: AgentOptions = { keepAlive: true, maxSockets: 50 };
  return {
    httpAgent: takeFirst(new HttpAgent(agentOptions), https ? new WarmPool('', 0) : pool, false),
    httpsAgent: takeFirst(new HttpsAgent(agentOptions), https ? pool : new WarmPool('', 0), true),
  };
}
