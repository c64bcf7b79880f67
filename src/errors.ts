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

/**
 * The reason `JSON.parse` gave, as one line without the input it quotes: V8 writes `Unexpected token 'x', "<the
 * input, newlines and all>" is not valid JSON`, which spans as many lines as the input and can echo file content.
 * Returns e.g. `unexpected token 'x'` or `expected ',' or ']' after array element at line 2, column 3` (the line and
 * column computed from V8's `at position N` when `text`, the parsed input, is given); control characters in the
 * quoted token are written `\xNN`.
 */
export function jsonSyntaxReason(err: unknown, text?: string): string {
  let reason = errorMessage(err).replace(/, (?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON$/, '');
  const at = /\s*in JSON at position (\d+)(?: \(line \d+ column \d+\))?$/.exec(reason);
  if (at) {
    reason = reason.slice(0, at.index);
    const pos = Number(at[1]);
    if (text !== undefined && pos <= text.length) {
      const before = text.slice(0, pos).split('\n');
      reason += ` at line ${before.length}, column ${(before.at(-1) ?? '').length + 1}`;
    } else reason += ` at position ${pos}`;
  }
  reason = reason.replace(/ in JSON$/, '');
  reason = reason.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return reason.charAt(0).toLowerCase() + reason.slice(1);
}
