/**
 * AWS API failures as cloud check outcomes: no credentials or region (skip), AccessDenied (skip naming the
 * permission), no answer, throttling, rejected credentials and other service errors (warnings).
 */
import type { Evidence } from '../src/model/index.js';
import type { Outcome } from '../src/model/result.js';
import type { ApiFailure } from '../src/probes/iot-api.js';
import type { Target } from '../src/target.js';
import { awsConfigureList } from './cloud-cli-util.js';

/** Codes of a cloud check that could not ask AWS (`sessionFailureOutcome`, `failureOutcome`). */
export const CLOUD_FAILURE_CODES = [
  'CLOUD_NO_CREDENTIALS',
  'CLOUD_NO_REGION',
  'CLOUD_SDK_UNAVAILABLE',
  'IAM_ACCESS_DENIED',
  'CLOUD_API_UNREACHABLE',
  'CLOUD_API_THROTTLED',
  'CLOUD_CREDENTIALS_REJECTED',
  'CLOUD_API_ERROR',
] as const;

const CREDENTIALS_HINT =
  'Give the cloud checks read-only AWS IoT access: `aws configure`, or `aws sso login --profile NAME` and --profile NAME, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN). ' +
  'Without access, hand the JSON report to someone who has it: they can run the cloud checks from the report (--from report.json).';

/** Why the session could not be set up, as the result of any cloud check. */
export function sessionFailureOutcome(failure: ApiFailure, target: Target, own: boolean): Outcome {
  const see = own ? '' : ' (see cloud.credentials)';
  switch (failure.kind) {
    case 'no-credentials':
      return {
        status: 'skip',
        code: 'CLOUD_NO_CREDENTIALS',
        summary: `skipped: ${failure.message}${see}`,
        evidence: { reason: failure.message, ...(target.awsProfile ? { profile: target.awsProfile } : {}) },
        hint: CREDENTIALS_HINT,
        reproduce: awsConfigureList(target),
      };
    case 'no-region':
      return {
        status: 'skip',
        code: 'CLOUD_NO_REGION',
        summary: `skipped: ${failure.message}${see}`,
        evidence: { reason: failure.message },
        hint: 'Pass --region (e.g. --region eu-west-1), or use the account endpoint name <prefix>-ats.iot.<region>.amazonaws.com, or set AWS_REGION.',
        reproduce: awsConfigureList(target),
      };
    case 'sdk-unavailable':
      return {
        status: 'skip',
        code: 'CLOUD_SDK_UNAVAILABLE',
        summary: `skipped: ${failure.message}${see}`,
        evidence: { reason: failure.message },
        hint: 'Reinstall iot-doctor with its dependencies (npm install): the cloud checks need @aws-sdk/client-iot.',
      };
    default:
      return failureOutcome(failure, 'the AWS session', undefined, target);
  }
}

/**
 * An API failure as an outcome: AccessDenied is a skip naming the permission; no answer is a warning; the other
 * kinds say what the service answered. `what` says what could not be checked.
 */
export function failureOutcome(
  failure: ApiFailure,
  what: string,
  reproduce: string | undefined,
  target: Target,
): Outcome {
  const base = { ...(reproduce ? { reproduce } : {}) };
  const evidence: Evidence = {
    operation: failure.operation,
    ...(failure.permission ? { permission: failure.permission } : {}),
    error: failure.errorName,
    message: failure.message,
    ...(failure.httpStatus ? { httpStatus: failure.httpStatus } : {}),
  };
  switch (failure.kind) {
    case 'no-credentials':
    case 'no-region':
    case 'sdk-unavailable':
      return sessionFailureOutcome(failure, target, false);
    case 'access-denied':
      return {
        ...base,
        status: 'skip',
        code: 'IAM_ACCESS_DENIED',
        summary: `skipped: these AWS credentials may not call ${failure.permission} (AccessDenied), so ${what} was not checked`,
        evidence,
        hint: `Allow ${failure.permission} for the IAM identity that runs iot-doctor (the README lists the minimal read-only policy), or run the cloud checks with credentials that have it.`,
      };
    case 'unreachable':
      return {
        ...base,
        status: 'warn',
        code: 'CLOUD_API_UNREACHABLE',
        summary: `the AWS IoT API did not answer ${failure.operation || 'the request'}: ${failure.message}; ${what} was not checked`,
        evidence: { ...evidence, timeoutMs: target.timeoutMs },
        hint: 'This machine cannot reach the AWS IoT API (iot.<region>.amazonaws.com, HTTPS 443): check the network, the proxy (HTTPS_PROXY) and the endpoint override (--api-endpoint, AWS_ENDPOINT_URL_IOT), or raise --timeout.',
      };
    case 'throttled':
      return {
        ...base,
        status: 'warn',
        code: 'CLOUD_API_THROTTLED',
        summary: `the AWS IoT API kept throttling ${failure.operation} after retries; ${what} was not checked`,
        evidence,
        hint: 'Other tools in the account are using the API quota: run the check again in a moment.',
      };
    case 'credentials-rejected':
      return {
        ...base,
        status: 'warn',
        code: 'CLOUD_CREDENTIALS_REJECTED',
        summary: `AWS rejected the credentials (${failure.errorName}); ${what} was not checked`,
        evidence,
        hint: 'The credentials are invalid or expired: refresh them (aws sso login, new session token) and check the clock of this machine.',
      };
    case 'not-found':
    case 'service-error':
    default:
      return {
        ...base,
        status: 'warn',
        code: 'CLOUD_API_ERROR',
        summary: `${failure.operation} failed: ${failure.errorName}: ${failure.message}; ${what} was not checked`,
        evidence,
      };
  }
}
