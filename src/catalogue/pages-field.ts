/**
 * Catalogue pages of the field-path codes (see types.ts): the proxy a site requires or mis-serves (field-notes §1),
 * an address family whose path is broken (§2), and the device's own TLS stack (§3; facts §2.1, §2.2).
 */
import type { CodePage } from './types.js';

const E = '<endpoint>';
const NET = 'Name resolution and network' as const;
const TLS = 'TLS and endpoint' as const;

/** Pages of PROXY_REQUIRED, PROXY_AUTH_REQUIRED, PROXY_UNREACHABLE, PROXY_BLOCKS_PORT, IPV6/IPV4_PATH_BROKEN. */
const PATH_PAGES: readonly CodePage[] = [
  {
    code: 'PROXY_REQUIRED',
    family: NET,
    meaning:
      'The device cannot reach AWS IoT directly from this network, but the configured proxy tunnels to it: the ' +
      'device must be configured to use the proxy.',
    decides:
      'Every direct route stops before TLS completes (dns, tcp, or a TLS cut-off) while at least one `<route> via ' +
      'proxy` route passes. The proxy comes from --proxy, else https_proxy/HTTPS_PROXY, then all_proxy/ALL_PROXY, ' +
      'minus NO_PROXY, as curl reads them.',
    lookAlikes: [
      { code: 'DNS_FAILURE', tell: 'there no proxy route works either; a DNS failure with a proxy that works is this' },
      { code: 'ALL_ROUTES_BLOCKED', tell: 'there no proxy is configured, or it does not get through' },
    ],
    remedy: [
      "Configure the device's proxy (AWS CRT SDKs: HttpProxyOptions; AWS IoT Device Client: http-proxy.conf; Greengrass: networkProxy).",
      'Through most proxies MQTT needs port 443 with ALPN x-amzn-mqtt-ca (mqtt-443), or MQTT over WebSocket on 443.',
    ],
    confirm: [
      `curl -v -p --proxy http://PROXY:3128 telnet://${E}:443`,
      `iot-doctor check --endpoint ${E} --proxy-only`,
    ],
  },
  {
    code: 'PROXY_AUTH_REQUIRED',
    family: NET,
    meaning: 'The proxy wants credentials (HTTP 407 with Proxy-Authenticate), or refused the ones given.',
    decides:
      'The proxy stage of a `via proxy` route reads 407 (or SOCKS5 user/password refused); the cell says whether ' +
      'credentials were sent and quotes the Proxy-Authenticate challenge. The password itself is never shown.',
    lookAlikes: [
      { code: 'PROXY_BLOCKS_PORT', tell: 'there the proxy answers 403 (or SOCKS REP 2): a policy, not a login' },
    ],
    remedy: [
      'Give the credentials in the proxy URL: --proxy http://USER:PASSWORD@host:port, or in HTTPS_PROXY.',
      'Device SDKs offer only Basic proxy authentication: a proxy that offers only Negotiate/NTLM needs an exception for the IoT endpoint.',
    ],
    confirm: [`curl -v -p --proxy http://PROXY:3128 --proxy-user USER telnet://${E}:443`],
  },
  {
    code: 'PROXY_UNREACHABLE',
    family: NET,
    meaning:
      'The configured proxy does not answer. When the direct path works, the device must not be configured with ' +
      'this proxy; the site itself is reachable.',
    decides:
      "Every `via proxy` route stops at the proxy's own name, TCP connection, or the proxy protocol (no reply, a " +
      'hang-up, a reply that is not HTTP/SOCKS). The direct routes tell whether the endpoint is reachable without it.',
    lookAlikes: [
      { code: 'PROXY_AUTH_REQUIRED', tell: 'there the proxy answers, with 407' },
      { code: 'ALL_ROUTES_BLOCKED', tell: 'there the endpoint itself is not reachable' },
    ],
    remedy: [
      'If the direct routes pass: remove the proxy from the device configuration (or HTTPS_PROXY / ALL_PROXY).',
      'Otherwise check the proxy address and port with the network administrators.',
    ],
    confirm: ['nc -vz PROXY 3128', `iot-doctor check --endpoint ${E} --no-proxy`],
  },
  {
    code: 'PROXY_BLOCKS_PORT',
    family: NET,
    meaning: "The proxy refuses tunnels to some AWS IoT ports, typically everything but 443 (Squid's stock SSL_ports).",
    decides:
      'The proxy stage of some `via proxy` routes reads a refusal (HTTP 403 or another non-2xx status, quoted word ' +
      'for word, or SOCKS5 REP 2 "not allowed by ruleset"); other ports may pass through the same proxy.',
    lookAlikes: [{ code: 'PORT_BLOCKED', tell: "there the direct path's firewall drops the port, no proxy involved" }],
    remedy: [
      'Use port 443 through the proxy: MQTT with ALPN x-amzn-mqtt-ca (mqtt-443), HTTPS with x-amzn-http-ca.',
      "Or ask the proxy's administrators to allow CONNECT to 8883/8443 for the AWS IoT endpoint.",
    ],
    confirm: [`curl -v -p --proxy http://PROXY:3128 telnet://${E}:8883`],
  },
  {
    code: 'IPV6_PATH_BROKEN',
    family: NET,
    meaning:
      'The endpoint publishes AAAA records and the IPv6 path fails here while IPv4 works: devices without fallback ' +
      '(AWS SDK for Android, mosquitto, aws-cli) fail, often only on some networks.',
    decides:
      'DNS returns both families, so each route kind is probed over IPv4 (`mqtt-8883`) and IPv6 (`mqtt-8883 IPv6`) ' +
      'without Happy Eyeballs; the IPv6 instance stops before TLS completes while the IPv4 one gets through.',
    lookAlikes: [{ code: 'PORT_BLOCKED', tell: 'there the port fails over every family' }],
    remedy: [
      "Fix the site's IPv6 routing or firewall for the AWS IoT endpoint.",
      'Until then force IPv4 on the device (resolve only A records), or use a client that falls back (the AWS CRT does).',
    ],
    confirm: [`iot-doctor check --endpoint ${E} -6`, `nc -6 -vz ${E} 8883`],
  },
  {
    code: 'IPV4_PATH_BROKEN',
    family: NET,
    meaning: 'The IPv4 path to the endpoint fails here while IPv6 works: devices that use only IPv4 cannot connect.',
    decides:
      'As IPV6_PATH_BROKEN, the other way round: the plain (IPv4) instance is cut off, the IPv6 one gets through.',
    lookAlikes: [{ code: 'IPV6_PATH_BROKEN', tell: 'the same split, the other family' }],
    remedy: ["Fix the site's IPv4 routing or firewall for the endpoint.", 'Or let the device use IPv6.'],
    confirm: [`iot-doctor check --endpoint ${E} -4`, `nc -4 -vz ${E} 8883`],
  },
];

/** Pages of SNI_MISSING, TLS_VERSION_UNSUPPORTED, NO_SHARED_CIPHER, TLS_RECORD_TOO_LARGE, ALPN_NOT_OFFERED. */
const DEVICE_TLS_PAGES: readonly CodePage[] = [
  {
    code: 'SNI_MISSING',
    family: TLS,
    meaning:
      "The device's TLS library sends no server name (SNI), and the endpoint needs it: SNI_ONLY certificates, " +
      'custom domains, VPC endpoints and configured TLS policies (facts §2.2).',
    decides:
      'With --no-sni the route fails (or gets another certificate) and the same handshake with SNI succeeds; or an ' +
      'SNI_ONLY certificate (cloud.certificate) is closed after CONNECT on a connection that sent no SNI.',
    lookAlikes: [
      { code: 'ENDPOINT_NAME_MISMATCH', tell: 'there SNI is sent, with a name the endpoint does not serve' },
      { code: 'AUTH_REJECTED_UNEXPLAINED', tell: 'there the connection sent SNI' },
    ],
    remedy: [
      "Set the server name in the device's TLS library (mbedTLS: mbedtls_ssl_set_hostname; lwIP altcp_tls: the host name) to the endpoint name.",
    ],
    confirm: [`openssl s_client -connect ${E}:8883 -noservername </dev/null`],
  },
  {
    code: 'TLS_VERSION_UNSUPPORTED',
    family: TLS,
    meaning:
      'The endpoint refuses the only TLS version the device speaks, e.g. security policy ' +
      'IoTSecurityPolicy_TLS13_1_3_2022_10 (TLS 1.3 only) against a TLS 1.2 device.',
    decides:
      "The handshake with --tls-version fails (alert protocol_version (70), or a close: AWS's reaction is " +
      'unconfirmed) and the versions offered one at a time show which the endpoint accepts.',
    lookAlikes: [{ code: 'NO_SHARED_CIPHER', tell: 'there the version is accepted and the suites are not' }],
    remedy: [
      "Enable a version the endpoint accepts in the device's TLS library, or",
      'choose a domain configuration security policy that accepts the device (aws iot update-domain-configuration --tls-config).',
    ],
    confirm: [`openssl s_client -connect ${E}:8883 -tls1_2 </dev/null`],
  },
  {
    code: 'NO_SHARED_CIPHER',
    family: TLS,
    meaning: 'None of the TLS 1.2 cipher suites the device offers is accepted by the endpoint.',
    decides:
      'The handshake with --ciphers fails (alert handshake_failure (40), or a close) and offering each AWS TLS 1.2 ' +
      'suite alone names the ones the endpoint accepts.',
    lookAlikes: [{ code: 'TLS_VERSION_UNSUPPORTED', tell: 'there the version itself is refused' }],
    remedy: ["Enable one of the accepted suites in the device's TLS library (the finding names them)."],
    confirm: [`openssl s_client -connect ${E}:8883 -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 </dev/null`],
  },
  {
    code: 'TLS_RECORD_TOO_LARGE',
    family: TLS,
    meaning:
      "The server sends a TLS record or Certificate message larger than the device's TLS input buffer " +
      '(--max-record): an mbedTLS-class stack fails the handshake.',
    decides:
      'Every tls cell measures the largest record and the Certificate message on the wire; with --max-record the ' +
      'cell fails when either is larger, and says the size needed.',
    lookAlikes: [
      { code: 'TLS_INTERCEPTED', tell: 'a re-signing proxy may also send a longer chain; there the issuer is foreign' },
    ],
    remedy: [
      'Raise the input buffer (MBEDTLS_SSL_IN_CONTENT_LEN) to 16384 bytes: AWS IoT does not negotiate smaller records.',
      'Custom domains may send chains of up to 16 KB: size the buffer for the chain the endpoint sends.',
    ],
    confirm: [`openssl s_client -connect ${E}:8883 -showcerts </dev/null | grep -c BEGIN`],
  },
  {
    code: 'ALPN_NOT_OFFERED',
    family: TLS,
    meaning:
      'The device offers no ALPN on 443 (a client-library setting): AWS IoT then does not take its client ' +
      'certificate there, so MQTT and HTTPS with X.509 on 443 fail.',
    decides:
      'With --no-alpn the 443 routes offer no ALPN; their alpn cell warns and a later stage fails. The same routes ' +
      'with ALPN x-amzn-mqtt-ca / x-amzn-http-ca are the fix.',
    lookAlikes: [{ code: 'ALPN_STRIPPED', tell: 'there the device offers ALPN and a middlebox removes it' }],
    remedy: [
      'Offer ALPN x-amzn-mqtt-ca (MQTT) or x-amzn-http-ca (HTTPS) in the device TLS settings, or use port 8883/8443.',
    ],
    confirm: [`openssl s_client -connect ${E}:443 -alpn x-amzn-mqtt-ca </dev/null`],
  },
];

/** Every page of the field-path codes. */
export const FIELD_PAGES: readonly CodePage[] = [...PATH_PAGES, ...DEVICE_TLS_PAGES];
