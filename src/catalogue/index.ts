/**
 * The diagnosis catalogue: one page per finding code (`iot-doctor explain CODE`), all codes by family (`explain`),
 * and the same pages as Markdown (docs/codes.md). Written pages live in the pages-*.ts files; every code of
 * DIAGNOSIS_CODES without one still gets a generated page, so a code added elsewhere is never missing from the list.
 */
import { DIAGNOSIS_CODES } from '../diagnose/index.js';
import { AUTH_PAGES } from './pages-auth.js';
import { CLOCK_PAGES } from './pages-clock.js';
import { CLOUD_PAGES } from './pages-cloud.js';
import { CREDENTIAL_PROVIDER_PAGES } from './pages-credential-provider.js';
import { CREDENTIAL_PAGES } from './pages-credentials.js';
import { ENDPOINT_PAGES } from './pages-endpoint.js';
import { FIELD_PAGES } from './pages-field.js';
import { GENERAL_PAGES } from './pages-general.js';
import { CUSTOM_AUTH_PAGES } from './pages-custom-auth.js';
import { WSS_PAGES } from './pages-wss.js';
import { NETWORK_PAGES } from './pages-network.js';
import { RECORD_PAGES } from './pages-records.js';
import { FAMILIES, type CodePage, type Family } from './types.js';

export type { CodePage, Family } from './types.js';
export { anchorOf, codePageHref, explainCommandFor } from './link.js';

/** Written pages, one list per family of rules (one pages-*.ts file each); a new code's page goes in its list. */
const PAGE_LISTS: readonly (readonly CodePage[])[] = [
  CLOCK_PAGES,
  CREDENTIAL_PAGES,
  CLOUD_PAGES,
  CREDENTIAL_PROVIDER_PAGES,
  GENERAL_PAGES,
  NETWORK_PAGES,
  ENDPOINT_PAGES,
  AUTH_PAGES,
  RECORD_PAGES,
  CUSTOM_AUTH_PAGES,
  WSS_PAGES,
  FIELD_PAGES,
];

const WRITTEN: ReadonlyMap<string, CodePage> = new Map(PAGE_LISTS.flat().map((p) => [p.code, p]));

/** The family of a code without a written page, from its name. */
function familyOf(code: string): Family {
  if (/^CLOCK/.test(code)) return 'Clock';
  if (/^(CERT_FILES|CREDENTIALS|KEY_|CERT_EXPIRED|CERT_NOT_YET)/.test(code)) return 'Files and credentials';
  if (/^(DNS|ALL_ROUTES|PORT|PROXY|IPV6|NETWORK)/.test(code)) return 'Name resolution and network';
  if (/^(TLS|SNI|ALPN|WRONG_CA|LEGACY|ENDPOINT|WRONG_ENDPOINT)/.test(code)) return 'TLS and endpoint';
  if (/^CERT_/.test(code)) return 'Certificate at AWS';
  if (/^(AUTH|POLICY|NO_POLICY|CUSTOM_AUTH|CLIENT_ID|DUPLICATE)/.test(code)) return 'Authorization';
  if (/^PROFILE/.test(code)) return 'Site profile';
  return 'Summary';
}

function generatedPage(code: string): CodePage {
  return {
    code,
    family: familyOf(code),
    meaning: `No page written yet for ${code}. The report's explanation and remediation say what it found.`,
    decides: "See the finding's evidence list in the report: it names the checks and cells it rests on.",
    lookAlikes: [],
    remedy: ['Follow the remediation of the finding in the report (the first step applies to this run).'],
    confirm: ['iot-doctor check --endpoint <endpoint> --format list'],
    written: false,
  };
}

/** Every code's page, in DIAGNOSIS_CODES order. */
export function allPages(): CodePage[] {
  return DIAGNOSIS_CODES.map((code) => WRITTEN.get(code) ?? generatedPage(code));
}

/** The page of `code` (case-insensitive), or undefined when no finding has that code. */
export function pageFor(code: string): CodePage | undefined {
  const upper = code.trim().toUpperCase();
  return allPages().find((p) => p.code === upper);
}

/** One page as plain text for the terminal (`iot-doctor explain CODE`). */
export function pageText(p: CodePage): string {
  const lines = [`${p.code}  (${p.family})`, '', p.meaning, '', 'How iot-doctor decides it:', `  ${p.decides}`];
  if (p.lookAlikes.length) {
    lines.push('', 'Looks like:');
    for (const l of p.lookAlikes) lines.push(`  ${l.code}: ${l.tell}`);
  }
  lines.push('', 'Remedy:', ...p.remedy.map((r, i) => `  ${i + 1}. ${r}`));
  lines.push('', 'Confirm by hand:', ...p.confirm.map((c) => `  $ ${c}`));
  return lines.join('\n');
}

/** The list of all codes by family (`iot-doctor explain`). */
export function listText(): string {
  const pages = allPages();
  const out: string[] = [];
  for (const family of FAMILIES) {
    const inFamily = pages.filter((p) => p.family === family);
    if (!inFamily.length) continue;
    out.push(`${family}:`);
    for (const p of inFamily) out.push(`  ${p.code.padEnd(28)} ${p.meaning.split('. ')[0]!.replace(/\.$/, '')}`);
    out.push('');
  }
  out.push('iot-doctor explain CODE prints one page.');
  return out.join('\n');
}

/** The whole catalogue as Markdown: docs/codes.md is exactly this text (test/unit/catalogue.test.ts checks it). */
export function catalogueMarkdown(): string {
  const pages = allPages();
  const out = [
    '# Diagnosis codes',
    '',
    '<!-- Generated from src/catalogue by `node dist/src/bin.js explain --markdown > docs/codes.md`; do not edit. -->',
    '',
    'Every finding in a report links to its page here. `iot-doctor explain CODE` prints the same page.',
    '',
  ];
  for (const family of FAMILIES) {
    const inFamily = pages.filter((p) => p.family === family);
    if (!inFamily.length) continue;
    out.push(`## ${family}`, '');
    for (const p of inFamily) {
      out.push(`### ${p.code}`, '', p.meaning, '', `**How iot-doctor decides it.** ${p.decides}`, '');
      if (p.lookAlikes.length) {
        out.push('**Looks like.**', '', ...p.lookAlikes.map((l) => `- \`${l.code}\`: ${l.tell}`), '');
      }
      out.push('**Remedy.**', '', ...p.remedy.map((r, i) => `${i + 1}. ${r}`), '');
      out.push('**Confirm by hand.**', '', '```sh', ...p.confirm, '```', '');
    }
  }
  return out.join('\n');
}
