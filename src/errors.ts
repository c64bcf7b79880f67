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

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Node system error code (ECONNREFUSED, ENOTFOUND ...) when there is one. */
export function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}
