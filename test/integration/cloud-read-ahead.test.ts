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
import {
  createLabPki,
  LAB_ACCOUNT_ID,
  LAB_DEVICE_NAME,
  LAB_FLEET_GROUP,
  startLab,
  type Lab,
} from '../../src/lab/index.js';
import type { Target } from '../../src/target.js';
import type { CheckResult } from '../../src/model/index.js';
import { awsEnvSandbox, runLabCloud } from '../helpers/cloud-run.js';

const HOLD_MS = 400;
const sandbox = awsEnvSandbox('iot-doctor-read-ahead-');
let lab: Lab;
/** Each lab's device CA certificate id (its PKI's), to read another lab's results as the main lab's. */
const caIds = new Map<Lab, string>();
const relays: Server[] = [];
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

/** A relay in front of `target`'s control plane; its URL. */
async function startRelay(target: Lab): Promise<string> {
  const relay = createServer(relayTo(new URL(target.apiEndpoint)));
  relays.push(relay);
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  const pki = createLabPki('ec');
  lab = await startLab({ scenario: 'healthy', pki, mqtt5: 'off' });
  caIds.set(lab, pki.deviceCa.certificateId);
  relayUrl = await startRelay(lab);
}, 60_000);

afterAll(async () => {
  for (const relay of relays) {
    relay.closeAllConnections();
    await new Promise((r) => relay.close(r));
  }
  await lab?.close();
  sandbox.restore();
});

/**
 * The cloud results (id, status, code, summary) of one run with environment keys and `env`, and what was asked; on
 * `on` (another lab and its relay) with the target changed by `target`. The certificate ids of that lab read as the
 * main lab's, so results of labs that differ only in their certificates compare equal.
 */
async function run(
  env: Record<string, string> = {},
  on: { lab: Lab; relayUrl: string } = { lab, relayUrl },
  target: Partial<Target> = {},
): Promise<{ results: string[]; seen: Seen[] }> {
  sandbox.clean({
    AWS_ACCESS_KEY_ID: 'AKIDREADAHEAD',
    AWS_SECRET_ACCESS_KEY: 'lab',
    AWS_ENDPOINT_URL_IOT: on.relayUrl,
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: on.lab.apiEndpoint,
    ...env,
  });
  seen.length = 0;
  const { results } = await runLabCloud(on.lab, target);
  const ids = (l: Lab): string[] => [l.device.certificateId, caIds.get(l)!, l.endpoint];
  const line = (r: CheckResult): string => {
    let text = `${r.id} ${r.status} ${r.code} ${r.summary}`;
    ids(on.lab).forEach((id, i) => (text = text.replaceAll(id, ids(lab)[i]!)));
    return text;
  };
  // cloud.credentials names the account when the chain gave one: the only line that may differ.
  return { results: results.filter((r) => r.id !== 'cloud.credentials').map(line), seen: [...seen] };
}

/** When DescribeCertificate's (held) answer left the relay. */
function certificateAnsweredAt(s: Seen[]): number {
  const dc = s.filter((x) => /^GET \/certificates\/[0-9a-f]{64}$/.test(x.what));
  expect(dc, 'one DescribeCertificate').toHaveLength(1);
  return dc[0]!.answeredAt!;
}

/** The requests that need the certificate's ARN: its policies, its things, the policies in effect for it. */
const NEEDS_ARN = /principal=arn:|^POST \/attached-policies\/arn:[^ ]*:cert\/|^POST \/effective-policies/;
/** The requests about a thing, by name: its groups, their policies, its connectivity data. */
const THING_READS =
  /^GET \/things\/[^/]+\/thing-groups$|^POST \/attached-policies\/arn:[^ ]*:thinggroup\/|^POST \/things\/[^/]+\/connectivity-data$/;
/** The requests made about the thing `name` (and its groups' policies) before `answered`. */
function thingReadsBefore(s: Seen[], answered: number): string[] {
  return s.filter((x) => THING_READS.test(x.what) && x.arrivedAt < answered).map((x) => x.what);
}

describe('the certificate inventory read ahead from a known account id', () => {
  let baseline: string[];

  beforeAll(async () => {
    baseline = (await run()).results;
    expect(baseline.filter((l) => l.includes(' pass ')).length).toBeGreaterThan(5);
  }, 60_000);

  it('keys alone: nothing that needs the certificate ARN is asked before DescribeCertificate answers', async () => {
    const { results, seen: s } = await run();
    const answered = certificateAnsweredAt(s);
    const inventory = s.filter((x) => NEEDS_ARN.test(x.what));
    expect(inventory.length).toBeGreaterThan(3);
    for (const x of inventory) expect(x.arrivedAt, x.what).toBeGreaterThanOrEqual(answered);
    expect(results).toEqual(baseline);
  });

  it("keys alone: the likely thing's groups, their policies and its connectivity data are asked while it is unanswered, each once", async () => {
    const { results, seen: s } = await run();
    const answered = certificateAnsweredAt(s);
    const early = thingReadsBefore(s, answered);
    expect(early.sort()).toEqual(
      [
        `GET /things/${LAB_DEVICE_NAME}/thing-groups`,
        `POST /attached-policies/arn:aws:iot:${lab.region}:${LAB_ACCOUNT_ID}:thinggroup/${LAB_FLEET_GROUP}`,
        `POST /things/${LAB_DEVICE_NAME}/connectivity-data`,
      ].sort(),
    );
    for (const what of early)
      expect(
        s.filter((x) => x.what === what),
        what,
      ).toHaveLength(1);
    expect(results).toEqual(baseline);
  });

  it("AWS_ACCOUNT_ID: policies, things, their groups and the groups' policies are asked while it is unanswered", async () => {
    const { results, seen: s } = await run({ AWS_ACCOUNT_ID: LAB_ACCOUNT_ID });
    const answered = certificateAnsweredAt(s);
    const early = s
      .filter((x) => (NEEDS_ARN.test(x.what) || THING_READS.test(x.what)) && x.arrivedAt < answered)
      .map((x) => x.what);
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
    for (const x of seen.filter((y) => NEEDS_ARN.test(y.what)))
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

describe('the likely thing: named like the certificate CN or the client id the user gave', () => {
  /** A lab like the main one whose device certificate has the subject CN `cn`, and its relay. */
  async function labWithCommonName(cn: string): Promise<{ lab: Lab; relayUrl: string }> {
    const pki = createLabPki('ec', { deviceCommonName: cn });
    const other = await startLab({ scenario: 'healthy', pki, mqtt5: 'off' });
    others.push(other);
    caIds.set(other, pki.deviceCa.certificateId);
    return { lab: other, relayUrl: await startRelay(other) };
  }
  const others: Lab[] = [];
  // The client id stays the thing's name (policies are evaluated for it) but is not the user's: not a guess.
  const defaultedClientId: Partial<Target> = { clientIdFromUser: false };
  let baseline: string[];

  beforeAll(async () => {
    baseline = (await run({}, { lab, relayUrl }, defaultedClientId)).results;
  }, 60_000);
  afterAll(async () => {
    await Promise.all(others.map((l) => l.close()));
  });

  it('a CN that names another thing: that name is asked about, then the real thing; the results are unchanged', async () => {
    const on = await labWithCommonName('lab-sensor-7');
    const { results, seen: s } = await run({}, on, defaultedClientId);
    const answered = certificateAnsweredAt(s);
    expect(thingReadsBefore(s, answered).sort()).toEqual(
      ['GET /things/lab-sensor-7/thing-groups', 'POST /things/lab-sensor-7/connectivity-data'].sort(),
    );
    const real = s.filter((x) => x.what === `GET /things/${LAB_DEVICE_NAME}/thing-groups`);
    expect(real).toHaveLength(1);
    expect(real[0]!.arrivedAt).toBeGreaterThanOrEqual(answered);
    expect(results).toEqual(baseline);
  });

  it('a CN that is no thing name ("AWS IoT Certificate"): nothing about a thing is asked before the answer', async () => {
    const on = await labWithCommonName('AWS IoT Certificate');
    const { results, seen: s } = await run({}, on, defaultedClientId);
    expect(thingReadsBefore(s, certificateAnsweredAt(s))).toEqual([]);
    expect(results).toEqual(baseline);
  });

  it("that CN and the thing's name given as the client id: the thing's reads are asked at once", async () => {
    const on = await labWithCommonName('AWS IoT Certificate');
    const { seen: s } = await run({}, on, { clientId: LAB_DEVICE_NAME, clientIdFromUser: true });
    expect(thingReadsBefore(s, certificateAnsweredAt(s))).toContain(`GET /things/${LAB_DEVICE_NAME}/thing-groups`);
  });

  it("two attached things: their group policies are listed in the things' order, whichever thing was guessed", async () => {
    const on = await labWithCommonName('lab-sensor-7');
    const reg = on.lab.registry;
    reg.createThing('lab-sensor-7', {});
    reg.attachThingPrincipal(
      'lab-sensor-7',
      `arn:aws:iot:${on.lab.region}:${LAB_ACCOUNT_ID}:cert/${on.lab.device.certificateId}`,
    );
    reg.addThingToGroup('lab-sensor-7', 'other-fleet');
    reg.createPolicy('other-fleet-receive', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'iot:Receive', Resource: '*' }],
    });
    reg.attachPolicyToGroup('other-fleet-receive', 'other-fleet');
    const attached = async (target: Partial<Target>): Promise<string> =>
      (await run({}, on, target)).results.find((l) => l.startsWith('cloud.policy-attached '))!;
    // Read ahead for lab-sensor-7 (the CN), then for lab-device-1 (the client id): the answers come in other orders.
    const a = await attached(defaultedClientId);
    const b = await attached({ clientId: LAB_DEVICE_NAME, clientIdFromUser: true });
    expect(a).toContain('other-fleet-receive');
    expect(a).toContain('lab-fleet-telemetry');
    expect(b).toBe(a);
  });
});
