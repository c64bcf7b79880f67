import { readFileSync } from 'node:fs';

/** The package name, as package.json and the reports' `tool.name` spell it. */
export const TOOL_NAME = 'iot-doctor';
/**
 * The package version, read once from package.json: one level up from src/, two from dist/src/ (tsc's output and the
 * bundle's entry), three from dist/src/chunks/ (a bundle chunk); 0.0.0 if unread.
 */
export const TOOL_VERSION: string = (() => {
  for (const rel of ['../package.json', '../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === TOOL_NAME && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return '0.0.0';
})();
