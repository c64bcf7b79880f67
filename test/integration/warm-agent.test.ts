/**
 * The API connections opened while the SDK loads (src/probes/iot-api/warm-agent.ts): against a real HTTP server on
 * loopback, the agent's requests use the connections opened ahead (no new connection), a connection the server
 * closed is not handed out, and the URL known ahead follows the SDK's endpoint settings.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiUrlAhead, warmAgents } from '../../src/probes/iot-api/warm-agent.js';

let server: Server;
let url: string;
const accepted: Socket[] = [];

beforeAll(async () => {
  server = createServer((req, res) => res.end(`ok ${req.url}`));
  server.on('connection', (s: Socket) => accepted.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function get(agent: import('node:http').Agent, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { agent }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

async function settle(count: number): Promise<void> {
  for (let i = 0; i < 100 && accepted.length < count; i++) await new Promise((r) => setTimeout(r, 10));
}

describe('warm API connections', () => {
  it('parallel calls use the connections opened ahead: the server accepts no other', async () => {
    accepted.length = 0;
    const agents = warmAgents({ endpoint: url, timeoutMs: 3000 }, 4)!;
    await settle(4);
    expect(accepted).toHaveLength(4);
    const bodies = await Promise.all([1, 2, 3, 4].map((i) => get(agents.httpAgent, `/call${i}`)));
    expect(bodies).toEqual(['ok /call1', 'ok /call2', 'ok /call3', 'ok /call4']);
    expect(accepted).toHaveLength(4);
    agents.httpAgent.destroy();
    agents.httpsAgent.destroy();
  });

  it('a connection the server closed is not handed out: the call connects anew and is answered', async () => {
    accepted.length = 0;
    const agents = warmAgents({ endpoint: url, timeoutMs: 3000 }, 1)!;
    await settle(1);
    accepted[0]!.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(await get(agents.httpAgent, '/after-close')).toBe('ok /after-close');
    expect(accepted).toHaveLength(2);
    agents.httpAgent.destroy();
  });

  it('the URL known ahead: the option, the SDK variables, the regional endpoint; none for FIPS, China or nothing', () => {
    expect(apiUrlAhead({ endpoint: 'http://127.0.0.1:9', timeoutMs: 1 }, {})?.href).toBe('http://127.0.0.1:9/');
    const env = { AWS_ENDPOINT_URL_IOT: 'https://vpce.example.com', AWS_ENDPOINT_URL: 'https://other.example.com' };
    expect(apiUrlAhead({ timeoutMs: 1, region: 'eu-west-1' }, env)?.host).toBe('vpce.example.com');
    expect(apiUrlAhead({ timeoutMs: 1 }, { AWS_ENDPOINT_URL: 'https://other.example.com' })?.host).toBe(
      'other.example.com',
    );
    const ignored = { ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' };
    expect(apiUrlAhead({ timeoutMs: 1, region: 'eu-west-1' }, ignored)?.href).toBe(
      'https://iot.eu-west-1.amazonaws.com/',
    );
    const data = { timeoutMs: 1, dataEndpoint: 'abc123-ats.iot.us-east-2.amazonaws.com' };
    expect(apiUrlAhead(data, {})?.host).toBe('iot.us-east-2.amazonaws.com');
    expect(apiUrlAhead({ timeoutMs: 1, region: 'eu-west-1' }, { AWS_USE_FIPS_ENDPOINT: 'true' })).toBeUndefined();
    expect(apiUrlAhead({ timeoutMs: 1, region: 'cn-north-1' }, {})).toBeUndefined();
    expect(apiUrlAhead({ timeoutMs: 1 }, {})).toBeUndefined();
    expect(apiUrlAhead({ timeoutMs: 1 }, { AWS_ENDPOINT_URL_IOT: 'not a url' })).toBeUndefined();
  });
});
