/**
 * The consistency of a diagnosis with itself and with the results it rests on: no two findings say opposite things,
 * no finding says what a cell contradicts, the first remedy of every finding applies to this run, and every failure a
 * certain finding explains is cited by it. Tests run it over every diagnosis they make; `iot-doctor` itself does not
 * need it at run time (the rules are written to satisfy it).
 */
import type { CheckResult, Finding } from '../model/index.js';
import { clockFacts, clockWrong } from './clock.js';
import { explainedBy } from './explained.js';
import { Facts, isCode, isFailing, type DiagnoseContext } from './facts.js';

type Rule = (findings: readonly Finding[], facts: Facts) => string[];

const CLOCK_CODES = ['CLOCK_LOOKS_UNSET', 'CLOCK_SKEW'];

/** A wrong clock is used: nothing is judged by it, nothing says it is right, and its finding comes first. */
const clockRule: Rule = (findings, facts) => {
  const out: string[] = [];
  const clock = clockFacts(facts);
  if (clockWrong(clock)) {
    for (const f of findings) {
      const text = `${f.title} ${f.explanation}`;
      if (/clock (looks|is) right|clock agrees/i.test(text)) out.push(`${f.code} says the clock is right; it is not`);
      if (['CERT_NOT_YET_VALID', 'CERT_EXPIRED'].includes(f.code) && f.params['judgedBy'] === 'local clock') {
        out.push(`${f.code} is judged by a clock that looks wrong`);
      }
      if (f.code === 'SERVER_CERT_OUT_OF_DATE') out.push('SERVER_CERT_OUT_OF_DATE beside a clock that looks wrong');
    }
    if (!findings.some((f) => CLOCK_CODES.includes(f.code))) out.push('the clock looks wrong and no finding says so');
  }
  const clockFinding = findings.find((f) => CLOCK_CODES.includes(f.code));
  const explainsFailures = clockFinding?.evidence.some((id) => isFailing(facts.get(id)));
  if (clockFinding && explainsFailures && findings[0] !== clockFinding) {
    out.push(`${clockFinding.code} explains failures but ${findings[0]!.code} comes first`);
  }
  return out;
};

/** A name that does not resolve is not another account's, and an alternative route offered must work. */
const networkRule: Rule = (findings, facts) => {
  const out: string[] = [];
  const nx = facts.results.some((r) => r.stage === 'dns' && isCode(r, 'DNS_NXDOMAIN'));
  for (const f of findings) {
    if (nx && /belongs to another AWS account/.test(`${f.title} ${f.explanation}`)) {
      out.push(`${f.code} calls a name that does not resolve another account's`);
    }
    const alternatives = f.params['alternatives'];
    for (const route of Array.isArray(alternatives) ? alternatives : []) {
      // An alternative must get through the network (TCP, TLS, ALPN); failing later (authorization) is another cause.
      const network = ['dns', 'tcp', 'tls', 'alpn'];
      if (facts.results.some((r) => r.route === route && isFailing(r) && network.includes(r.stage ?? ''))) {
        out.push(`${f.code} offers ${String(route)}, which does not get through the network`);
      }
    }
  }
  const codes = new Set(findings.map((f) => f.code));
  const wrongCa = findings.find((f) => f.code === 'WRONG_CA_FILE' && f.confidence === 'certain');
  const reasons = findings.find((f) => f.code === 'TLS_INTERCEPTED')?.params['reasons'];
  if (wrongCa && Array.isArray(reasons) && reasons.includes('untrusted-issuer')) {
    out.push('TLS_INTERCEPTED calls the issuer untrusted beside a certain WRONG_CA_FILE');
  }
  return out;
};

/** HEALTHY stands alone; a first remedy never begins as the alternative to another ("Or ...", "Otherwise ..."). */
const wordingRule: Rule = (findings) => {
  const out: string[] = [];
  if (findings.some((f) => f.code === 'HEALTHY') && findings.some((f) => f.severity !== 'info')) {
    out.push('HEALTHY beside a problem');
  }
  for (const f of findings) {
    const first = f.remediation[0];
    if (first && /^(or|otherwise|meanwhile|also|then)\b/i.test(first)) {
      out.push(`${f.code}'s first remedy reads as an alternative: "${first.slice(0, 60)}"`);
    }
  }
  return out;
};

/** Evidence exists, and what a certain finding explains is cited by it and by no UNEXPLAINED_FAILURE. */
const evidenceRule: Rule = (findings, facts) => {
  const out: string[] = [];
  for (const f of findings) {
    for (const id of f.evidence) if (!facts.get(id)) out.push(`${f.code} cites ${id}, which is not a result`);
  }
  const unexplained = new Set(findings.find((f) => f.code === 'UNEXPLAINED_FAILURE')?.evidence ?? []);
  const counted = facts.results.filter((r) => !(r.route && facts.blockedAsExpected(r.route)));
  for (const f of findings.filter((x) => x.confidence === 'certain')) {
    for (const r of explainedBy(facts, f.code, counted)) {
      if (!f.evidence.includes(r.id)) out.push(`${f.code} explains ${r.id} but does not cite it`);
      if (unexplained.has(r.id)) out.push(`UNEXPLAINED_FAILURE lists ${r.id}, which ${f.code} explains`);
    }
  }
  return out;
};

/**
 * Every contradiction in a diagnosis, one line each; [] when it is consistent. `findings` in report order (as
 * `diagnose` returns them), `results` the run's results.
 */
export function contradictions(
  findings: readonly Finding[],
  results: readonly CheckResult[],
  ctx: DiagnoseContext = {},
): string[] {
  const facts = new Facts(results, ctx);
  return [clockRule, networkRule, wordingRule, evidenceRule].flatMap((rule) => rule(findings, facts));
}
