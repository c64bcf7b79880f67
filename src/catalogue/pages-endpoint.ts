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
];
