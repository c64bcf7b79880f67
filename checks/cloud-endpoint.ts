import type { Evidence } from '../src/model/index.js';
import { regionFromEndpoint } from '../src/target.js';
import { buildResult, type Outcome } from '../src/model/result.js';
import { cloudCheck, CLOUD_COMMON_CODES } from './cloud-check-util.js';
import { awsIot } from './cloud-cli-util.js';
import { failureOutcome } from './cloud-failure-util.js';
import type { DoctorCheck } from './types.js';

const META = { id: 'cloud.endpoint', title: "Endpoint is this account's iot:Data-ATS endpoint" };

/** Every code cloud.endpoint reports. */
export const CLOUD_ENDPOINT_CODES = [
  'ENDPOINT_MATCHES',
  'ENDPOINT_LEGACY',
  'ENDPOINT_REGION_MISMATCH',
  'ENDPOINT_CUSTOM_DOMAIN',
  'ENDPOINT_OTHER_ACCOUNT',
  ...CLOUD_COMMON_CODES,
] as const;

/** `<prefix>.iot.<region>.amazonaws.com` without `-ats`: the deprecated VeriSign/Symantec endpoint. */
const LEGACY = /^([a-z0-9]+)\.iot\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;
const ATS = /^([a-z0-9]+)-ats\.iot\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/** Compare the configured endpoint with DescribeEndpoint(endpointType=iot:Data-ATS). Pure, for unit tests. */
export function compareEndpoint(configured: string, accountEndpoint: string, apiRegion: string): Outcome {
  const actual = configured.toLowerCase();
  const expected = accountEndpoint.toLowerCase();
  const endpointRegion = regionFromEndpoint(actual);
  const evidence: Evidence = {
    expected,
    actual,
    ...(endpointRegion ? { endpointRegion } : {}),
    apiRegion,
    endpointType: 'iot:Data-ATS',
  };
  if (actual === expected) {
    return {
      status: 'pass',
      code: 'ENDPOINT_MATCHES',
      summary: `${actual} is the account's iot:Data-ATS endpoint in ${apiRegion}`,
      evidence,
    };
  }
  const legacy = LEGACY.exec(actual);
  if (legacy) {
    const samePrefix = ATS.exec(expected)?.[1] === legacy[1] && legacy[2] === apiRegion;
    return {
      status: 'fail',
      code: 'ENDPOINT_LEGACY',
      summary: `${actual} is a legacy (VeriSign-signed, no longer supported) endpoint name; the account's ATS endpoint is ${expected}`,
      evidence: { ...evidence, sameAccount: samePrefix },
      hint: `Use the -ats endpoint ${expected} and trust Amazon Root CA 1 (RSA) and Amazon Root CA 3 (ECC): legacy iot:Data endpoints and their Symantec certificates are deprecated.`,
    };
  }
  if (endpointRegion && endpointRegion !== apiRegion) {
    return {
      status: 'fail',
      code: 'ENDPOINT_REGION_MISMATCH',
      summary: `${actual} is in ${endpointRegion}, but the AWS IoT API was asked in ${apiRegion} (where the account's endpoint is ${expected})`,
      evidence,
      hint: `Run the cloud checks in the endpoint's region (--region ${endpointRegion}). If the device really belongs in ${apiRegion}, configure it with ${expected}: certificates and policies are per region.`,
    };
  }
  if (!endpointRegion) {
    return {
      status: 'warn',
      code: 'ENDPOINT_CUSTOM_DOMAIN',
      summary: `${actual} is not an AWS IoT endpoint name; the account's iot:Data-ATS endpoint in ${apiRegion} is ${expected}`,
      evidence,
      hint: 'If this is a custom domain (domain configuration), check it with `aws iot list-domain-configurations`; otherwise use the account endpoint.',
    };
  }
  return {
    status: 'fail',
    code: 'ENDPOINT_OTHER_ACCOUNT',
    summary: `${actual} is not this account's endpoint: DescribeEndpoint in ${apiRegion} answers ${expected}`,
    evidence,
    hint: `The device is configured with another account's endpoint (use ${expected}), or these AWS credentials are for another account than the device's (compare with \`aws sts get-caller-identity\`). Certificates and policies of one account do not work on another account's endpoint.`,
  };
}

/** cloud.endpoint: DescribeEndpoint(iot:Data-ATS) against the configured endpoint. */
export const cloudEndpointCheck: DoctorCheck = cloudCheck(META, async (ctx, started, c) => {
  const reproduce = awsIot(ctx.target, c.session, 'describe-endpoint', [['--endpoint-type', 'iot:Data-ATS']]);
  const out = await c.api.describeEndpoint('iot:Data-ATS');
  if (!out.ok)
    return [buildResult(META, started, failureOutcome(out, "the account's endpoint", reproduce, ctx.target))];
  const outcome = compareEndpoint(ctx.target.endpoint, out.value, c.session.region);
  return [
    buildResult(META, started, {
      ...outcome,
      evidence: {
        ...outcome.evidence,
        ...(out.attempts > 1 ? { apiAttempts: { DescribeEndpoint: out.attempts } } : {}),
      },
      reproduce,
    }),
  ];
});
