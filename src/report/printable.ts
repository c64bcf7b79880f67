/**
 * Text a terminal shows as it is: a saved report may come from anywhere (a technician's e-mail, a ticket), and its
 * strings must not drive the terminal that renders it. Control characters (C0 but tab and newline, DEL, C1: ESC
 * sequences, OSC titles, carriage returns that overwrite a line) become visible `\xNN` escapes in the text formats.
 */
import type { Report } from '../model/index.js';

/** C0 controls other than tab and newline, DEL, and the C1 range (ECMA-48). */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `text` with every control character but tab and newline shown as `\xNN` (e.g. ESC → `\x1b`). */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function deepPrintable(value: unknown): unknown {
  if (typeof value === 'string') return printable(value);
  if (Array.isArray(value)) return value.map(deepPrintable);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [printable(k), deepPrintable(v)]));
  }
  return value;
}

/** A copy of `report` whose every string (keys too) is `printable`; numbers, booleans and nulls are unchanged. */
export function printableReport(report: Report): Report {
  return deepPrintable(report) as Report;
}
