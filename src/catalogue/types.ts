/** The shape of one page of the diagnosis catalogue (`iot-doctor explain CODE`, docs/codes.md). */

/** The families codes are listed under, in this order. */
export const FAMILIES = [
  'Files and credentials',
  'Clock',
  'Name resolution and network',
  'TLS and endpoint',
  'Certificate at AWS',
  'Authorization',
  'Site profile',
  'Summary',
] as const;
export type Family = (typeof FAMILIES)[number];

/** One code's page: every text is plain prose, one paragraph or one line per list item. */
export interface CodePage {
  code: string;
  family: Family;
  /** What the code means, in the user's terms. */
  meaning: string;
  /** How iot-doctor decides it: which checks and cells it reads. */
  decides: string;
  /** Codes that look the same, and how to tell them apart. */
  lookAlikes: ReadonlyArray<{ code: string; tell: string }>;
  /** What to do, first the step that usually applies. */
  remedy: readonly string[];
  /** Commands to confirm by hand. */
  confirm: readonly string[];
  /** False for a page generated because nobody has written one yet. */
  written?: boolean;
}
