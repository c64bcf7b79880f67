/**
 * A server-side fact overrides a client-side guess (issue 18 item 4). The route cells alone suggest causes (a close
 * after PUBLISH looks like a denied publish; a close after CONNECT like an unregistered certificate); when a cloud
 * check (TestAuthorization, DescribeCertificate, …) or AWS IoT's own record (cloud.connectivity, cloud.logs; field
 * notes §7–8) establishes otherwise, the guess is withdrawn and listed as ruled out, with what ruled it out, on the
 * finding that now explains those cells.
 */
import type { CheckResult, Finding, RuledOut } from '../model/index.js';
import { allowed, type Action } from './cloud.js';
import type { DiagnosisCode, ResultCode } from './codes.js';
import { AUTH_SYMPTOM_CODES, ids, type Facts } from './facts.js';
import { loggedAuthorizationFailures, recordedTakeover } from './records.js';

/** The server-side fact that rules a guess out: in words, and the results it rests on. */
interface ServerFact {
  by: string;
  results: CheckResult[];
}

/** A guess (`code`, suggested by route cells with one of `symptoms`) and the server-side fact that contradicts it. */
interface Override {
  code: DiagnosisCode;
  title: (facts: Facts) => string;
  symptoms: readonly ResultCode[];
  fact: (facts: Facts) => ServerFact | undefined;
}

/** A guess withdrawn by `withdrawGuesses`, waiting to be shown on the finding that explains its cells. */
export interface Withdrawn extends RuledOut {
  /** The route cells that suggested the guess. */
  cells: string[];
  /** True when the guess had been made as a finding (not only suggested by the cells). */
  wasFinding: boolean;
}

/** Log event types of each policy action (field notes §7.6). */
const LOG_EVENT: Record<Action, string> = {
  CONNECT: 'Connect',
  PUBLISH: 'Publish-In',
  SUBSCRIBE: 'Subscribe',
  RECEIVE: 'Publish-Out',
};

/**
 * cloud.authorization.<action> allowed, unless AWS IoT logged an authorization failure for that action in this run:
 * then the record wins over TestAuthorization (issue 14) and nothing is ruled out.
 */
function policyAllows(action: Action): (facts: Facts) => ServerFact | undefined {
  return (facts) => {
    const r = allowed(facts, action);
    if (!r || loggedAuthorizationFailures(facts, LOG_EVENT[action]).length > 0) return undefined;
    const source = String(r.evidence['source'] ?? 'TestAuthorization');
    return { by: `${r.id} (${source}) allows it: ${r.summary}`, results: [r] };
  };
}

function takeover(facts: Facts): ServerFact | undefined {
  const t = recordedTakeover(facts);
  return t && { by: `recorded by AWS IoT: another client took the session over (${t.record})`, results: t.results };
}

function passed(id: string, code: ResultCode, what: string): (facts: Facts) => ServerFact | undefined {
  return (facts) => {
    const r = facts.is(id, code);
    return r && { by: `${id} ${what}: ${r.summary}`, results: [r] };
  };
}

/** AWS IoT logged an authorization failure at CONNECT: it authenticated the certificate first (facts §3 order). */
function authorizationReached(facts: Facts): ServerFact | undefined {
  const logged = loggedAuthorizationFailures(facts, 'Connect');
  if (logged.length === 0) return undefined;
  return {
    by: `recorded by AWS IoT: the CONNECT failed at authorization (${logged[0]!.text}), so the certificate was authenticated first`,
    results: [logged[0]!.result],
  };
}

const CLIENT = (f: Facts): string => f.clientId() ?? '<client id>';
const TOPIC = (f: Facts): string => f.topic() ?? '<topic>';
const CONNECT_CLOSES: readonly ResultCode[] = ['MQTT_CLOSED_AFTER_CONNECT', 'MQTT_CONNACK_REFUSED'];

/** Every override, in the order they are applied. */
const OVERRIDES: readonly Override[] = [
  ...(['MQTT_PUBACK_REFUSED', 'MQTT_CLOSED_AFTER_PUBLISH', 'HTTP_FORBIDDEN'] as const).map((symptom): Override => ({
    code: 'POLICY_DENIES_PUBLISH',
    title: (f) => `The policy does not allow publishing on ${TOPIC(f)}`,
    symptoms: [symptom],
    fact: policyAllows('PUBLISH'),
  })),
  {
    code: 'POLICY_DENIES_SUBSCRIBE',
    title: (f) => `The policy does not let the device subscribe to ${TOPIC(f)}`,
    symptoms: ['MQTT_SUBACK_REFUSED', 'MQTT_CLOSED_AFTER_SUBSCRIBE'],
    fact: policyAllows('SUBSCRIBE'),
  },
  {
    code: 'POLICY_DENIES_SUBSCRIBE',
    title: (f) => `The policy does not let the device receive messages on ${TOPIC(f)}`,
    symptoms: ['MQTT_MESSAGE_NOT_RECEIVED', 'MQTT_CLOSED_BEFORE_DELIVERY'],
    fact: policyAllows('RECEIVE'),
  },
  {
    code: 'POLICY_DENIES_PUBLISH',
    title: (f) => `The policy does not allow publishing on ${TOPIC(f)}`,
    symptoms: ['MQTT_CLOSED_AFTER_PUBLISH'],
    fact: takeover,
  },
  {
    code: 'POLICY_DENIES_SUBSCRIBE',
    title: (f) => `The policy does not let the device subscribe to ${TOPIC(f)}`,
    symptoms: ['MQTT_CLOSED_AFTER_SUBSCRIBE', 'MQTT_CLOSED_BEFORE_DELIVERY'],
    fact: takeover,
  },
  {
    code: 'POLICY_DENIES_CONNECT',
    title: (f) => `No policy allows iot:Connect on client/${CLIENT(f)}`,
    symptoms: CONNECT_CLOSES,
    fact: policyAllows('CONNECT'),
  },
  ...(['CERT_NOT_REGISTERED', 'CERT_NOT_ACTIVE'] as const).flatMap((code): Override[] => [
    {
      code,
      title: () =>
        code === 'CERT_NOT_REGISTERED'
          ? 'The certificate is not registered in this account and region'
          : 'The certificate is registered but not ACTIVE',
      symptoms: AUTH_SYMPTOM_CODES,
      fact: passed('cloud.certificate', 'CERT_REGISTERED_ACTIVE', 'finds it registered and ACTIVE'),
    },
    {
      code,
      title: () => `The certificate is ${code === 'CERT_NOT_REGISTERED' ? 'not registered' : 'not ACTIVE'}`,
      symptoms: CONNECT_CLOSES,
      fact: authorizationReached,
    },
  ]),
  {
    code: 'NO_POLICY_ATTACHED',
    title: () => 'No policy is attached to the certificate',
    symptoms: AUTH_SYMPTOM_CODES,
    fact: passed('cloud.policy-attached', 'POLICY_ATTACHED', 'finds a policy attached'),
  },
  {
    code: 'ENDPOINT_OTHER_ACCOUNT',
    title: () => 'The endpoint belongs to another account or region',
    symptoms: AUTH_SYMPTOM_CODES,
    fact: passed('cloud.endpoint', 'ENDPOINT_MATCHES', "matches the account's endpoint"),
  },
];

/** A guess finding is withdrawn only when every route cell it cites is one the server-side fact answers for. */
function covered(guess: Finding, cells: readonly CheckResult[], facts: Facts): boolean {
  const answered = new Set(cells.map((c) => c.id));
  return guess.evidence.every((id) => answered.has(id) || !facts.get(id)?.route);
}

/**
 * Withdraws, from `findings` (the rules' findings, before the fallbacks claim what is left), every guess a
 * server-side fact contradicts: a finding that is not `certain` with an override's code, whose route cells the fact
 * answers for. Returns what was withdrawn, and every guess the cells suggested that the fact rules out, for
 * `showRuledOut`. Certain findings are never withdrawn: they rest on a server-side fact themselves.
 */
export function withdrawGuesses(facts: Facts, findings: Finding[]): Withdrawn[] {
  const out: Withdrawn[] = [];
  for (const o of OVERRIDES) {
    const cells = facts.routeCells(o.symptoms);
    if (cells.length === 0) continue;
    const fact = o.fact(facts);
    if (!fact) continue;
    const i = findings.findIndex((f) => f.code === o.code && f.confidence !== 'certain' && covered(f, cells, facts));
    const guess = i >= 0 ? findings.splice(i, 1)[0] : undefined;
    const known = out.find((w) => w.code === o.code && w.ruledOutBy === fact.by);
    if (known) {
      known.cells = [...new Set([...known.cells, ...ids(cells)])];
      known.wasFinding ||= Boolean(guess);
      continue;
    }
    const title = guess?.title ?? o.title(facts);
    const entry = { code: o.code, title, ruledOutBy: fact.by, evidence: ids(fact.results) };
    out.push({ ...entry, cells: ids(cells), wasFinding: Boolean(guess) });
  }
  return out;
}

/**
 * Shows each withdrawn guess as `ruledOut` on the finding that now explains its cells (the first that cites one of
 * them). A guess only the cells suggested is shown where the choice matters: on a finding that is not certain, or
 * one made from AWS IoT's record; a guess that had been a finding is always shown. Certain codes already in
 * `findings` are not listed as ruled out.
 */
export function showRuledOut(findings: Finding[], withdrawn: readonly Withdrawn[]): void {
  for (const w of withdrawn) {
    if (findings.some((f) => f.code === w.code && f.confidence === 'certain')) continue;
    const host =
      findings.find((f) => f.code !== w.code && f.evidence.some((id) => w.cells.includes(id))) ??
      (w.wasFinding ? findings.find((f) => f.severity !== 'info') : undefined);
    if (!host) continue;
    if (!w.wasFinding && host.confidence === 'certain' && host.params['recorded'] !== true) continue;
    const list = host.ruledOut ?? [];
    const same = list.find((r) => r.code === w.code);
    if (same) {
      same.ruledOutBy += `; also ${w.ruledOutBy}`;
      same.evidence = [...new Set([...same.evidence, ...w.evidence])];
    } else {
      host.ruledOut = [...list, { code: w.code, title: w.title, ruledOutBy: w.ruledOutBy, evidence: w.evidence }];
    }
    host.evidence = [...new Set([...host.evidence, ...w.evidence])];
  }
}
