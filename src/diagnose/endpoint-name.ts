/**
 * WRONG_ENDPOINT_NAME: a name shaped like an AWS IoT data endpoint (`<prefix>.iot.<region>.amazonaws.com`, facts
 * §2.3) that is not one: it does not exist (NXDOMAIN), or its prefix is not an endpoint prefix (a thing name pasted
 * in, with `_` or other characters an account prefix never has). When the cloud checks ran, DescribeEndpoint
 * (iot:Data-ATS) names the account's real endpoint, and the finding suggests it.
 */
import type { CheckResult, Finding } from '../model/index.js';
import { finding, ids, isCode, str, type Facts } from './facts.js';

/** `<prefix>.iot.<region>.amazonaws.com(.cn)`: the shape of AWS IoT data endpoints (facts §2.3). */
const AWS_IOT_DATA_NAME = /^([^.]+)\.iot\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\.?$/i;
/** An account prefix: letters and digits, `-ats` for the ATS endpoint (facts §2.3). */
const ENDPOINT_PREFIX = /^[a-z0-9]+(-ats)?$/i;

/** Whether `name` has the AWS IoT data endpoint shape, and whether its prefix could be an account's. */
export function awsEndpointShape(name: string): { aws: boolean; prefixOk: boolean; prefix?: string } {
  const m = AWS_IOT_DATA_NAME.exec(name);
  if (!m) return { aws: false, prefixOk: false };
  return { aws: true, prefixOk: ENDPOINT_PREFIX.test(m[1]!), prefix: m[1]! };
}

/** The dns cells that say the name does not exist, when every route that counts stopped there; else []. */
function nxdomainCells(facts: Facts): CheckResult[] {
  const dns = facts.relevantRoutes().map((r) => facts.cell(r, 'dns'));
  const nx = dns.filter((c): c is CheckResult => isCode(c, 'DNS_NXDOMAIN'));
  return nx.length > 0 && nx.length === dns.length ? nx : [];
}

/** The account's iot:Data-ATS endpoint as cloud.endpoint read it from DescribeEndpoint, when it differs. */
function accountEndpoint(facts: Facts): { result?: CheckResult; endpoint?: string } {
  const r = facts.is('cloud.endpoint', 'ENDPOINT_OTHER_ACCOUNT', 'ENDPOINT_REGION_MISMATCH');
  const endpoint = str(r?.evidence['expected']) ?? str(r?.evidence['accountEndpoint']);
  return { ...(r ? { result: r } : {}), ...(endpoint ? { endpoint } : {}) };
}

/** The configured name: the dns cells' `name`, else the endpoint name of the run. */
function configuredName(facts: Facts): string | undefined {
  for (const route of facts.relevantRoutes()) {
    const name = str(facts.cell(route, 'dns')?.evidence['name']);
    if (name) return name;
  }
  return facts.endpointName();
}

/**
 * WRONG_ENDPOINT_NAME: an AWS-IoT-shaped name that does not exist (certain) or whose prefix cannot be an
 * account's (likely). Takes the place of DNS_FAILURE and ENDPOINT_OTHER_ACCOUNT for the same name: a name that does
 * not resolve is not "another account's".
 */
export function wrongEndpointName(facts: Facts): Finding[] {
  const name = configuredName(facts);
  if (!name) return [];
  const shape = awsEndpointShape(name);
  const nx = nxdomainCells(facts);
  if (!shape.aws || (nx.length === 0 && shape.prefixOk)) return [];
  const { result, endpoint } = accountEndpoint(facts);
  const why =
    nx.length > 0
      ? `it does not exist: DNS answers NXDOMAIN${shape.prefixOk ? '' : `, and its prefix "${shape.prefix}" is not an endpoint prefix (letters and digits, then -ats)`}`
      : `its prefix "${shape.prefix}" cannot be an account's endpoint prefix (letters and digits, then -ats): a thing name, client id or other text was pasted in its place`;
  const suggestion = endpoint
    ? ` DescribeEndpoint (iot:Data-ATS) for these credentials gives ${endpoint}.`
    : ' The cloud checks did not give the account endpoint (no credentials, or not allowed iot:DescribeEndpoint).';
  return [
    finding('WRONG_ENDPOINT_NAME', {
      severity: 'critical',
      confidence: nx.length > 0 ? 'certain' : 'likely',
      title: endpoint
        ? `${name} is not an AWS IoT endpoint; the account's is ${endpoint}`
        : `${name} is not an AWS IoT endpoint`,
      explanation: `The device is configured with ${name}, which looks like an AWS IoT data endpoint but is not one: ${why}.${suggestion} Every account has its own endpoint per region, <prefix>-ats.iot.<region>.amazonaws.com, shown by aws iot describe-endpoint --endpoint-type iot:Data-ATS.`,
      remediation: [
        endpoint
          ? `Configure the device with ${endpoint}, the account's iot:Data-ATS endpoint.`
          : 'Copy the endpoint from aws iot describe-endpoint --endpoint-type iot:Data-ATS (or the console: AWS IoT, Settings, Device data endpoint) into the device configuration.',
        `Check by hand: nslookup ${name}`,
      ],
      params: { name, nxdomain: nx.length > 0, prefix: shape.prefix ?? null, accountEndpoint: endpoint ?? null },
      evidence: ids([...nx, result]),
    }),
  ];
}
