/**
 * The command-line parser and help printer: options are data (`CommandSpec`), parsed in one pass without a library.
 * yargs did the same job, but loading and configuring it cost more than starting Node itself, on every command and
 * before the first packet of a check (issue 16); this file loads nothing.
 *
 * The rules are yargs' (what the README and users rely on): `--name value`, `--name=value`, `-a value`; `--no-name`
 * for booleans; a scalar given twice keeps the last value; an array option takes every value that follows it up to
 * the next flag and may be repeated (a one-digit alias such as curl's `-4` is a flag, not a value, except as the
 * value a number option needs: `--timeout -4` is -4, for the command to reject); numbers are
 * parsed (a non-number gives NaN, for the command to reject); unknown options and commands are usage errors; `--help`
 * / `-h` and `--version` win over everything else. The parsed arguments carry every option under its kebab-case name
 * and its camelCase name, with the defaults filled in.
 */
import { UsageError } from './errors.js';

/** One option of a command. `name` is kebab-case, without dashes. */
export interface OptionSpec {
  name: string;
  type: 'string' | 'number' | 'boolean';
  describe: string;
  /** One-letter alias (`-e`). */
  alias?: string;
  /** Collects every value (`--routes a b`, `--routes a --routes b`). */
  array?: boolean;
  default?: string | number | boolean;
  choices?: readonly string[];
  /** Accepted but not listed in the help. */
  hidden?: boolean;
  /** The command cannot run without it. */
  required?: boolean;
  /**
   * An explicitly empty value means something (`--output ''`: no report files; `--noproxy ''`) or its command says
   * what is missing (`--routes ''`). Without it an empty
   * (or blank) value of a string option is a usage error naming the option, never a silent fallback to the default.
   */
  emptyOk?: boolean;
}

/** One command: its name, a positional argument if it takes one, and its options. */
export interface CommandSpec {
  name: string;
  describe: string;
  /** `optional`: the command also runs without it (help shows `[name]`). */
  positional?: { name: string; describe: string; optional?: boolean };
  options: readonly OptionSpec[];
}

/** The program: its name, the line under the usage, the commands and the closing line of the help. */
export interface ProgramSpec {
  name: string;
  version: string;
  about: string;
  commands: readonly CommandSpec[];
  epilogue: string;
  /** The message when no command is given. */
  noCommand: string;
}

/** What the command line asks for: help or version text to print, or a command with its parsed arguments. */
export type ParsedCommandLine =
  { kind: 'print'; text: string } | { kind: 'run'; command: string; args: Record<string, unknown> };

/** `connect-to` → `connectTo`. */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function findOption(spec: CommandSpec, name: string): OptionSpec | undefined {
  return spec.options.find((o) => o.name === name || o.alias === name || camelCase(o.name) === name);
}

/** A user's value for a message: at most 60 characters. */
function shortText(raw: string): string {
  return raw.length <= 60 ? raw : `${raw.slice(0, 29)}…${raw.slice(-29)} (${raw.length} characters)`;
}

function convert(option: OptionSpec, raw: string): string | number {
  if (option.type === 'string' && !option.emptyOk && raw.trim() === '')
    throw new UsageError(`--${option.name} needs a non-empty value (got "${raw}")`);
  if (option.type === 'number') {
    // Decimal only, as curl and mosquitto read their numbers: JavaScript's Number() would also take 0x1000 or 1e3.
    const n = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isFinite(n)) throw new UsageError(`--${option.name} takes a number, got "${shortText(raw)}"`);
    return n;
  }
  if (option.choices && !option.choices.includes(raw)) {
    const level4 = option.name === 'mqtt-version' && raw === '4' ? ' (protocol level 4 is MQTT 3.1.1: give 3.1.1)' : '';
    throw new UsageError(`--${option.name}: "${shortText(raw)}" is not one of ${option.choices.join(', ')}${level4}`);
  }
  return raw;
}

function parseBoolean(option: OptionSpec, inline: string | undefined): boolean {
  if (inline === undefined || inline === 'true') return true;
  if (inline === 'false') return false;
  throw new UsageError(`--${option.name} takes no value (got "${inline}")`);
}

/**
 * `-4` / `-6` when the command has an option with that digit as its alias (curl's family flags): a flag wherever it
 * stands, never a negative number nor a value of the option before it (`--format json -4`).
 */
function isDigitFlag(spec: CommandSpec, token: string): boolean {
  return /^-\d$/.test(token) && spec.options.some((o) => o.alias === token.slice(1));
}

/** The one line for an option given without its value, naming the flag that stood where the value should be. */
function missingValue(option: OptionSpec, next: string | undefined): string {
  const after = next === undefined ? '' : ` (the next word, "${shortText(next)}", is a flag)`;
  return `--${option.name} needs a value${after}`;
}

/** Everything after the command name: options into `values`, the rest into `positionals`. */
function parseTokens(
  spec: CommandSpec,
  tokens: readonly string[],
): { values: Map<string, unknown>; positionals: string[] } {
  const values = new Map<string, unknown>();
  const positionals: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === '--') {
      positionals.push(...tokens.slice(i + 1));
      break;
    }
    if (!token.startsWith('-') || token === '-' || (/^-\d/.test(token) && !isDigitFlag(spec, token))) {
      positionals.push(token);
      continue;
    }
    const eq = token.indexOf('=');
    const flag = token.replace(/^--?/, '').slice(0, eq < 0 ? undefined : eq - (token.startsWith('--') ? 2 : 1));
    const inline = eq < 0 ? undefined : token.slice(eq + 1);
    const negated = flag.startsWith('no-') ? findOption(spec, flag.slice(3)) : undefined;
    if (negated?.type === 'boolean' && inline === undefined) {
      values.set(negated.name, false);
      continue;
    }
    const option = findOption(spec, flag);
    if (!option) throw new UsageError(`Unknown argument: ${flag}`);
    if (option.type === 'boolean') {
      values.set(option.name, parseBoolean(option, inline));
      continue;
    }
    const taken: string[] = inline === undefined ? [] : [inline];
    // A value may start with a dash when it is a number (--timeout -1): the command then says what is wrong with it.
    const isValue = (t: string | undefined): t is string =>
      t !== undefined && t !== '--' && (!t.startsWith('-') || (/^-\d/.test(t) && !isDigitFlag(spec, t)));
    // The first value of a number option is a number even when it reads like a digit flag (`--timeout -4`): the
    // option needs a value there, so the user meant the number, and the command says what is wrong with it.
    const isFirstValue = (t: string | undefined): t is string =>
      isValue(t) || (option.type === 'number' && t !== undefined && /^-\d+(\.\d+)?$/.test(t));
    if (inline === undefined && isFirstValue(tokens[i + 1])) taken.push(tokens[++i]!);
    if (option.array && inline === undefined) while (isValue(tokens[i + 1])) taken.push(tokens[++i]!);
    if (!taken.length) throw new UsageError(missingValue(option, tokens[i + 1]));
    const converted = taken.map((t) => convert(option, t));
    if (option.array)
      values.set(option.name, [...((values.get(option.name) as unknown[] | undefined) ?? []), ...converted]);
    else values.set(option.name, converted.at(-1));
  }
  return { values, positionals };
}

/** The arguments object a command receives: every option under both names, defaults filled in, `_` the command. */
function argumentsFor(spec: CommandSpec, tokens: readonly string[]): Record<string, unknown> {
  const { values, positionals } = parseTokens(spec, tokens);
  const args: Record<string, unknown> = { _: [spec.name] };
  if (spec.positional) {
    const [value, ...extra] = positionals;
    if (value === undefined && !spec.positional.optional)
      throw new UsageError(`Not enough non-option arguments: ${spec.name} needs <${spec.positional.name}>`);
    if (extra.length) throw new UsageError(`Unknown argument: ${extra[0]}`);
    if (value !== undefined) args[spec.positional.name] = value;
  } else if (positionals.length) {
    throw new UsageError(`Unknown argument: ${positionals[0]}`);
  }
  const missing = spec.options.filter((o) => o.required && !values.has(o.name)).map((o) => o.name);
  if (missing.length)
    throw new UsageError(`Missing required argument${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
  for (const option of spec.options) {
    const value = values.has(option.name) ? values.get(option.name) : option.default;
    if (value === undefined) continue;
    args[option.name] = value;
    args[camelCase(option.name)] = value;
    if (option.alias) args[option.alias] = value;
  }
  return args;
}

function wrapText(text: string, width: number, indent: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width - indent) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** Two columns: the left one padded, the right one wrapped to the terminal width (at most 110 columns). */
function columns(rows: [string, string][], width: number): string[] {
  const left = Math.min(32, Math.max(...rows.map(([l]) => l.length)) + 2);
  return rows.flatMap(([l, r]) => {
    const wrapped = wrapText(r, width, left + 2);
    const first = `  ${l.padEnd(left)}${wrapped[0] ?? ''}`;
    if (l.length >= left) return [`  ${l}`, ...wrapped.map((w) => `  ${' '.repeat(left)}${w}`)];
    return [first, ...wrapped.slice(1).map((w) => `  ${' '.repeat(left)}${w}`)];
  });
}

function optionRow(o: OptionSpec): [string, string] {
  const flag = `${o.alias ? `-${o.alias}, ` : ''}--${o.name}${o.type === 'boolean' ? '' : ` <${o.type === 'number' ? 'n' : 'value'}>`}`;
  const notes = [
    o.required ? '[required]' : '',
    o.array ? '[several]' : '',
    o.choices ? `[${o.choices.join(' | ')}]` : '',
    o.default !== undefined && o.default !== '' ? `[default: ${String(o.default)}]` : '',
  ].filter(Boolean);
  return [flag, [o.describe, ...notes].join(' ')];
}

/** The help of the program (no command) or of one command, wrapped to `width` columns. */
export function helpText(program: ProgramSpec, command: CommandSpec | undefined, width: number): string {
  const common: [string, string][] = [
    ['-h, --help', 'show this help'],
    ['--version', 'show the version number'],
  ];
  if (!command) {
    return [
      `${program.name} <command> [options]`,
      '',
      program.about,
      '',
      'Commands:',
      ...columns(
        program.commands.map((c) => [`${c.name}${c.positional ? ` <${c.positional.name}>` : ''}`, c.describe]),
        width,
      ),
      '',
      'Options:',
      ...columns(common, width),
      '',
      `${program.name} <command> --help lists the options of a command.`,
      program.epilogue,
    ].join('\n');
  }
  const usage = `${program.name} ${command.name}${command.positional ? ` <${command.positional.name}>` : ''} [options]`;
  const positional: [string, string][] = command.positional
    ? [[`<${command.positional.name}>`, command.positional.describe]]
    : [];
  return [
    usage,
    '',
    command.describe,
    '',
    ...(positional.length ? ['Arguments:', ...columns(positional, width), ''] : []),
    'Options:',
    ...columns([...command.options.filter((o) => !o.hidden).map(optionRow), ...common], width),
    '',
    program.epilogue,
  ].join('\n');
}

/**
 * Parse `argv` (without `node` and the script) against the program. Returns the text to print for `--help` and
 * `--version`, or the command to run with its arguments. Throws `UsageError` (one line) for an unknown command or
 * option, a missing value, a value outside an option's choices, or a missing positional argument.
 */
export function parseCommandLine(program: ProgramSpec, argv: readonly string[], width = 100): ParsedCommandLine {
  const wantsHelp = argv.some((a) => a === '--help' || a === '-h');
  const commandName = argv.find((a) => !a.startsWith('-'));
  const command = program.commands.find((c) => c.name === commandName);
  if (wantsHelp && (command || !commandName)) return { kind: 'print', text: helpText(program, command, width) };
  if (argv.includes('--version')) return { kind: 'print', text: program.version };
  if (!commandName) throw new UsageError(program.noCommand);
  if (!command) throw new UsageError(`Unknown argument: ${commandName}`);
  const at = argv.indexOf(commandName);
  const unknownBefore = argv.slice(0, at)[0];
  if (unknownBefore !== undefined) throw new UsageError(`Unknown argument: ${unknownBefore.replace(/^--?/, '')}`);
  return { kind: 'run', command: command.name, args: argumentsFor(command, argv.slice(at + 1)) };
}
