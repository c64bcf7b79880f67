/** `iot-doctor explain [CODE] [--markdown]`: print a code's page, the list of codes, or the Markdown catalogue. */
import { catalogueMarkdown, listText, pageFor, pageText } from './index.js';

/**
 * Runs `explain` with the parsed arguments (`code?: string`, `markdown: boolean`) and resolves to the exit code:
 * 0, or 2 with one line on stderr for a code no finding has.
 */
export async function explainCommand(args: Record<string, unknown>): Promise<number> {
  await Promise.resolve();
  const code = typeof args['code'] === 'string' ? args['code'] : undefined;
  if (args['markdown'] === true) {
    process.stdout.write(catalogueMarkdown());
    return 0;
  }
  if (code === undefined) {
    process.stdout.write(`${listText()}\n`);
    return 0;
  }
  const page = pageFor(code);
  if (!page) {
    process.stderr.write(`iot-doctor: no diagnosis code "${code}" (iot-doctor explain lists them)\n`);
    return 2;
  }
  process.stdout.write(`${pageText(page)}\n`);
  return 0;
}
