/**
 * A problem with what the user asked for (bad flag, missing file, malformed value). The CLI prints its message as
 * one line on stderr and exits 2; it never shows a stack trace.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The message of anything thrown: `Error.message`, else its string form. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Node system error code (ECONNREFUSED, ENOTFOUND ...) when there is one, also from a wrapped `cause`. */
export function errorCode(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== 'object' || depth > 3) return undefined;
  const { code, cause } = err as { code?: unknown; cause?: unknown };
  return typeof code === 'string' ? code : errorCode(cause, depth + 1);
}
