/**
 * Diagnosis: pure rules over one run's results. Each rule names a root cause with a stable code, the results it
 * rests on, a confidence and what to do. Rules never touch the network, the clock or the file system.
 */
import type { CheckResult, Confidence, Finding, Severity } from '../model/index.js';
import { SKIP_CODES } from '../model/result.js';
import { clockLooksUnset, clockSkew } from './clock.js';
import { wrongEndpointName } from './endpoint-name.js';
import { citeExplained } from './explained.js';
import { serverCertOutOfDate } from './server-cert.js';
import { credentialProviderFindings } from './credential-provider.js';
import { customAuthFindings } from './custom-auth.js';
import { wssFindings } from './wss.js';
import {
  certNotActive,
  certNotRegistered,
  endpointOtherAccount,
  legacyEndpoint,
  noPolicyAttached,
  policyDeniesConnect,
  policyDeniesPublish,
  policyDeniesSubscribe,
} from './cloud.js';
import { answerNotAwsIot, tlsHandshakeTooLarge } from './answer.js';
import { authRejectedUnexplained } from './auth-rejected.js';
import { certExpired, certFilesSwapped, certNotYetValid, credentialsUnusable, keyCertMismatch } from './credentials.js';
import { DIAGNOSIS_CODES } from './codes.js';
import { Facts, finding, ids, isCode, isProblem, list, routeSeverity, type DiagnoseContext } from './facts.js';
import { allRoutesBlocked, dnsFailure, portBlocked, sniFiltered } from './network.js';
import { profileMismatch } from './profile.js';
import { applyRecordedConnectFailures, applyRecordedOperationFailures, duplicateClientId } from './records.js';
import { showRuledOut, withdrawGuesses } from './ruled-out.js';
import { alpnNotOffered, noSharedCipher, sniMissing, tlsRecordTooLarge, tlsVersionUnsupported } from './device-tls.js';
import {
  foldIntoFieldFindings,
  ipv4PathBroken,
  ipv6PathBroken,
  proxyAuthRequired,
  proxyBlocksPort,
  proxyRequired,
  proxyUnreachable,
} from './field.js';
import { alpnStripped, endpointNameMismatch, tlsIntercepted, wrongCaFile } from './tls.js';

export type { DiagnoseContext } from './facts.js';

export { DIAGNOSIS_CODES, type DiagnosisCode } from './codes.js';
export { contradictions } from './consistency.js';

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, error: 1, warning: 2, info: 3 };
const CONFIDENCE_RANK: Record<Confidence, number> = { certain: 0, likely: 1, possible: 2 };

/** Sort order of findings: severity, then confidence, then the order of `DIAGNOSIS_CODES`. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    CONFIDENCE_RANK[a.confidence] - CONFIDENCE_RANK[b.confidence] ||
    codeRank(a.code) - codeRank(b.code)
  );
}

function codeRank(code: string): number {
  const i = (DIAGNOSIS_CODES as readonly string[]).indexOf(code);
  return i < 0 ? DIAGNOSIS_CODES.length : i;
}

/** Results that count for the verdict: a route blocked the way the site profile expects does not. */
function counted(facts: Facts): CheckResult[] {
  return facts.results.filter((r) => !(r.route && facts.blockedAsExpected(r.route)));
}

/** UNEXPLAINED_FAILURE: failures (or checks that could not complete) that no rule explains. */
function unexplainedFailure(facts: Facts, claimed: ReadonlySet<string>): Finding[] {
  const left = counted(facts).filter((r) => (r.status === 'fail' || r.status === 'error') && !claimed.has(r.id));
  if (left.length === 0) return [];
  const errors = left.filter((r) => r.status === 'error');
  const hints = [...new Set(left.map((r) => r.hint).filter((h): h is string => !!h))];
  const routeFailure = left.some((r) => r.route);
  return [
    finding('UNEXPLAINED_FAILURE', {
      severity: routeFailure ? routeSeverity(facts) : 'error',
      confidence: 'possible',
      title: `${left.length} ${left.length === 1 ? 'result fails' : 'results fail'} without a known root cause`,
      explanation: `No diagnosis rule matches ${left.length === 1 ? 'this result' : 'these results'}: ${left.map((r) => `${r.id} ${r.code} (${r.summary})`).join('; ')}.${errors.length > 0 ? ` ${list(errors.map((r) => r.id))} could not complete at all: that is a problem of the tool or of this machine, not a verdict about the network.` : ''} The hints of the checks say what to look at.`,
      remediation: [
        ...hints,
        ...left
          .filter((r) => r.reproduce)
          .slice(0, 3)
          .map((r) => `Reproduce ${r.id} by hand: ${r.reproduce}`),
      ],
      params: { codes: left.map((r) => r.code), ids: left.map((r) => r.id) },
      evidence: ids(left),
    }),
  ];
}

/** OTHER_WARNINGS: warnings that no finding covers (a certificate that expires soon, a readable key file ...). */
function otherWarnings(facts: Facts, claimed: ReadonlySet<string>): Finding[] {
  const left = counted(facts).filter((r) => r.status === 'warn' && !claimed.has(r.id));
  if (left.length === 0) return [];
  const hints = [...new Set(left.map((r) => r.hint).filter((h): h is string => !!h))];
  return [
    finding('OTHER_WARNINGS', {
      severity: 'warning',
      confidence: 'certain',
      title: `${left.length} ${left.length === 1 ? 'warning needs' : 'warnings need'} attention`,
      explanation: `Nothing here stops the device today, but: ${left.map((r) => `${r.title}: ${r.summary}`).join('; ')}.`,
      remediation: hints,
      params: { codes: left.map((r) => r.code), ids: left.map((r) => r.id) },
      evidence: ids(left),
    }),
  ];
}

/** HEALTHY: every selected route and check passed; nothing failed, warned or errored. */
function healthy(facts: Facts): Finding[] {
  const considered = counted(facts);
  if (considered.length === 0 || considered.some(isProblem) || !considered.some((r) => r.status === 'pass')) return [];
  const routes = facts.relevantRoutes();
  const working = routes.filter((r) => facts.works(r));
  const skipped = considered.filter((r) => r.status === 'skip' && !isCode(r, SKIP_CODES.SKIPPED));
  const checks = considered.filter((r) => !r.route && r.status === 'pass');
  const expected = facts.routes().filter((r) => facts.blockedAsExpected(r));
  const notes: string[] = [];
  if (expected.length > 0)
    notes.push(`${list(expected)} ${expected.length === 1 ? 'is' : 'are'} blocked here as the site profile expects.`);
  if (skipped.length > 0) {
    notes.push(
      `Not part of this verdict (skipped): ${[...new Set(skipped.map((r) => `${r.id} (${r.code})`))].slice(0, 8).join(', ')}${skipped.length > 8 ? ' …' : ''}.`,
    );
  }
  return [
    finding('HEALTHY', {
      severity: 'info',
      confidence: 'certain',
      title:
        routes.length > 0
          ? `All checks passed: ${list(working)} ${working.length === 1 ? 'works' : 'work'}`
          : 'All checks passed',
      explanation: `Every selected route and check passed${routes.length > 0 ? `: ${list(working)} connected${working.some((r) => facts.cell(r, 'round-trip')?.status === 'pass') ? ' and made the message round trip' : ''}` : ''}, and ${checks.length} local and cloud ${checks.length === 1 ? 'check' : 'checks'} found nothing wrong.${notes.length > 0 ? ` ${notes.join(' ')}` : ''}`,
      remediation: [],
      params: { routes: working, checks: checks.length, skipped: skipped.length, expectedBlocked: expected },
      evidence: ids([...working.flatMap((r) => facts.cells(r).filter((c) => c.status === 'pass')), ...checks]),
    }),
  ];
}

/**
 * Moves the evidence of the findings with one of `codes` into the finding `root` and drops them: they are
 * consequences (or narrower readings) of the root cause. Nothing happens without a `root` finding.
 */
function foldInto(findings: Finding[], root: string, codes: readonly string[], when = (_f: Finding) => true): void {
  const r = findings.find((f) => f.code === root);
  if (!r) return;
  for (let i = findings.length - 1; i >= 0; i--) {
    const f = findings[i]!;
    if (f !== r && codes.includes(f.code) && when(f)) {
      r.evidence.push(...f.evidence.filter((id) => !r.evidence.includes(id)));
      findings.splice(i, 1);
    }
  }
}

/**
 * Consequences folded into their root cause. Without any policy every action is implicitly denied (the implicit
 * POLICY_DENIES_* go into NO_POLICY_ATTACHED); a name that is not an endpoint explains its DNS failure and the
 * account comparison (a name that does not resolve is not "another account's").
 */
function foldConsequences(findings: Finding[]): void {
  foldInto(
    findings,
    'NO_POLICY_ATTACHED',
    ['POLICY_DENIES_CONNECT', 'POLICY_DENIES_PUBLISH', 'POLICY_DENIES_SUBSCRIBE'],
    (f) => f.params['deny'] === 'implicit',
  );
  foldInto(findings, 'WRONG_ENDPOINT_NAME', ['DNS_FAILURE', 'ENDPOINT_OTHER_ACCOUNT', 'ENDPOINT_NAME_MISMATCH']);
}

/**
 * Name the root causes behind a run's results, most important first (severity, then confidence, then the order of
 * DIAGNOSIS_CODES). HEALTHY only when nothing failed, warned or errored among the selected routes and checks.
 */
export function diagnose(results: readonly CheckResult[], ctx: DiagnoseContext = {}): Finding[] {
  const facts = new Facts(results, ctx);
  const wrongCa = wrongCaFile(facts);
  const intercepted = tlsIntercepted(facts, wrongCa);
  const primary: Finding[] = [
    ...clockLooksUnset(facts),
    ...clockSkew(facts),
    ...certFilesSwapped(facts),
    ...credentialsUnusable(facts),
    ...wrongEndpointName(facts),
    ...proxyRequired(facts),
    ...proxyAuthRequired(facts),
    ...proxyUnreachable(facts),
    ...proxyBlocksPort(facts),
    ...ipv6PathBroken(facts),
    ...ipv4PathBroken(facts),
    ...dnsFailure(facts),
    ...allRoutesBlocked(facts),
    ...portBlocked(facts),
    ...sniFiltered(facts),
    ...intercepted,
    ...serverCertOutOfDate(facts, intercepted),
    ...wrongCa,
    ...legacyEndpoint(facts),
    ...endpointNameMismatch(facts),
    ...endpointOtherAccount(facts),
    ...alpnStripped(facts),
    ...answerNotAwsIot(facts),
    ...tlsHandshakeTooLarge(facts),
    ...sniMissing(facts),
    ...tlsVersionUnsupported(facts),
    ...noSharedCipher(facts),
    ...tlsRecordTooLarge(facts),
    ...alpnNotOffered(facts),
    ...keyCertMismatch(facts),
    ...certExpired(facts),
    ...certNotYetValid(facts),
    ...certNotRegistered(facts),
    ...certNotActive(facts),
    ...noPolicyAttached(facts),
    ...policyDeniesConnect(facts),
    ...policyDeniesPublish(facts),
    ...policyDeniesSubscribe(facts),
    ...credentialProviderFindings(facts),
    ...customAuthFindings(facts),
    ...wssFindings(facts),
    ...profileMismatch(facts),
  ];
  foldConsequences(primary);
  foldIntoFieldFindings(facts, primary);
  const withdrawn = withdrawGuesses(facts, primary);
  citeExplained(facts, primary, counted(facts));
  applyRecordedOperationFailures(facts, primary);
  const claimed = new Set(primary.flatMap((f) => f.evidence));
  const duplicate = duplicateClientId(facts);
  for (const f of duplicate) f.evidence.forEach((id) => claimed.add(id));
  const auth = authRejectedUnexplained(facts, claimed);
  for (const f of auth) f.evidence.forEach((id) => claimed.add(id));
  const findings = [
    ...primary,
    ...duplicate,
    ...auth,
    ...unexplainedFailure(facts, claimed),
    ...otherWarnings(facts, claimed),
    ...healthy(facts),
  ];
  applyRecordedConnectFailures(facts, findings);
  showRuledOut(findings, withdrawn);
  return findings.sort(compareFindings);
}
