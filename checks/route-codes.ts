/**
 * Every code a route stage can put in a matrix cell (`route.<route>.<stage>`), as constants, by stage. Diagnosis rules
 * and reporters take `RouteCode` (through the global code union), so renaming a code here breaks the build of every
 * rule that reads it. A new stage adds its list here and to `ROUTE_CODES`.
 */
import type { DnsFailureCode } from '../src/probes/dns.js';
import type { TcpFailureCode } from '../src/probes/tcp.js';
import type { TlsFailureCode } from '../src/probes/tls.js';
import type { ProxyStageCode } from '../src/probes/proxy-connect.js';

/** Codes of the `dns` stage: resolution through `--resolve`, `--connect-to`, a `--dns-server` or getaddrinfo. */
export const DNS_STAGE_CODES = [
  'DNS_OK',
  'DNS_PINNED',
  'DNS_OVERRIDE',
  'DNS_PRIVATE_ADDRESS',
  'DNS_NXDOMAIN',
  'DNS_NO_ANSWER',
  'DNS_TEMPORARY_FAILURE',
  'DNS_TIMEOUT',
  'DNS_ERROR',
  'DNS_BY_PROXY',
] as const;

/** Codes of the `tcp` stage: the connect to the address the dns stage chose (refused = RST, timeout = dropped). */
export const TCP_STAGE_CODES = [
  'TCP_OK',
  'TCP_REFUSED',
  'TCP_TIMEOUT',
  'TCP_UNREACHABLE',
  'TCP_RESET',
  'TCP_ERROR',
] as const;

/**
 * Codes of the `proxy` stage of a route through a proxy: the tunnel opened (any 2xx, SOCKS5 REP 0), credentials
 * wanted (407, SOCKS5 method 0xFF or an RFC 1929 refusal), refused by policy (403 and other 4xx, REP 2), target not
 * reachable from the proxy (502/503/504, REP 3-6), other refusals, no reply, a deadline, a reply that is not the
 * protocol (field-notes §1.2).
 */
export const PROXY_STAGE_CODES = [
  'PROXY_CONNECT_OK',
  'PROXY_AUTH_REQUIRED',
  'PROXY_DENIED',
  'PROXY_TARGET_UNREACHABLE',
  'PROXY_ERROR',
  'PROXY_CLOSED',
  'PROXY_TIMEOUT',
  'PROXY_BAD_REPLY',
] as const;

/** Codes of the `tls` stage: the handshake with SNI, then chain (against --ca) and host name verification. */
export const TLS_STAGE_CODES = [
  'TLS_OK',
  'TLS_STALLED',
  'TLS_RESET',
  'TLS_CLOSED',
  'TLS_ALERT',
  'TLS_NOT_TLS',
  'TLS_HANDSHAKE_TOO_LARGE',
  'TLS_CLIENT_CREDENTIALS_UNUSABLE',
  'TLS_ERROR',
  'TLS_CHAIN_UNTRUSTED',
  'TLS_SERVER_CERT_EXPIRED',
  'TLS_SERVER_CERT_NOT_YET_VALID',
  'TLS_HOSTNAME_MISMATCH',
  'TLS_RECORD_TOO_LARGE',
] as const;

/** Codes of the `alpn` stage: what the server selected against what the route offered (facts §2: ALPN on 443). */
export const ALPN_STAGE_CODES = [
  'ALPN_NOT_USED',
  'ALPN_SELECTED',
  'ALPN_NOT_SELECTED',
  'ALPN_UNEXPECTED',
  'ALPN_NOT_OFFERED',
] as const;

/** Codes of the `client-auth` stage: the server's verdict on the client certificate (in or right after TLS). */
export const CLIENT_AUTH_STAGE_CODES = [
  'CLIENT_CERT_ACCEPTED',
  'CLIENT_CERT_REJECTED',
  'NO_CLIENT_CREDENTIALS',
] as const;

/** Codes of the MQTT `protocol` (CONNECT/CONNACK) and `round-trip` (SUBSCRIBE, PUBLISH QoS 1, receive) stages. */
export const MQTT_STAGE_CODES = [
  'MQTT_CONNACK_OK',
  'MQTT_CONNACK_REFUSED',
  'MQTT_CLOSED_BEFORE_CONNECT',
  'MQTT_CLOSED_AFTER_CONNECT',
  'MQTT_NO_CONNACK',
  'MQTT_NOT_MQTT',
  'MQTT_PACKET_TOO_LARGE',
  'MQTT_ERROR',
  'MQTT_ROUND_TRIP_OK',
  'MQTT_SESSION_TAKEN_OVER',
  'MQTT_SUBACK_REFUSED',
  'MQTT_PUBACK_REFUSED',
  'MQTT_CLOSED_AFTER_SUBSCRIBE',
  'MQTT_CLOSED_AFTER_PUBLISH',
  'MQTT_CLOSED_BEFORE_DELIVERY',
  'MQTT_NO_SUBACK',
  'MQTT_NO_PUBACK',
  'MQTT_MESSAGE_NOT_RECEIVED',
] as const;

/** Codes of the HTTPS `protocol` (POST /topics) and `round-trip` (delivery to an MQTT route's subscription) stages. */
export const HTTPS_STAGE_CODES = [
  'HTTP_PUBLISH_OK',
  'HTTP_CLOSED_WITHOUT_RESPONSE',
  'HTTP_NO_RESPONSE',
  'HTTP_NOT_HTTP',
  'HTTP_RESPONSE_TOO_LARGE',
  'HTTP_ERROR',
  'HTTP_MISSING_AUTH_TOKEN',
  'HTTP_FORBIDDEN',
  'HTTP_UNAUTHORIZED',
  'HTTP_NOT_FOUND',
  'HTTP_UNEXPECTED_STATUS',
  'HTTP_ROUND_TRIP_OK',
  'HTTP_MESSAGE_NOT_RECEIVED',
  'NO_MQTT_SUBSCRIBER',
] as const;

/**
 * Codes of the credential provider's `protocol` stage (`GET /role-aliases/<alias>/credentials`): its answer by status
 * and body, per the error table of field-notes §6.3.
 */
export const CREDENTIALS_STAGE_CODES = [
  'CREDENTIALS_OK',
  'CREDENTIALS_ENDPOINT_UNKNOWN',
  'CREDENTIALS_ROLE_ALIAS_NOT_FOUND',
  'CREDENTIALS_THING_NAME_INVALID',
  'CREDENTIALS_ACCESS_DENIED',
  'CREDENTIALS_ROLE_NOT_ASSUMABLE',
  'CREDENTIALS_DURATION_EXCEEDS_ROLE',
  'CREDENTIALS_CERT_INVALID_ON_ENDPOINT',
  'CREDENTIALS_NOT_FOUND',
  'CREDENTIALS_UNEXPECTED_ANSWER',
  'CREDENTIALS_NO_RESPONSE',
] as const;

/**
 * Codes of the custom-authentication `protocol` stage beyond the MQTT ones: the CONNECT refused (MQTT 3.1.1: closed
 * without CONNACK; MQTT 5: CONNACK 0x86/0x87), field notes §5.6.
 */
export const CUSTOM_AUTH_STAGE_CODES = ['CUSTOM_AUTH_REFUSED'] as const;

/**
 * Codes of the `upgrade` stage of MQTT over WebSocket (field notes §4): 101, the refusal (403 or another status), no
 * answer, an error, nothing to sign with; and the CONNECT refused after the upgrade (protocol row).
 */
export const UPGRADE_STAGE_CODES = [
  'UPGRADE_OK',
  'UPGRADE_FORBIDDEN',
  'UPGRADE_REFUSED',
  'UPGRADE_NO_ANSWER',
  'UPGRADE_ERROR',
  'UPGRADE_NO_SIGNING_INPUT',
  'WSS_CONNECT_REFUSED',
] as const;

/**
 * Skip codes of the route engine: `SKIPPED` (blocked by an earlier stage, summary "blocked by <stage>: <code>") and
 * `PROTOCOL_NOT_REQUESTED` (protocol stages under --no-protocol).
 */
export const ROUTE_SKIP_CODES = ['SKIPPED', 'PROTOCOL_NOT_REQUESTED'] as const;

/** Every code a route stage can emit, in stage order. */
export const ROUTE_CODES = [
  ...DNS_STAGE_CODES,
  ...TCP_STAGE_CODES,
  ...PROXY_STAGE_CODES,
  ...TLS_STAGE_CODES,
  ...ALPN_STAGE_CODES,
  ...CLIENT_AUTH_STAGE_CODES,
  ...MQTT_STAGE_CODES,
  ...HTTPS_STAGE_CODES,
  ...CREDENTIALS_STAGE_CODES,
  ...CUSTOM_AUTH_STAGE_CODES,
  ...UPGRADE_STAGE_CODES,
  ...ROUTE_SKIP_CODES,
] as const;

/** A code a route stage can emit. */
export type RouteCode = (typeof ROUTE_CODES)[number];

/** True when `code` is one of `ROUTE_CODES` (for results read back from a JSON report). */
export function isRouteCode(code: string): code is RouteCode {
  return (ROUTE_CODES as readonly string[]).includes(code);
}

type Within<T extends RouteCode> = T;
/** The probes' own failure codes (dns, tcp, tls): the build fails when one of them is not a route code. */
export type ProbeFailureCodes = Within<DnsFailureCode | TcpFailureCode | TlsFailureCode | ProxyStageCode>;
