/**
 * The codes of the findings (diagnosis rules) and the result codes they read. Kept apart from the rules so that
 * facts.ts and every rule module can import them without an import cycle.
 */
export type { ResultCode } from '../../checks/codes.js';

/** Every code a finding can carry, in the order findings of equal weight are listed (root-most cause first). */
export const DIAGNOSIS_CODES = [
  'CLOCK_LOOKS_UNSET',
  'CLOCK_SKEW',
  'CERT_FILES_SWAPPED',
  'CREDENTIALS_UNUSABLE',
  'WRONG_ENDPOINT_NAME',
  'DNS_FAILURE',
  'ALL_ROUTES_BLOCKED',
  'PORT_BLOCKED',
  'SNI_FILTERED',
  'TLS_INTERCEPTED',
  'SERVER_CERT_OUT_OF_DATE',
  'WRONG_CA_FILE',
  'LEGACY_ENDPOINT',
  'ENDPOINT_NAME_MISMATCH',
  'ENDPOINT_OTHER_ACCOUNT',
  'ALPN_STRIPPED',
  'ANSWER_NOT_AWS_IOT',
  'KEY_CERT_MISMATCH',
  'CERT_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_NOT_REGISTERED',
  'CERT_NOT_ACTIVE',
  'NO_POLICY_ATTACHED',
  'POLICY_DENIES_CONNECT',
  'POLICY_DENIES_PUBLISH',
  'POLICY_DENIES_SUBSCRIBE',
  'DUPLICATE_CLIENT_ID',
  'AUTH_REJECTED_UNEXPLAINED',
  'ROLE_ALIAS_NOT_FOUND',
  'CREDENTIALS_THING_NAME_INVALID',
  'ASSUME_ROLE_DENIED',
  'ROLE_ASSUMPTION_FAILED',
  'ROLE_DURATION_TOO_LONG',
  'PROFILE_MISMATCH',
  'UNEXPLAINED_FAILURE',
  'OTHER_WARNINGS',
  'HEALTHY',
] as const;
export type DiagnosisCode = (typeof DIAGNOSIS_CODES)[number];
