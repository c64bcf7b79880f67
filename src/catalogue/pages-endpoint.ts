/** Catalogue pages of WRONG_ENDPOINT_NAME and SERVER_CERT_OUT_OF_DATE (src/diagnose/endpoint-name.ts, server-cert.ts). */
import type { CodePage } from './types.js';

const E = '<endpoint>';

/** Pages of the endpoint-name and server-certificate-date codes. */
export const ENDPOINT_PAGES: readonly CodePage[] = [
  {
    code: 'WRONG_ENDPOINT_NAME',
    family: 'TLS and endpoint',
    meaning:
      'The configured name looks like an AWS IoT data endpoint (<prefix>.iot.<region>.amazonaws.com) but is not one: it does not exist, or its prefix is a thing name, client id or other text pasted where the account prefix belongs.',
    decides:
      'The dns cell of every route answers NXDOMAIN for an AWS-shaped name (certain), or the prefix is not letters and digits with -ats (likely). With credentials, cloud.endpoint (DescribeEndpoint, iot:Data-ATS) gives the account endpoint, which the finding suggests. It takes the place of DNS_FAILURE, ENDPOINT_OTHER_ACCOUNT and ENDPOINT_NAME_MISMATCH for the same name.',
    lookAlikes: [
      { code: 'DNS_FAILURE', tell: 'there the resolver fails (timeout, SERVFAIL) or the name is a custom domain' },
      {
        code: 'ENDPOINT_OTHER_ACCOUNT',
        tell: 'there the name is a real endpoint that resolves, only of another account',
      },
      { code: 'LEGACY_ENDPOINT', tell: 'a real prefix without -ats: the deprecated VeriSign endpoint' },
    ],
    remedy: [
      'Configure the device with the account endpoint: aws iot describe-endpoint --endpoint-type iot:Data-ATS (the report names it when the cloud checks ran).',
    ],
    confirm: [
      'aws iot describe-endpoint --endpoint-type iot:Data-ATS --query endpointAddress --output text',
      `nslookup ${E}`,
    ],
  },
  {
    code: 'SERVER_CERT_OUT_OF_DATE',
    family: 'TLS and endpoint',
    meaning:
      'The endpoint presents a certificate that is expired or not yet valid. AWS IoT serves only current certificates, so either something else answers (a proxy, a wrong address) or the clock of this machine is wrong.',
    decides:
      "Route tls cells TLS_SERVER_CERT_EXPIRED / TLS_SERVER_CERT_NOT_YET_VALID while no clock finding stands and the chain gives no other sign of interception. Likely not AWS when clock.skew found the clock right (the server's date header); possible otherwise, with the clock as the other candidate.",
    lookAlikes: [
      { code: 'CLOCK_SKEW', tell: "a wrong clock makes AWS's current certificate look out of date; date -u tells" },
      {
        code: 'TLS_INTERCEPTED',
        tell: 'when the chain also is not Amazon, or differs between ports, the finding is TLS_INTERCEPTED instead',
      },
    ],
    remedy: [
      "Look at who answers and the certificate's dates (first command below): an Amazon chain with current dates means the clock is wrong; anything else means the device is sent elsewhere.",
      'Remove the --connect-to, --resolve, hosts-file or DNS entry that sends the device elsewhere, or ask for the endpoint to be excluded from TLS inspection.',
    ],
    confirm: [
      `openssl s_client -connect ${E}:8883 -servername ${E} -showcerts </dev/null | openssl x509 -noout -issuer -dates`,
      'date -u',
    ],
  },
  {
    code: 'SNI_FILTERED',
    family: 'TLS and endpoint',
    meaning:
      'TCP to the port opens, but the connection is reset, closed or left silent right after the TLS ClientHello, which names the endpoint in its SNI: a firewall or proxy that filters by server name.',
    decides:
      'The tcp cell passes and the tls cell fails with TLS_RESET, TLS_CLOSED or TLS_STALLED before any byte came back from the server. Likely for a reset while TLS completes on another port; possible otherwise, with the look-alikes as candidates.',
    lookAlikes: [
      { code: 'ENDPOINT_NAME_MISMATCH', tell: 'there the server itself refuses the name, with an alert' },
      { code: 'PORT_BLOCKED', tell: 'there TCP itself never opens' },
    ],
    remedy: [
      'Ask the network administrator whether the endpoint (or *.iot.<region>.amazonaws.com) is on an SNI filter list for the port, and for it to be allowed.',
      'Meanwhile use a route that completes TLS (the finding names it).',
    ],
    confirm: [
      `openssl s_client -connect ${E}:8883 -servername ${E} </dev/null`,
      `openssl s_client -connect ${E}:8883 -servername example.com </dev/null  # passes when only the name is filtered`,
    ],
  },
  {
    code: 'LEGACY_ENDPOINT',
    family: 'TLS and endpoint',
    meaning:
      'The endpoint is the legacy iot:Data name without -ats, whose Symantec/VeriSign certificates AWS IoT no longer supports (facts §2.3).',
    decides:
      'The endpoint name has the <prefix>.iot.<region>.amazonaws.com form without -ats, or cloud.endpoint (DescribeEndpoint) says ENDPOINT_LEGACY and gives the ATS name.',
    lookAlikes: [
      { code: 'WRONG_CA_FILE', tell: 'an -ats endpoint with the old VeriSign root as CA file fails the same way' },
      { code: 'WRONG_ENDPOINT_NAME', tell: 'there the prefix itself is not an account prefix, or does not exist' },
    ],
    remedy: [
      'Configure the device with the iot:Data-ATS endpoint (the same prefix with -ats, or aws iot describe-endpoint --endpoint-type iot:Data-ATS) and AmazonRootCA1.pem / AmazonRootCA3.pem as its CA.',
    ],
    confirm: ['aws iot describe-endpoint --endpoint-type iot:Data-ATS', `nslookup ${E}`],
  },
  {
    code: 'ENDPOINT_NAME_MISMATCH',
    family: 'TLS and endpoint',
    meaning:
      'The server certificate does not cover the endpoint name, or the server refused the handshake for that name on every route: the name is wrong, a custom domain lacks its certificate, or another server answers.',
    decides:
      "Route tls cells TLS_HOSTNAME_MISMATCH (certain); or every TLS route refused right at the ClientHello (alert 112 unrecognized_name: likely; alert 40 or a close: possible, since AWS's reaction to a wrong SNI is undocumented, facts §2.2). Likely also when cloud.endpoint says the name is not the account's.",
    lookAlikes: [
      { code: 'SNI_FILTERED', tell: 'a filter resets or closes without an alert; the server sends none' },
      { code: 'WRONG_ENDPOINT_NAME', tell: 'a name that does not exist, or a pasted thing name, is named as such' },
    ],
    remedy: [
      "Configure the device with the endpoint from aws iot describe-endpoint --endpoint-type iot:Data-ATS (or the custom domain's configured name).",
    ],
    confirm: [
      `openssl s_client -connect ${E}:8883 -servername ${E} </dev/null | openssl x509 -noout -subject -ext subjectAltName`,
    ],
  },
  {
    code: 'ENDPOINT_OTHER_ACCOUNT',
    family: 'TLS and endpoint',
    meaning:
      "The endpoint resolves and is an AWS IoT endpoint, but not the one DescribeEndpoint gives for these credentials: another account's (or another region's). Certificates and policies exist only behind their own account's endpoint.",
    decides:
      'cloud.endpoint: DescribeEndpoint (iot:Data-ATS) differs from the configured name (ENDPOINT_OTHER_ACCOUNT), or the name is in another region than the API was asked in (ENDPOINT_REGION_MISMATCH). A name that does not resolve is WRONG_ENDPOINT_NAME instead.',
    lookAlikes: [
      { code: 'WRONG_ENDPOINT_NAME', tell: 'there the name does not exist at all' },
      { code: 'CERT_NOT_REGISTERED', tell: 'the consequence seen from the endpoint the device uses' },
    ],
    remedy: [
      'Configure the device with the endpoint the finding names, or run the cloud checks with credentials of the account that owns the endpoint (--profile, --region).',
    ],
    confirm: ['aws iot describe-endpoint --endpoint-type iot:Data-ATS', 'aws sts get-caller-identity'],
  },
  {
    code: 'ALPN_STRIPPED',
    family: 'TLS and endpoint',
    meaning:
      'On 443 the server did not select the ALPN protocol the route needs (x-amzn-mqtt-ca, x-amzn-http-ca): the client cannot send ALPN, or a proxy on the way drops it, so AWS treats the connection as another protocol.',
    decides:
      'The alpn cell of a 443 route is ALPN_NOT_SELECTED or ALPN_UNEXPECTED, or HTTPS answers 403 "Missing Authentication Token" without the ALPN selected; stronger when 8883/8443 work from the same network.',
    lookAlikes: [
      { code: 'TLS_INTERCEPTED', tell: 'an inspecting proxy also drops ALPN, but presents its own certificate' },
      { code: 'POLICY_DENIES_CONNECT', tell: 'with ALPN selected, a close after CONNECT is authorization' },
    ],
    remedy: [
      'Make the device send ALPN x-amzn-mqtt-ca (MQTT) or x-amzn-http-ca (HTTPS) on 443 (OpenSSL 1.0.2+, a current AWS IoT SDK), or use 8883/8443.',
    ],
    confirm: [`openssl s_client -connect ${E}:443 -servername ${E} -alpn x-amzn-mqtt-ca </dev/null | grep ALPN`],
  },
];
