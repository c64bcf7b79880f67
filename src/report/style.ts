import { STATUS_SYMBOLS, type Status } from '../model/index.js';

const COLORS: Record<Status, string> = { pass: '32', warn: '33', fail: '31', skip: '90', error: '35' };

/** `text` in the status colour (ANSI SGR) when `color`, else unchanged. */
export function paint(text: string, status: Status, color: boolean): string {
  return color ? `\u001b[${COLORS[status]}m${text}\u001b[39m` : text;
}

/** "✔ pass": symbol and word, so the status never depends on colour alone. */
export function statusLabel(status: Status, color: boolean): string {
  return paint(`${STATUS_SYMBOLS[status]} ${status}`, status, color);
}

/** `text` in bold (ANSI SGR 1) when `color`, else unchanged. */
export function bold(text: string, color: boolean): string {
  return color ? `\u001b[1m${text}\u001b[22m` : text;
}

/** Every non-empty line of `text` prefixed with `prefix`. */
export function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => (line ? prefix + line : line))
    .join('\n');
}
