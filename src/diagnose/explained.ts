/**
 * Which failures a root cause explains. A finding that is certain cites every failing result it explains, so no
 * UNEXPLAINED_FAILURE (or other guess) sits beside it for the same failures: a key that does not match its
 * certificate explains the TLS library refusing the pair and the server rejecting the certificate on every route.
 */
import type { CheckResult, Finding } from '../model/index.js';
import type { DiagnosisCode, ResultCode } from './codes.js';
import { AUTH_SYMPTOM_CODES, isCode, isFailing, type Facts } from './facts.js';

/** What a client certificate that cannot be used (wrong key, files mixed up, out of date) leads to, on any route. */
const CLIENT_CREDENTIAL_SYMPTOMS: readonly ResultCode[] = [
  'TLS_CLIENT_CREDENTIALS_UNUSABLE',
  'NO_CLIENT_CREDENTIALS',
  'TLS_ERROR',
  ...AUTH_SYMPTOM_CODES,
  'CREDENTIALS_CERT_INVALID_ON_ENDPOINT',
];

/** The result codes each certain root cause explains wherever they fail (facts §3, §9 rows 6-8). */
export const EXPLAINS: Partial<Readonly<Record<DiagnosisCode, readonly ResultCode[]>>> = {
  KEY_CERT_MISMATCH: CLIENT_CREDENTIAL_SYMPTOMS,
  CERT_FILES_SWAPPED: CLIENT_CREDENTIAL_SYMPTOMS,
  CREDENTIALS_UNUSABLE: CLIENT_CREDENTIAL_SYMPTOMS,
  CERT_EXPIRED: [...AUTH_SYMPTOM_CODES, 'CREDENTIALS_CERT_INVALID_ON_ENDPOINT'],
  CERT_NOT_YET_VALID: [...AUTH_SYMPTOM_CODES, 'CREDENTIALS_CERT_INVALID_ON_ENDPOINT'],
  // The credential provider refuses a certificate that is not registered or not ACTIVE with 403 "Access Denied" (the
  // lab does; AWS's exact answer is unconfirmed, field notes §6.3).
  CERT_NOT_REGISTERED: [...AUTH_SYMPTOM_CODES, 'CREDENTIALS_CERT_INVALID_ON_ENDPOINT', 'CREDENTIALS_ACCESS_DENIED'],
  CERT_NOT_ACTIVE: [...AUTH_SYMPTOM_CODES, 'CREDENTIALS_CERT_INVALID_ON_ENDPOINT', 'CREDENTIALS_ACCESS_DENIED'],
  NO_POLICY_ATTACHED: AUTH_SYMPTOM_CODES,
};

/** Failing results (not those the site profile expects) that a finding with `code` explains. */
export function explainedBy(facts: Facts, code: string, counted: readonly CheckResult[]): CheckResult[] {
  const codes = EXPLAINS[code as DiagnosisCode];
  if (!codes) return [];
  return counted.filter((r) => isFailing(r) && isCode(r, ...codes));
}

/**
 * Adds to the evidence of every certain finding the failing results it explains (`counted`: the results that count
 * for the verdict). Mutates `findings`.
 */
export function citeExplained(facts: Facts, findings: Finding[], counted: readonly CheckResult[]): void {
  for (const f of findings) {
    if (f.confidence !== 'certain') continue;
    for (const r of explainedBy(facts, f.code, counted)) if (!f.evidence.includes(r.id)) f.evidence.push(r.id);
  }
}
