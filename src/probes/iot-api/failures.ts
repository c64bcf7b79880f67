/**
 * AWS SDK and network errors as data (`ApiFailure`), and the deadline race that bounds calls the SDK cannot abort
 * (region and AWS credential lookups).
 */
import { errorCode } from '../../errors.js';
import type { ApiFailure } from './types.js';
import { withDeadline as waitAtMost } from '../../runner/deadline.js';

const ACCESS_DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnauthorizedException',
  'UnauthorizedOperation',
]);
const CREDENTIALS_REJECTED = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'ExpiredTokenException',
  'ExpiredToken',
  'MissingAuthenticationTokenException',
  'InvalidAccessKeyId',
]);
const THROTTLED = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'Throttling',
  'LimitExceededException',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);
const NETWORK_NAMES = new Set([
  'TimeoutError',
  'AbortError',
  'RequestTimeout',
  'RequestTimeoutException',
  'DeadlineError',
]);

/** Longest a credential chain may take is the call deadline; IMDS alone can take seconds when it is absent. */
class DeadlineError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

/** Whitespace collapsed to single spaces, cut to at most 300 characters (297 and "..."). */
export function oneLine(text: string): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > 300 ? `${s.slice(0, 297)}...` : s;
}

/**
 * Waits for `promise` at most `ms` milliseconds (the runner's `withDeadline`): rejects with a `DeadlineError` naming
 * `what` when the deadline passes first. The losing promise is not cancelled (the SDK call has its own abort).
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return waitAtMost(promise, ms, {
    onTimeout: () => {
      throw new DeadlineError(what, ms);
    },
  });
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** Maps an SDK or network error to a failure kind. Exported for unit tests. */
export function classifyError(err: unknown, operation: string, permission: string): ApiFailure {
  const e = (err ?? {}) as ErrorLike;
  const errorName = typeof e.name === 'string' ? e.name : 'Error';
  const message = oneLine(typeof e.message === 'string' ? e.message : String(err));
  const httpStatus = e.$metadata?.httpStatusCode;
  const code = errorCode(e);
  const base = { ok: false as const, operation, permission, errorName, message, ...(httpStatus ? { httpStatus } : {}) };
  if (CREDENTIALS_REJECTED.has(errorName)) return { ...base, kind: 'credentials-rejected' };
  if (ACCESS_DENIED.has(errorName) || httpStatus === 403) {
    const named = /perform:\s*([A-Za-z0-9-]+:[A-Za-z0-9*]+)/.exec(message)?.[1];
    return { ...base, kind: 'access-denied', permission: named ?? permission };
  }
  if (errorName === 'ResourceNotFoundException') return { ...base, kind: 'not-found' };
  if (THROTTLED.has(errorName) || httpStatus === 429) return { ...base, kind: 'throttled' };
  if (errorName === 'CredentialsProviderError') return { ...base, kind: 'no-credentials' };
  if (
    NETWORK_NAMES.has(errorName) ||
    (code && NETWORK_CODES.has(code)) ||
    (!httpStatus && /ECONN|ENOTFOUND|EAI_AGAIN|socket hang up|timed? ?out/i.test(message))
  ) {
    return {
      ...base,
      kind: 'unreachable',
      ...(code && !message.includes(code) ? { message: oneLine(`${code}: ${message}`) } : {}),
    };
  }
  return { ...base, kind: 'service-error' };
}

/** The account id in an IAM/STS ARN quoted by an AccessDenied message (the caller's account is the one queried). */
export function accountFromMessage(message: string): string | undefined {
  return /arn:aws[\w-]*:(?:iam|sts)::(\d{12}):/.exec(message)?.[1];
}
