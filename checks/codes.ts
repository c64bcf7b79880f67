/**
 * Every result code a check can report, by check id, and their union `ResultCode`. Diagnosis rules and reporters
 * take `ResultCode`, so renaming a code in a check breaks the build where a rule still reads the old one.
 */
import { EXPECTED_BLOCKED, REQUIRED_NOT_RUN, REQUIRED_SKIPPED, UNEXPECTEDLY_OPEN } from '../src/profile.js';
import { SKIP_CODES } from '../src/model/result.js';
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
import { CLOUD_CREDENTIALS_CODES } from './cloud-credentials.js';
import { CLOUD_ENDPOINT_CODES } from './cloud-endpoint.js';
import { CLOUD_POLICY_ATTACHED_CODES } from './cloud-policy-attached.js';
import { CLOUD_THING_CODES } from './cloud-thing.js';
import { FILES_CA_CODES } from './files-ca.js';
import { FILES_CERT_CODES } from './files-cert.js';
import { FILES_KEY_CODES } from './files-key.js';
import { PROBE_CLIENT_ID_CODES } from './probe-client-id.js';

/**
 * Codes of the route matrix cells (`route.<route>.<stage>`), from checks/route.ts, checks/route-protocol.ts and the
 * probes they call (src/probes/dns.ts, tcp.ts, tls.ts, https.ts, mqtt.ts).
 */
export const ROUTE_RESULT_CODES = [
  'DNS_OK',
  'DNS_OVERRIDE',
  'DNS_PINNED',
  'DNS_PRIVATE_ADDRESS',
  'DNS_NXDOMAIN',
  'DNS_NO_ANSWER',
  'DNS_TEMPORARY_FAILURE',
  'DNS_TIMEOUT',
  'DNS_ERROR',
  'TCP_OK',
  'TCP_REFUSED',
  'TCP_TIMEOUT',
  'TCP_UNREACHABLE',
  'TCP_RESET',
  'TCP_ERROR',
  'TLS_OK',
  'TLS_STALLED',
  'TLS_RESET',
  'TLS_CLOSED',
  'TLS_ALERT',
  'TLS_NOT_TLS',
  'TLS_CLIENT_CREDENTIALS_UNUSABLE',
  'TLS_ERROR',
  'TLS_CHAIN_UNTRUSTED',
  'TLS_HOSTNAME_MISMATCH',
  'TLS_SERVER_CERT_EXPIRED',
  'TLS_SERVER_CERT_NOT_YET_VALID',
  'ALPN_NOT_USED',
  'ALPN_SELECTED',
  'ALPN_NOT_SELECTED',
  'ALPN_UNEXPECTED',
  'NO_CLIENT_CREDENTIALS',
  'CLIENT_CERT_ACCEPTED',
  'CLIENT_CERT_REJECTED',
  'PROTOCOL_NOT_REQUESTED',
  'MQTT_CONNACK_OK',
  'MQTT_CONNACK_REFUSED',
  'MQTT_NO_CONNACK',
  'MQTT_CLOSED_BEFORE_CONNECT',
  'MQTT_CLOSED_AFTER_CONNECT',
  'MQTT_CLOSED_AFTER_SUBSCRIBE',
  'MQTT_CLOSED_AFTER_PUBLISH',
  'MQTT_CLOSED_BEFORE_DELIVERY',
  'MQTT_NO_SUBACK',
  'MQTT_SUBACK_REFUSED',
  'MQTT_NO_PUBACK',
  'MQTT_PUBACK_REFUSED',
  'MQTT_MESSAGE_NOT_RECEIVED',
  'MQTT_ROUND_TRIP_OK',
  'MQTT_ERROR',
  'NO_MQTT_SUBSCRIBER',
  'HTTP_PUBLISH_OK',
  'HTTP_FORBIDDEN',
  'HTTP_UNAUTHORIZED',
  'HTTP_NOT_FOUND',
  'HTTP_MISSING_AUTH_TOKEN',
  'HTTP_UNEXPECTED_STATUS',
  'HTTP_NO_RESPONSE',
  'HTTP_CLOSED_WITHOUT_RESPONSE',
  'HTTP_MESSAGE_NOT_RECEIVED',
  'HTTP_ROUND_TRIP_OK',
  'HTTP_ERROR',
  SKIP_CODES.SKIPPED,
] as const;

/** Codes a site profile (src/profile.ts) puts on results: an expected block, an unexpected opening, a requirement. */
export const PROFILE_RESULT_CODES = [EXPECTED_BLOCKED, UNEXPECTEDLY_OPEN, REQUIRED_NOT_RUN, REQUIRED_SKIPPED] as const;

/** Codes the runner (src/runner) gives a check that did not finish in time or threw. */
export const RUNNER_RESULT_CODES = ['CHECK_TIMEOUT', 'CHECK_CRASHED'] as const;

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
} as const;

/** Any code a result can carry: a check's, a route cell's, a site profile's or the runner's. */
export type ResultCode =
  | (typeof CHECK_CODES)[keyof typeof CHECK_CODES][number]
  | (typeof ROUTE_RESULT_CODES)[number]
  | (typeof PROFILE_RESULT_CODES)[number]
  | (typeof RUNNER_RESULT_CODES)[number];

/** Every `ResultCode`, deduplicated, in no particular order. */
export const RESULT_CODES: ReadonlySet<ResultCode> = new Set<ResultCode>([
  ...Object.values(CHECK_CODES).flat(),
  ...ROUTE_RESULT_CODES,
  ...PROFILE_RESULT_CODES,
  ...RUNNER_RESULT_CODES,
]);

/** Narrows a report's code (a plain string, e.g. read from JSON) to `ResultCode` when it is one. */
export function isResultCode(code: string): code is ResultCode {
  return (RESULT_CODES as ReadonlySet<string>).has(code);
}
