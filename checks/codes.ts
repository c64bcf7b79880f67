/**
 * Every result code a check can report, by check id, and their union `ResultCode`. Diagnosis rules and reporters
 * take `ResultCode`, so renaming a code in a check breaks the build where a rule still reads the old one.
 */
import { EXPECTED_BLOCKED, REQUIRED_NOT_RUN, REQUIRED_SKIPPED, UNEXPECTEDLY_OPEN } from '../src/site-profile.js';
import { CA_CONTENTS_CODES } from './ca-contents.js';
import { CA_VERIFIES_ENDPOINT_CODES } from './ca-verifies-endpoint.js';
import { CERT_CLIENT_AUTH_USAGE_CODES } from './cert-client-auth-usage.js';
import { CERT_END_ENTITY_CODES } from './cert-end-entity.js';
import { CERT_IDENTITY_CODES } from './cert-identity.js';
import { CERT_KEY_MATCH_CODES } from './cert-key-match.js';
import { CERT_KEY_STRENGTH_CODES } from './cert-key-strength.js';
import { CERT_VALIDITY_CODES } from './cert-validity.js';
import { CLOCK_CERT_VALIDITY_CODES } from './clock-cert-validity.js';
import { CLOCK_SKEW_CODES } from './clock-skew.js';
import { CLOUD_AUTHORIZATION_CODES } from './cloud-authorization.js';
import { CLOUD_CERTIFICATE_CODES } from './cloud-certificate.js';
import { CLOUD_CONNECTIVITY_CODES } from './cloud-connectivity.js';
import { CLOUD_CREDENTIALS_CODES } from './cloud-credentials.js';
import { CLOUD_CUSTOM_AUTHORIZER_CODES } from './cloud-custom-authorizer.js';
import { CLOUD_ENDPOINT_CODES } from './cloud-endpoint.js';
import { CLOUD_LOGS_CODES } from './cloud-logs.js';
import { CLOUD_POLICY_ATTACHED_CODES } from './cloud-policy-attached.js';
import { CLOUD_THING_CODES } from './cloud-thing.js';
import { CLOUD_WSS_IDENTITY_CODES } from './cloud-wss-identity.js';
import { CLOUD_ROLE_ALIAS_CODES } from './cloud-role-alias.js';
import { FILES_CA_CODES } from './files-ca.js';
import { FILES_CERT_CODES } from './files-cert.js';
import { FILES_KEY_CODES } from './files-key.js';
import { PROBE_CLIENT_ID_CODES } from './probe-client-id.js';
import { ROUTE_CODES } from './route-codes.js';
import { RUNNER_CODES } from '../src/runner/index.js';

/** Codes a site profile (src/profile.ts) puts on results: an expected block, an unexpected opening, a requirement. */
export const PROFILE_RESULT_CODES = [EXPECTED_BLOCKED, UNEXPECTEDLY_OPEN, REQUIRED_NOT_RUN, REQUIRED_SKIPPED] as const;

/** Route cell codes: `ROUTE_CODES` of checks/route-codes.ts. */
export { ROUTE_CODES };

/** The codes of every check other than the routes, by check id (the file is checks/<id with . as ->.ts). */
export const CHECK_CODES = {
  'files.cert': FILES_CERT_CODES,
  'files.key': FILES_KEY_CODES,
  'files.ca': FILES_CA_CODES,
  'cert.end-entity': CERT_END_ENTITY_CODES,
  'cert.key-strength': CERT_KEY_STRENGTH_CODES,
  'cert.client-auth-usage': CERT_CLIENT_AUTH_USAGE_CODES,
  'cert.key-match': CERT_KEY_MATCH_CODES,
  'cert.validity': CERT_VALIDITY_CODES,
  'cert.identity': CERT_IDENTITY_CODES,
  'ca.contents': CA_CONTENTS_CODES,
  'ca.verifies-endpoint': CA_VERIFIES_ENDPOINT_CODES,
  'probe.client-id': PROBE_CLIENT_ID_CODES,
  'clock.skew': CLOCK_SKEW_CODES,
  'clock.cert-validity': CLOCK_CERT_VALIDITY_CODES,
  'cloud.credentials': CLOUD_CREDENTIALS_CODES,
  'cloud.endpoint': CLOUD_ENDPOINT_CODES,
  'cloud.certificate': CLOUD_CERTIFICATE_CODES,
  'cloud.policy-attached': CLOUD_POLICY_ATTACHED_CODES,
  'cloud.authorization': CLOUD_AUTHORIZATION_CODES,
  'cloud.thing': CLOUD_THING_CODES,
  'cloud.connectivity': CLOUD_CONNECTIVITY_CODES,
  'cloud.logs': CLOUD_LOGS_CODES,
  'cloud.custom-authorizer': CLOUD_CUSTOM_AUTHORIZER_CODES,
  'cloud.wss-identity': CLOUD_WSS_IDENTITY_CODES,
  'cloud.role-alias': CLOUD_ROLE_ALIAS_CODES,
} as const;

/** Any code a result can carry: a check's, a route cell's, a site profile's or the runner's. */
export type ResultCode =
  | (typeof CHECK_CODES)[keyof typeof CHECK_CODES][number]
  | (typeof ROUTE_CODES)[number]
  | (typeof PROFILE_RESULT_CODES)[number]
  | (typeof RUNNER_CODES)[number];

/** Every `ResultCode`, deduplicated, in no particular order. */
export const RESULT_CODES: ReadonlySet<ResultCode> = new Set<ResultCode>([
  ...Object.values(CHECK_CODES).flat(),
  ...ROUTE_CODES,
  ...PROFILE_RESULT_CODES,
  ...RUNNER_CODES,
]);

/** Narrows a report's code (a plain string, e.g. read from JSON) to `ResultCode` when it is one. */
export function isResultCode(code: string): code is ResultCode {
  return (RESULT_CODES as ReadonlySet<string>).has(code);
}
