/** Catalogue pages of the name-resolution, network, TLS and endpoint codes (see types.ts). */
import type { CodePage } from './types.js';

const E = '<endpoint>';

/** Pages of DNS_FAILURE, ALL_ROUTES_BLOCKED, PORT_BLOCKED, SNI_FILTERED, TLS and endpoint codes. */
export const NETWORK_PAGES: readonly CodePage[] = [
  {
    code: 'DNS_FAILURE',
    family: 'Name resolution and network',
    meaning: 'The endpoint name does not resolve to an address, so no route can even start.',
    decides: 'The dns check fails (NXDOMAIN, SERVFAIL or a timeout) and every route stops at its dns stage.',
    lookAlikes: [
      {
        code: 'ENDPOINT_OTHER_ACCOUNT',
        tell: 'that name resolves; a name that does not resolve is not another account',
      },
      { code: 'ALL_ROUTES_BLOCKED', tell: 'there the name resolves and the TCP connections fail' },
    ],
    remedy: [
      'Copy the endpoint from `aws iot describe-endpoint --endpoint-type iot:Data-ATS` (a typo or a thing name pasted as the prefix gives NXDOMAIN).',
      'If the name is right, check the resolver the device uses (DHCP, /etc/resolv.conf, a split-horizon DNS).',
    ],
    confirm: [`dig +short ${E}`, `nslookup ${E}`],
  },
  {
    code: 'ALL_ROUTES_BLOCKED',
    family: 'Name resolution and network',
    meaning: 'Every route (8883, 443 with ALPN, 443 WebSockets, 8443) fails to open a TCP connection.',
    decides: 'The tcp stage of every selected route fails (timeout, refused or unreachable) while DNS works.',
    lookAlikes: [
      { code: 'PORT_BLOCKED', tell: 'there at least one route gets through' },
      { code: 'DNS_FAILURE', tell: 'there the name does not resolve at all' },
    ],
    remedy: [
      'Ask the network administrator to allow outbound TCP 443 (or 8883) to the AWS IoT endpoint, or to name the proxy to use.',
    ],
    confirm: [`nc -vz ${E} 8883`, `nc -vz ${E} 443`],
  },
  {
    code: 'PORT_BLOCKED',
    family: 'Name resolution and network',
    meaning: 'Some routes cannot open a TCP connection while others can: a firewall allows only some ports.',
    decides: 'The tcp stage fails on some routes and succeeds on at least one other.',
    lookAlikes: [{ code: 'ALL_ROUTES_BLOCKED', tell: 'there no route gets through at all' }],
    remedy: [
      'Use a route that works (the report lists them): MQTT over 443 with ALPN x-amzn-mqtt-ca is the usual way out.',
      'Or ask the network administrator to allow outbound TCP 8883.',
    ],
    confirm: [`nc -vz ${E} 8883`, `openssl s_client -connect ${E}:443 -alpn x-amzn-mqtt-ca </dev/null`],
  },
  {
    code: 'TLS_INTERCEPTED',
    family: 'TLS and endpoint',
    meaning: 'Something between the device and AWS presents its own certificate: an SSL-inspecting proxy or firewall.',
    decides:
      'A route tls cell whose chain is not trusted by the CA file and names no Amazon or Starfield CA (while the CA file is not simply wrong), or ports presenting different server certificates. An out-of-date certificate alone is SERVER_CERT_OUT_OF_DATE, and nothing here rests on dates while the clock looks wrong.',
    lookAlikes: [
      {
        code: 'CLOCK_SKEW',
        tell: 'a wrong clock makes the real Amazon chain look invalid; the issuer there is Amazon',
      },
      { code: 'WRONG_CA_FILE', tell: "there the chain is Amazon's but the --ca file does not hold its root" },
    ],
    remedy: [
      'Ask for the AWS IoT endpoint to be excluded from TLS inspection (mutual TLS cannot pass an inspecting proxy).',
    ],
    confirm: [`openssl s_client -connect ${E}:8883 -showcerts </dev/null | openssl x509 -noout -issuer -dates`],
  },
  {
    code: 'WRONG_CA_FILE',
    family: 'TLS and endpoint',
    meaning: 'The CA file given to the device does not hold the root that signs the endpoint (e.g. a Symantec root).',
    decides: 'The chain verifies with the bundled Amazon roots but not with the --ca file.',
    lookAlikes: [{ code: 'TLS_INTERCEPTED', tell: 'there the chain does not verify with Amazon roots either' }],
    remedy: ['Use AmazonRootCA1.pem (RSA) and AmazonRootCA3.pem (EC) from https://www.amazontrust.com/repository/.'],
    confirm: [`openssl s_client -connect ${E}:8883 -CAfile <ca-file> </dev/null | grep 'Verify return code'`],
  },
  {
    code: 'ANSWER_NOT_AWS_IOT',
    family: 'TLS and endpoint',
    meaning:
      'The server answered after TLS, but not with the MQTT or HTTP AWS IoT speaks: a middlebox (proxy, captive ' +
      'portal) or another service answers instead of AWS IoT.',
    decides:
      'A protocol or round-trip cell reads MQTT_NOT_MQTT (bytes that are no MQTT packet, or not a CONNACK first), ' +
      'MQTT_PACKET_TOO_LARGE (a length above 144 KB, where AWS IoT sends at most 128 KB: facts §3.1), HTTP_NOT_HTTP ' +
      '(no HTTP status line) or HTTP_RESPONSE_TOO_LARGE (headers above 16 KB or a body above 64 KB).',
    lookAlikes: [
      {
        code: 'AUTH_REJECTED_UNEXPLAINED',
        tell: 'there AWS IoT closes or refuses; here the answer is not AWS IoT at all',
      },
      { code: 'ALPN_STRIPPED', tell: 'there the server is silent or says "Missing authentication token"' },
      { code: 'TLS_INTERCEPTED', tell: 'there the certificate is foreign; here TLS passed and the bytes after it are' },
    ],
    remedy: [
      'Look at the bytes in the cell summary: an HTTP status line on an MQTT route means a web proxy or portal.',
      'Bypass the middlebox (another network, the device proxy settings), or use a route that works.',
      'Check the endpoint name and any --connect-to rule: another service may listen at that address.',
    ],
    confirm: [`openssl s_client -connect ${E}:8883 -servername ${E} </dev/null`],
  },
  {
    code: 'TLS_HANDSHAKE_TOO_LARGE',
    family: 'TLS and endpoint',
    meaning:
      "The server sent more than 64 KB during the TLS handshake without completing it. AWS IoT's whole chain is " +
      "a few KB and a custom domain's at most 16 KB: something other than AWS IoT answers (a middlebox or another " +
      'service), and iot-doctor cut the handshake instead of reading on.',
    decides:
      'A tls cell reads TLS_HANDSHAKE_TOO_LARGE: the bytes received from the server before the handshake completed ' +
      '(every record, counted on the socket) passed 64 KB.',
    lookAlikes: [
      {
        code: 'TLS_RECORD_TOO_LARGE',
        tell: "there the handshake completes and one record or the chain exceeds the device's --max-record buffer",
      },
      { code: 'ANSWER_NOT_AWS_IOT', tell: 'there TLS completes and the bytes after it are not MQTT or HTTP' },
    ],
    remedy: [
      'Find what answers on that address and port (the certificates it sends show who it is).',
      'Bypass it (another network, the device proxy settings), or use a route that works.',
      'Check the endpoint name and any --connect-to rule: another service may listen at that address.',
    ],
    confirm: [`openssl s_client -connect ${E}:8883 -servername ${E} -showcerts </dev/null | grep -c 'BEGIN CERT'`],
  },
];
