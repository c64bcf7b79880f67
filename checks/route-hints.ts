/** The hints of the route cells: what a technician does about a failing stage, by its code. */
import { ALPN_MQTT, type RouteSpec } from '../src/model/index.js';
import type { RouteCode } from './route-codes.js';

/** On 8883 the alternative when the port is blocked: MQTT on 443 with ALPN (facts §2). */
const moveTo443 = (s: RouteSpec): string =>
  s.port === 8883 ? `, or move the device to 443 with ALPN ${ALPN_MQTT}` : '';

const MISSING_TOKEN = 'HTTPS gets 403 "Missing Authentication Token"';

/** What to do about a failing route stage, by code. Plain words for a technician. */
export const ROUTE_HINTS: Readonly<Partial<Record<RouteCode, (spec: RouteSpec) => string>>> = {
  DNS_NXDOMAIN: () =>
    'The name does not exist. Copy the endpoint from `aws iot describe-endpoint --endpoint-type iot:Data-ATS` ' +
    '(it ends in -ats.iot.<region>.amazonaws.com) and check for typos.',
  DNS_NO_ANSWER: () =>
    'The resolver knows the name but returned no address. Check the site DNS server or a split-horizon DNS zone.',
  DNS_TEMPORARY_FAILURE: () =>
    'The resolver could not be reached or failed. Check the device DNS settings and that outbound DNS (UDP/TCP ' +
    '53) is allowed.',
  DNS_TIMEOUT: () =>
    'The resolver did not answer in time. Check the DNS server address and that outbound DNS is allowed.',
  DNS_ERROR: () => 'Name resolution failed. Check the device DNS configuration.',
  DNS_PRIVATE_ADDRESS: () =>
    'AWS IoT endpoints have public addresses. A private answer means a hosts-file entry, split DNS or a proxy is ' +
    'in the way: check it is intended.',
  TCP_REFUSED: (s) =>
    `Something answered with a TCP reset on port ${s.port}: a firewall rejecting the port, or nothing listening ` +
    `at the address used. Ask for outbound TCP ${s.port} to the endpoint to be allowed${moveTo443(s)}.`,
  TCP_TIMEOUT: (s) =>
    `Packets to port ${s.port} are silently dropped: typically an egress firewall. Ask for outbound TCP ${s.port} ` +
    `to be allowed${moveTo443(s)}.`,
  TCP_UNREACHABLE: (s) =>
    `The network reports the address unreachable or prohibited for port ${s.port}: a router or firewall rule. ` +
    `Check routing and the egress policy.`,
  TCP_RESET: () => 'The connection was reset while opening. Check for a firewall or proxy in the path.',
  TCP_ERROR: () => 'The TCP connection failed. See the error in the evidence.',
  TLS_STALLED: () =>
    'TCP opens but TLS never completes: a middlebox that holds the connection (proxy, DPI firewall) or a server ' +
    'that is not TLS. Try from another network to compare.',
  TLS_RESET: () =>
    'The connection was reset during the TLS handshake. A firewall that filters by server name (SNI) does this; ' +
    'so does a server that refuses the TLS version or the client certificate.',
  TLS_CLOSED: () =>
    'The server closed the connection during the handshake. Check for a proxy or an SNI filter in the path, and ' +
    'that the endpoint name is right.',
  TLS_ALERT: () =>
    'The server refused the handshake and said why (the alert). unrecognized_name: the endpoint name (SNI) is ' +
    'not served here; protocol_version/handshake_failure: TLS version or cipher mismatch; ' +
    'unknown_ca/bad_certificate/certificate_required: the client certificate.',
  TLS_NOT_TLS: () =>
    'The port answered, but not with TLS: a captive portal, an HTTP proxy or another service is listening there.',
  TLS_HANDSHAKE_TOO_LARGE: () =>
    'The server sent far more during the handshake than AWS IoT ever does (its whole chain is a few KB): something ' +
    'other than AWS IoT answers on this port (a middlebox or another service). This is not a certificate or policy ' +
    'problem.',
  TLS_CLIENT_CREDENTIALS_UNUSABLE: () =>
    'The certificate and key cannot be used together (most often: the key belongs to another certificate). See ' +
    'cert.key-match; fix the files before anything else.',
  TLS_ERROR: () => 'The TLS handshake failed. See the error in the evidence and run the openssl command below.',
  TLS_CHAIN_UNTRUSTED: () =>
    'The CA file does not verify the server chain. Either the CA file is wrong (use AmazonRootCA1.pem / ' +
    'AmazonRootCA3.pem, not the device CA), or a TLS-inspecting proxy re-signed the connection (look at the ' +
    'issuer in the chain): mTLS cannot pass through such a proxy; ask for the endpoint to be excluded from ' +
    'inspection.',
  TLS_SERVER_CERT_EXPIRED: () =>
    'The server certificate is outside its validity. If the device clock is wrong it will look expired: check ' +
    'the clock (NTP). Otherwise the server is not the genuine endpoint.',
  TLS_SERVER_CERT_NOT_YET_VALID: () =>
    "The server certificate is not valid yet by this machine's clock: the device clock is probably behind (no RTC, " +
    'NTP blocked). Set the clock.',
  TLS_HOSTNAME_MISMATCH: () =>
    'The server certificate does not cover the endpoint name: a wrong or legacy endpoint name (use the -ats ' +
    'name), a custom domain without its certificate, or a proxy answering instead of AWS.',
  ALPN_NOT_SELECTED: (s) =>
    `On 443 AWS IoT picks the authentication by ALPN. The server did not select ${s.alpn ?? ''}: a proxy or ` +
    `firewall stripped ALPN, or the endpoint is not AWS IoT. Without it ` +
    `${s.auth === 'custom' ? 'custom authentication does not happen' : 'the client certificate does not authenticate'} on 443 ` +
    `(${s.protocol === 'mqtt' ? 'MQTT waits forever for a CONNACK' : MISSING_TOKEN}). ` +
    `Bypass the proxy, or use port ${s.protocol === 'mqtt' ? '8883' : '8443'}.`,
  ALPN_UNEXPECTED: (s) =>
    `The server selected a different protocol than ${s.alpn ?? ''}: the endpoint is probably not AWS IoT or a ` +
    `proxy answers instead.`,
  UPGRADE_NO_SIGNING_INPUT: () =>
    'This route signs its WebSocket URL with AWS credentials (SigV4) and had none that resolved: set ' +
    'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or fix the profile (--profile, AWS_PROFILE: its keys, SSO login ' +
    'or credential_process); `iot-doctor presign --endpoint <endpoint>` says whether they resolve.',
  CLIENT_CERT_REJECTED: () =>
    'The server refused the client certificate during or right after the handshake. Check that the certificate ' +
    'is the device certificate (not a CA), that the key matches, that it is not expired, and that it is ' +
    'registered and ACTIVE in this account and region.',
};
