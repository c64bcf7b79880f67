/** Report formats and their file extensions: light enough for the CLI's option definitions. */
export const FORMATS = ['table', 'json', 'junit', 'markdown', 'html', 'list', 'prometheus', 'nagios'] as const;
export type ReportFormat = (typeof FORMATS)[number];

/** File extension for a report written in each format. */
export const FORMAT_EXTENSIONS: Readonly<Record<ReportFormat, string>> = {
  table: 'txt',
  json: 'json',
  junit: 'xml',
  markdown: 'md',
  html: 'html',
  list: 'txt',
  prometheus: 'prom',
  nagios: 'txt',
};

/** Whether `value` names one of `REPORT_FORMATS` (the `--format` values). */
export function isReportFormat(value: string): value is ReportFormat {
  return (FORMATS as readonly string[]).includes(value);
}
