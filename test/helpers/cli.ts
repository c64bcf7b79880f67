/**
 * What the CLI tests share: the built binary run as a user runs it (no colour, never rejecting, bounded), the report
 * schema validator, and the `check` arguments that point a run at a running lab.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { execa, type Options, type Result } from 'execa';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The built CLI (`npm test` builds dist/ first). */
export const BIN = join(ROOT, 'dist/src/bin.js');

/** Colour off whatever the terminal says, so the output can be compared as text. */
export const PLAIN_ENV = { NO_COLOR: '1', FORCE_COLOR: undefined } as Record<string, string | undefined>;

/** `node dist/src/bin.js <args>` in `cwd`, never rejecting; `timeout` in ms (default 60 s). */
export function runCli(
  args: string[],
  opts: { cwd: string; env?: Record<string, string | undefined>; timeout?: number } & Pick<
    Options,
    'stripFinalNewline'
  >,
): Promise<Result<{ reject: false }>> {
  const { cwd, env = {}, timeout = 60_000, stripFinalNewline } = opts;
  return execa('node', [BIN, ...args], {
    reject: false,
    env: { ...PLAIN_ENV, ...env },
    cwd,
    timeout,
    ...(stripFinalNewline === undefined ? {} : { stripFinalNewline }),
  });
}

/**
 * The environment of a CLI run that sees none of this machine's AWS setup: every `AWS_*` variable of this process
 * unset, the shared config and credentials files pointing at `emptyFile`, no instance metadata lookup, `HOME` at
 * `home`; then `extra` (credentials, endpoints, proxies a test sets or unsets).
 */
export function isolatedAwsEnv(
  home: string,
  emptyFile: string,
  extra: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  const unset = Object.fromEntries(
    Object.keys(process.env)
      .filter((k) => k.startsWith('AWS_'))
      .map((k) => [k, undefined]),
  );
  return {
    ...unset,
    AWS_CONFIG_FILE: emptyFile,
    AWS_SHARED_CREDENTIALS_FILE: emptyFile,
    AWS_EC2_METADATA_DISABLED: 'true',
    HOME: home,
    ...extra,
  };
}

/** A validator of the JSON report against `src/report/report.schema.json` (draft 2020-12, strict). */
export function reportValidator(): ReturnType<InstanceType<typeof Ajv2020.default>['compile']> {
  const ajv = new Ajv2020.default({ allErrors: true, strict: true });
  addFormats.default(ajv);
  return ajv.compile(JSON.parse(readFileSync(join(ROOT, 'src/report/report.schema.json'), 'utf8')) as object);
}

/** `check` against a running lab: its endpoint, the device files, every `--connect-to` rule, no report file. */
export function labCheckArgs(
  lab: { endpoint: string; connectTo: readonly string[] },
  files: { ca: string; cert: string; key: string },
  extra: string[] = [],
  before: string[] = [],
): string[] {
  return [
    'check',
    '--endpoint',
    lab.endpoint,
    '--cert',
    files.cert,
    '--key',
    files.key,
    '--ca',
    files.ca,
    ...before,
    ...lab.connectTo.flatMap((c) => ['--connect-to', c]),
    '--output',
    '',
    ...extra,
  ];
}
