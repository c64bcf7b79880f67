/**
 * Where a report points for a code's page: the relative link into docs/codes.md (Markdown and HTML reports) and the
 * command that prints it (table output). Kept free of imports so every reporter can use it cheaply.
 */

/** The catalogue file, relative to the iot-doctor package folder (where README.md links it from too). */
export const CODES_PAGE = 'docs/codes.md';

/** The Markdown anchor of a code's heading in docs/codes.md (GitHub style: lower case; `_` is kept). */
export function anchorOf(code: string): string {
  return code.toLowerCase();
}

/** The relative link to `code`'s page: `docs/codes.md#clock_skew`. */
export function codePageHref(code: string): string {
  return `${CODES_PAGE}#${anchorOf(code)}`;
}

/** The command that prints `code`'s page in a terminal: `iot-doctor explain CLOCK_SKEW`. */
export function explainCommandFor(code: string): string {
  return `iot-doctor explain ${code}`;
}
