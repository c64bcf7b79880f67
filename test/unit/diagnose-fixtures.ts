/**
 * Crafted results for the diagnosis rules (pure functions, so hand-built results are enough). A route is built
 * stage by stage: stages before the failing one pass, the failing one carries the given code, later ones are
 * skipped as the route probe does ("blocked by <stage>: <code>").
 */
import {
  routeSpecOf,
  STAGE_IDS,
  STAGE_TITLES,
  routeKindOf,
  routeResultId,
  type CheckResult,
  type Evidence,
  type Finding,
  type Report,
  type RouteId,
  type StageId,
  type Status,
} from '../../src/model/index.js';
import { finishReport } from '../../src/run.js';
import { resolveSiteProfile } from '../../src/site-profile.js';

export const ENDPOINT = 'a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com';
export const ADDRESS = '198.51.100.20';
export const CLIENT_ID = 'iot-doctor-test';
export const TOPIC = `iot-doctor/${CLIENT_ID}/probe`;

export const AMAZON_CHAIN = [
  {
    subject: `CN=*.iot.eu-west-1.amazonaws.com`,
    issuer: 'C=US, O=Amazon, CN=Amazon RSA 2048 M01',
    fingerprint256: 'AA:11:22:33:44:55:66:77:88:99',
    subjectAltName: 'DNS:*.iot.eu-west-1.amazonaws.com',
  },
  {
    subject: 'C=US, O=Amazon, CN=Amazon RSA 2048 M01',
    issuer: 'C=US, O=Amazon, CN=Amazon Root CA 1',
    fingerprint256: 'BB:11',
  },
];

export const PROXY_CHAIN = [
  {
    subject: `CN=${ENDPOINT}`,
    issuer: 'O=Example Corp IT Security, CN=Corporate TLS Inspection CA',
    fingerprint256: 'CC:22:33:44:55:66:77:88:99:00',
    subjectAltName: `DNS:${ENDPOINT}`,
  },
];

export interface StageOverride {
  status?: Status;
  code?: string;
  summary?: string;
  evidence?: Evidence;
  hint?: string;
  reproduce?: string;
  durationMs?: number;
}

function passCode(route: RouteId, stage: StageId): string {
  const spec = routeSpecOf(route)!;
  switch (stage) {
    case 'dns':
      return 'DNS_OK';
    case 'tcp':
      return 'TCP_OK';
    case 'proxy':
      return 'PROXY_CONNECT_OK';
    case 'tls':
      return 'TLS_OK';
    case 'alpn':
      return spec.alpn ? 'ALPN_SELECTED' : 'ALPN_NOT_USED';
    case 'client-auth':
      return 'CLIENT_CERT_ACCEPTED';
    case 'upgrade':
      return 'UPGRADE_OK';
    case 'protocol':
      return spec.protocol === 'mqtt' ? 'MQTT_CONNACK_OK' : 'HTTP_PUBLISH_OK';
    case 'round-trip':
      return spec.protocol === 'mqtt' ? 'MQTT_ROUND_TRIP_OK' : 'HTTP_ROUND_TRIP_OK';
  }
}

function passEvidence(route: RouteId, stage: StageId): Evidence {
  const spec = routeSpecOf(route)!;
  switch (stage) {
    case 'dns':
      return { name: ENDPOINT, addresses: [ADDRESS], source: 'system' };
    case 'tcp':
      return { address: ADDRESS, port: spec.port, family: 4 };
    case 'proxy':
      return {
        proxy: 'http://proxy.example:3128',
        kind: 'http',
        status: 200,
        statusLine: 'HTTP/1.1 200 Connection established',
      };
    case 'tls':
      return {
        address: ADDRESS,
        port: spec.port,
        sni: ENDPOINT,
        protocol: 'TLSv1.3',
        cipher: 'TLS_AES_128_GCM_SHA256',
        chain: AMAZON_CHAIN,
      };
    case 'alpn':
      return { offered: spec.alpn, selected: spec.alpn };
    case 'client-auth':
      return { certificateId: 'f'.repeat(64), protocol: 'TLSv1.3' };
    case 'upgrade':
      return { service: 'iotdevicegateway', status: 101 };
    case 'protocol':
      return spec.protocol === 'mqtt'
        ? { clientId: `${CLIENT_ID}-${spec.port}`, mqttVersion: '3.1.1', topic: TOPIC }
        : { topic: TOPIC, status: 200 };
    case 'round-trip':
      return { topic: TOPIC };
  }
}

/**
 * All seven stages of a route. `stages` overrides individual stages; the first stage whose status is fail or error
 * stops the route, and later stages become SKIPPED unless overridden too. `protocol: false` leaves protocol and
 * round-trip as PROTOCOL_NOT_REQUESTED.
 */
export function route(
  id: RouteId,
  stages: Partial<Record<StageId, StageOverride>> = {},
  opts: { protocol?: boolean } = {},
): CheckResult[] {
  const out: CheckResult[] = [];
  let blocker: CheckResult | undefined;
  const kindStages = routeSpecOf(id)?.stages ?? STAGE_IDS;
  const stageList = id.endsWith(' via proxy')
    ? kindStages.flatMap((s) => (s === 'tcp' ? ['tcp' as const, 'proxy' as const] : [s]))
    : kindStages;
  for (const stage of stageList) {
    const base = { id: routeResultId(id, stage), route: id, stage, title: STAGE_TITLES[stage], durationMs: 10 };
    const o = stages[stage];
    if (blocker && !o) {
      out.push({
        ...base,
        status: 'skip',
        code: 'SKIPPED',
        summary: `blocked by ${blocker.stage}: ${blocker.code}`,
        evidence: {},
        durationMs: 0,
      });
      continue;
    }
    if (!o && opts.protocol === false && (stage === 'protocol' || stage === 'round-trip')) {
      out.push({
        ...base,
        status: 'skip',
        code: 'PROTOCOL_NOT_REQUESTED',
        summary: 'not run (--no-protocol)',
        evidence: {},
        durationMs: 0,
      });
      continue;
    }
    const status = o?.status ?? 'pass';
    const code = o?.code ?? passCode(id, stage);
    const r: CheckResult = {
      ...base,
      status,
      code,
      summary: o?.summary ?? `${stage} ${code}`,
      evidence: { ...passEvidence(id, stage), ...(o?.evidence ?? {}) },
      ...(o?.hint ? { hint: o.hint } : {}),
      ...(o?.reproduce ? { reproduce: o.reproduce } : {}),
      ...(o?.durationMs !== undefined ? { durationMs: o.durationMs } : {}),
    };
    out.push(r);
    if (!blocker && (status === 'fail' || status === 'error')) blocker = r;
  }
  return out;
}

export function fail(code: string, evidence: Evidence = {}, extra: StageOverride = {}): StageOverride {
  return { status: 'fail', code, evidence, ...extra };
}

/** A non-route check result. */
export function check(
  id: string,
  code: string,
  status: Status = 'pass',
  evidence: Evidence = {},
  extra: Partial<CheckResult> = {},
): CheckResult {
  return {
    id,
    route: null,
    stage: null,
    title: `Check ${id}`,
    status,
    code,
    summary: `${id}: ${code}`,
    evidence,
    durationMs: 1,
    ...extra,
  };
}

/** Local checks that pass, as a healthy run has them. */
export function localPasses(): CheckResult[] {
  return [
    check('files.cert', 'CERT_FILE_OK'),
    check('files.key', 'KEY_FILE_OK'),
    check('files.ca', 'CA_FILE_OK'),
    check('cert.key-match', 'CERT_KEY_MATCH_OK'),
    check('cert.validity', 'CERT_VALIDITY_OK', 'pass', {
      notBefore: '2026-01-01T00:00:00Z',
      notAfter: '2027-01-01T00:00:00Z',
      now: '2026-06-01T00:00:00Z',
    }),
    check('ca.contents', 'CA_HAS_AMAZON_ROOTS'),
    check('ca.verifies-endpoint', 'CA_VERIFIES_CHAIN'),
    check('clock.skew', 'CLOCK_OK', 'pass', { offsetSeconds: 1 }),
  ];
}

export function allRoutes(
  overrides: Partial<Record<RouteId, Partial<Record<StageId, StageOverride>>>> = {},
): CheckResult[] {
  return (['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443'] as const).flatMap((r) => route(r, overrides[r] ?? {}));
}

export function codes(findings: readonly Finding[]): string[] {
  return findings.map((f) => f.code);
}

export function only(findings: readonly Finding[], code: string): Finding {
  const hits = findings.filter((f) => f.code === code);
  if (hits.length !== 1)
    throw new Error(`expected exactly one ${code}, got ${hits.length}: ${codes(findings).join(', ')}`);
  return hits[0]!;
}

/**
 * A finished report of `results` (diagnosis, counts and exit code by `finishReport`) for the default four routes of
 * ENDPOINT, started at a fixed time; `siteProfile` names a shipped site profile, `durationMs` the run's duration.
 */
export function fixtureReport(
  results: CheckResult[] = [...localPasses(), ...allRoutes()],
  extra: { siteProfile?: string; strict?: boolean; durationMs?: number } = {},
): Report {
  return finishReport({
    target: {
      endpoint: ENDPOINT,
      routes: ['mqtt-8883', 'mqtt-443', 'https-8443', 'https-443'],
      connectTo: [],
      files: {},
    },
    startedAt: new Date('2026-07-14T09:12:30Z'),
    durationMs: extra.durationMs ?? 412,
    results,
    ...(extra.strict ? { strict: true } : {}),
    ...(extra.siteProfile ? { siteProfile: resolveSiteProfile(extra.siteProfile) } : {}),
  });
}
