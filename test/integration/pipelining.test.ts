/**
 * MQTT pipelining (CONNECT, SUBSCRIBE and PUBLISH in one write, MQTT 3.1.1 §3.1.4) against the real lab (real TLS,
 * certificates generated here, aedes / mosquitto) under every variant of AWS's unconfirmed handling of packets sent
 * before the CONNACK (`LabOptions.earlyPackets`): a healthy device passes every MQTT row, and a device denied at
 * CONNECT, SUBSCRIBE or PUBLISH gets the codes and the diagnosis of the sequential exchange (a short --timeout keeps
 * the exchange sequential: the comparison runs).
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../checks/index.js';
import {
  createLabPki,
  EARLY_PACKETS_VARIANTS,
  startLab,
  type EarlyPacketsVariant,
  type Lab,
  type LabPki,
} from '../../src/lab/index.js';
import type { CheckResult, Report } from '../../src/model/index.js';
import { runDoctor } from '../../src/run.js';
import { parseConnectTo, type Target } from '../../src/target.js';

let pki: LabPki;
/** One lab per scenario and variant, shared by the runs of both MQTT versions (each run its own connections). */
const labs = new Map<string, Promise<{ lab: Lab; files: { ca: string; cert: string; key: string } }>>();
beforeAll(() => {
  pki = createLabPki('rsa');
});
afterAll(async () => {
  await Promise.all([...labs.values()].map(async (l) => (await l).lab.close()));
});

function labFor(scenario: string, earlyPackets?: EarlyPacketsVariant) {
  const key = `${scenario} ${earlyPackets ?? 'default'}`;
  let started = labs.get(key);
  if (!started) {
    started = (async () => {
      const lab = await startLab({ scenario, pki, ...(earlyPackets ? { earlyPackets } : {}) });
      return { lab, files: await lab.writeFiles() };
    })();
    labs.set(key, started);
  }
  return started;
}

const mosquittoPresent = existsSync('/usr/sbin/mosquitto') || existsSync('/usr/bin/mosquitto');
const MQTT_ROUTES = ['mqtt-8883', 'mqtt-443'] as const;
/** Long enough for the pipelined attempt and a sequential repetition on a new connection (`mayPipeline`). */
const PIPELINING_TIMEOUT_MS = 6000;
/** Too short for a repetition: the exchange runs sequentially (the reference the pipelined verdicts must equal). */
const SEQUENTIAL_TIMEOUT_MS = 1500;

interface Case {
  scenario: string;
  /** The topic the probe uses; a topic of another client id is not subscribable under the healthy policy. */
  topic?: string;
}

async function run(c: Case, version: 4 | 5, timeoutMs: number, earlyPackets?: EarlyPacketsVariant): Promise<Report> {
  const { lab, files } = await labFor(c.scenario, earlyPackets);
  const clientId = `iot-doctor-pipe-${c.scenario}`;
  const target: Target = {
    endpoint: lab.endpoint,
    routes: [...MQTT_ROUTES],
    connectTo: lab.connectTo.map(parseConnectTo),
    resolve: [],
    certPath: files.cert,
    keyPath: files.key,
    caPath: files.ca,
    clientId,
    clientIdFromUser: false,
    topic: c.topic ?? `iot-doctor/${clientId}/probe`,
    topicFromUser: c.topic !== undefined,
    mqttVersion: version,
    keepaliveSeconds: 30,
    timeoutMs,
    protocol: true,
    cloud: false,
    warnDays: 30,
    region: lab.region,
  };
  const checks = catalogue(target).filter((x) => x.family === 'route');
  return runDoctor(target, { checks });
}

function cell(report: Report, id: string): CheckResult {
  const r = report.results.find((x) => x.id === id);
  if (!r) throw new Error(`no result ${id}`);
  return r;
}

/** What a verdict consists of on the MQTT rows: status and code per row, and the diagnosis codes. */
function verdicts(report: Report): Record<string, string> {
  const out: Record<string, string> = {};
  for (const route of MQTT_ROUTES) {
    for (const stage of ['client-auth', 'protocol', 'round-trip']) {
      const r = cell(report, `route.${route}.${stage}`);
      out[`${route}.${stage}`] = `${r.status} ${r.code}`;
    }
  }
  out['diagnosis'] = report.diagnosis
    .map((f) => f.code)
    .sort()
    .join(',');
  return out;
}

const DENIED: Record<string, Case> = {
  connect: { scenario: 'no-policy' },
  subscribe: { scenario: 'healthy', topic: 'iot-doctor/another-device/probe' },
  publish: { scenario: 'policy-no-publish' },
};

/** The code each denial gives (the sequential exchange's, asserted in protocol-stages.test.ts too). */
const DENIED_CODES: Record<4 | 5, Record<string, [string, string]>> = {
  4: {
    connect: ['protocol', 'MQTT_CLOSED_AFTER_CONNECT'],
    subscribe: ['round-trip', 'MQTT_CLOSED_AFTER_SUBSCRIBE'],
    publish: ['round-trip', 'MQTT_CLOSED_AFTER_PUBLISH'],
  },
  5: {
    connect: ['protocol', 'MQTT_CONNACK_REFUSED'],
    subscribe: ['round-trip', 'MQTT_SUBACK_REFUSED'],
    publish: ['round-trip', 'MQTT_PUBACK_REFUSED'],
  },
};

/** How the pipelined attempt ends under each variant on the healthy path: passed, or repeated (and where). */
const HEALTHY_PATH: Record<EarlyPacketsVariant, RegExp | 'pipelined'> = {
  'in-order': 'pipelined',
  close: /repeated sequentially on a new connection/,
  discard: /repeated on the connection/,
  'late-subscription': /repeated on the connection/,
};

for (const version of [4, 5] as const) {
  const label = version === 5 ? 'MQTT 5' : 'MQTT 3.1.1';
  describe.skipIf(version === 5 && !mosquittoPresent)(`pipelining, ${label}`, () => {
    const reference: Record<string, Record<string, string>> = {};

    it('sequential reference: the verdicts of a run too short to pipeline', async () => {
      for (const [what, c] of Object.entries(DENIED)) {
        const report = await run(c, version, SEQUENTIAL_TIMEOUT_MS);
        const [stage, code] = DENIED_CODES[version][what]!;
        expect(cell(report, `route.mqtt-8883.${stage}`).code).toBe(code);
        expect(cell(report, 'route.mqtt-8883.protocol').evidence.pipelined).toBeUndefined();
        reference[what] = verdicts(report);
      }
    });

    for (const variant of EARLY_PACKETS_VARIANTS) {
      it(`lab variant ${variant}: a healthy device passes every MQTT row`, async () => {
        const report = await run({ scenario: 'healthy' }, version, PIPELINING_TIMEOUT_MS, variant);
        for (const route of MQTT_ROUTES) {
          expect(cell(report, `route.${route}.protocol`)).toMatchObject({ status: 'pass', code: 'MQTT_CONNACK_OK' });
          const rt = cell(report, `route.${route}.round-trip`);
          expect(rt).toMatchObject({ status: 'pass', code: 'MQTT_ROUND_TRIP_OK' });
          const expected = HEALTHY_PATH[variant];
          if (expected === 'pipelined') {
            expect(rt.evidence.pipelined).toBe(true);
            expect(rt.summary).toContain('pipelined');
            expect(cell(report, `route.${route}.protocol`).evidence.pipelined).toBe(true);
          } else {
            expect(rt.evidence.pipelined).toBe(false);
            expect(String(rt.evidence.pipelineRepeated)).toMatch(expected);
          }
        }
        expect(report.diagnosis.filter((f) => f.severity === 'critical' || f.severity === 'error')).toEqual([]);
      });

      for (const what of Object.keys(DENIED)) {
        it(`lab variant ${variant}: denied at ${what}, the sequential exchange's codes and diagnosis`, async () => {
          const report = await run(DENIED[what]!, version, PIPELINING_TIMEOUT_MS, variant);
          const [stage, code] = DENIED_CODES[version][what]!;
          for (const route of MQTT_ROUTES) {
            expect(cell(report, `route.${route}.${stage}`)).toMatchObject({ status: 'fail', code });
          }
          expect(cell(report, 'route.mqtt-8883.protocol').evidence.pipelined).not.toBe(true);
          if (reference[what]) expect(verdicts(report)).toEqual(reference[what]);
        });
      }
    }
  });
}
