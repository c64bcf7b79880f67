/**
 * The certificate's inventory read ahead when the credential chain already names the account (issue 16): with
 * `AWS_ACCOUNT_ID` set, the cloud checks ask for the certificate's attached policies, things and their groups while
 * DescribeCertificate is still unanswered; with keys alone they wait for its answer (the ARN carries the account id);
 * with a wrong account id the read-ahead's answers are never used. In every case the cloud results are those of the run
 * without a read-ahead. A real HTTP relay on loopback stands between the SDK and the lab's control plane: it records
 * each request and holds DescribeCertificate's answer for HOLD_MS, so "while unanswered" is a fact the test observes.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, LAB_ACCOUNT_ID, startLab, type Lab } from '../../src/lab/index.js';
import type { CheckResult } from '../../src/model/index.js';
import { awsEnvSandbox, runLabCloud } from '../helpers/cloud-run.js';

const HOLD_MS = 400;
const sandbox = awsEnvSandbox('iot-doctor-read-ahead-');
let lab: Lab;
let relay: Server;
let relayUrl: string;

/** One request the relay passed on: what was asked, when it arrived and when its answer left (ms, performance.now). */
interface Seen {
  what: string;
  arrivedAt: number;
  answeredAt?: number;
}
const seen: Seen[] = [];

/** `GET /certificates/<id>`, with the principal header of ListPrincipalThings named. */
function describeRequest(req: IncomingMessage): string {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://relay.invalid').pathname);
  const principal = req.headers['x-amzn-principal'];
  return `${req.method} ${path}${typeof principal === 'string' ? ` principal=${principal}` : ''}`;
}

function relayTo(target: URL) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const entry: Seen = { what: describeRequest(req), arrivedAt: performance.now() };
    seen.push(entry);
    const hold = /^GET \/certificates\/[0-9a-f]{64}$/.test(entry.what) ? HOLD_MS : 0;
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          setTimeout(() => {
            entry.answeredAt = performance.now();
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(chunks));
          }, hold);
        });
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };
}

beforeAll(async () => {
  lab = await startLab({ scenario: 'healthy', pki: createLabPki('ec'), mqtt5: 'off' });
  relay = createServer(relayTo(new URL(lab.apiEndpoint)));
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  relay?.closeAllConnections();
  await new Promise((r) => relay?.close(r));
  await lab?.close();
  sandbox.restore();
});

/** The cloud results (id, status, code, summary) of one run with environment keys and `extra`, and what was asked. */
async function run(extra: Record<string, string> = {}): Promise<{ results: string[]; seen: Seen[] }> {
  sandbox.clean({
    AWS_ACCESS_KEY_ID: 'AKIDREADAHEAD',
    AWS_SECRET_ACCESS_KEY: 'lab',
    AWS_ENDPOINT_URL_IOT: relayUrl,
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: lab.apiEndpoint,
    ...extra,
  });
  seen.length = 0;
  const { results } = await runLabCloud(lab);
  const line = (r: CheckResult): string => `${r.id} ${r.status} ${r.code} ${r.summary}`;
  // cloud.credentials names the account when the chain gave one: the only line that may differ.
  return { results: results.filter((r) => r.id !== 'cloud.credentials').map(line), seen: [...seen] };
}

/** When DescribeCertificate's (held) answer left the relay. */
function certificateAnsweredAt(s: Seen[]): number {
  const dc = s.filter((x) => /^GET \/certificates\/[0-9a-f]{64}$/.test(x.what));
  expect(dc, 'one DescribeCertificate').toHaveLength(1);
  return dc[0]!.answeredAt!;
}

/** The requests that need the certificate's ARN or what it leads to: its policies, things, their groups. */
const INVENTORY =
  /principal=arn:|^POST \/attached-policies\/arn:|^POST \/effective-policies|^GET \/things\/[^/]+\/thing-groups$/;

describe('the certificate inventory read ahead from a known account id', () => {
  let baseline: string[];

  beforeAll(async () => {
    baseline = (await run()).results;
    expect(baseline.filter((l) => l.includes(' pass ')).length).toBeGreaterThan(5);
  }, 60_000);

  it('keys alone: nothing that needs the certificate ARN is asked before DescribeCertificate answers', async () => {
    const { results, seen: s } = await run();
    const answered = certificateAnsweredAt(s);
    const inventory = s.filter((x) => INVENTORY.test(x.what));
    expect(inventory.length).toBeGreaterThan(3);
    for (const x of inventory) expect(x.arrivedAt, x.what).toBeGreaterThanOrEqual(answered);
    expect(results).toEqual(baseline);
  });

  it("AWS_ACCOUNT_ID: policies, things, their groups and the groups' policies are asked while it is unanswered", async () => {
    const { results, seen: s } = await run({ AWS_ACCOUNT_ID: LAB_ACCOUNT_ID });
    const answered = certificateAnsweredAt(s);
    const early = s.filter((x) => INVENTORY.test(x.what) && x.arrivedAt < answered).map((x) => x.what);
    const arn = `arn:aws:iot:${lab.region}:${LAB_ACCOUNT_ID}:cert/${lab.device.certificateId}`;
    expect(early).toEqual(
      expect.arrayContaining([
        `POST /attached-policies/${arn}`,
        `GET /principals/things principal=${arn}`,
        expect.stringMatching(/^POST \/effective-policies/),
        expect.stringMatching(/^GET \/things\/[^/]+\/thing-groups$/),
        expect.stringMatching(/^POST \/attached-policies\/arn:aws:iot:[^:]+:\d{12}:thinggroup\//),
      ]),
    );
    // Each asked once: the checks took the read-ahead's answers instead of asking again.
    expect(s.filter((x) => x.what === `GET /principals/things principal=${arn}`)).toHaveLength(1);
    expect(results).toEqual(baseline);
  });

  it('an AWS_ACCOUNT_ID that is not a 12-digit account id is not used: nothing is read ahead', async () => {
    sandbox.clean({ AWS_ACCESS_KEY_ID: 'AKIDREADAHEAD', AWS_SECRET_ACCESS_KEY: 'lab', AWS_ENDPOINT_URL_IOT: relayUrl });
    seen.length = 0;
    process.env['AWS_ACCOUNT_ID'] = 'abc';
    const { get } = await runLabCloud(lab);
    const answered = certificateAnsweredAt(seen);
    for (const x of seen.filter((y) => INVENTORY.test(y.what)))
      expect(x.arrivedAt, x.what).toBeGreaterThanOrEqual(answered);
    expect(get('cloud.credentials').summary).not.toContain('abc');
  });

  it('a wrong AWS_ACCOUNT_ID: the guessed ARN is asked about, then the real one; the results are unchanged', async () => {
    const { results, seen: s } = await run({ AWS_ACCOUNT_ID: '111122223333' });
    const answered = certificateAnsweredAt(s);
    const wrong = `arn:aws:iot:${lab.region}:111122223333:cert/${lab.device.certificateId}`;
    const right = `arn:aws:iot:${lab.region}:${LAB_ACCOUNT_ID}:cert/${lab.device.certificateId}`;
    const things = (arn: string): Seen[] => s.filter((x) => x.what === `GET /principals/things principal=${arn}`);
    expect(things(wrong)).toHaveLength(1);
    expect(things(wrong)[0]!.arrivedAt).toBeLessThan(answered);
    expect(things(right)).toHaveLength(1);
    expect(things(right)[0]!.arrivedAt).toBeGreaterThanOrEqual(answered);
    expect(results).toEqual(baseline);
  });
});
