/**
 * The command-line parser: the rules users rely on (yargs' rules), checked on a small program spec.
 */
import { describe, expect, it } from 'vitest';
import { camelCase, helpText, parseCommandLine, type ProgramSpec } from '../../src/cli-args.js';
import { UsageError } from '../../src/errors.js';

const program: ProgramSpec = {
  name: 'tool',
  version: '1.2.3',
  about: 'Does things.',
  epilogue: 'Exit codes: 0 fine.',
  noCommand: 'name a command: run or show',
  commands: [
    {
      name: 'run',
      describe: 'run it',
      options: [
        { name: 'endpoint', alias: 'e', type: 'string', describe: 'host name' },
        { name: 'routes', type: 'string', array: true, describe: 'routes' },
        { name: 'timeout', type: 'number', default: 5000, describe: 'deadline, ms' },
        { name: 'cloud', type: 'boolean', default: true, describe: 'cloud checks' },
        { name: 'strict', type: 'boolean', default: false, describe: 'warnings fail' },
        { name: 'mqtt-version', type: 'string', choices: ['3.1.1', '5'], default: '3.1.1', describe: 'version' },
        { name: 'output', alias: 'o', type: 'string', default: 'reports', emptyOk: true, describe: 'folder' },
        { name: 'secret', type: 'boolean', hidden: true, describe: 'not listed' },
        { name: 'ipv4', alias: '4', type: 'boolean', describe: 'IPv4 only' },
      ],
    },
    { name: 'show', describe: 'show a report', positional: { name: 'report', describe: 'report.json' }, options: [] },
  ],
};

function run(argv: string[]): Record<string, unknown> {
  const parsed = parseCommandLine(program, argv);
  if (parsed.kind !== 'run') throw new Error(`expected a command, got ${parsed.kind}`);
  return parsed.args;
}

function usageError(argv: string[]): string {
  try {
    parseCommandLine(program, argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

describe('command-line parser', () => {
  it('fills defaults and gives every option under its kebab-case and camelCase names', () => {
    const args = run(['run', '--endpoint', 'a.example']);
    expect(args).toMatchObject({ endpoint: 'a.example', e: 'a.example', timeout: 5000, cloud: true, strict: false });
    expect(args['mqtt-version']).toBe('3.1.1');
    expect(args['mqttVersion']).toBe('3.1.1');
    expect(args['routes']).toBeUndefined();
    expect(camelCase('connect-to')).toBe('connectTo');
  });

  it('takes --name value, --name=value and -a value; the last scalar wins', () => {
    expect(run(['run', '--endpoint=x.example'])['endpoint']).toBe('x.example');
    expect(run(['run', '-e', 'y.example'])['endpoint']).toBe('y.example');
    expect(run(['run', '-e', 'y.example', '--endpoint', 'z.example'])['endpoint']).toBe('z.example');
    expect(run(['run', '--output', ''])['output']).toBe('');
    expect(run(['run', '-o', 'dir'])['output']).toBe('dir');
  });

  it('refuses an explicitly empty value of a string option unless the option says empty means something', () => {
    expect(() => run(['run', '--endpoint', ''])).toThrow(/^--endpoint needs a non-empty value \(got ""\)$/);
    expect(() => run(['run', '--endpoint= '])).toThrow(/^--endpoint needs a non-empty value \(got " "\)$/);
    expect(() => run(['run', '--routes', 'a', '--routes', ''])).toThrow(/^--routes needs a non-empty value/);
    expect(() => run(['run', '--mqtt-version', ''])).toThrow(/^--mqtt-version needs a non-empty value/);
    expect(run(['run', '-o', ''])['output']).toBe('');
  });

  it('collects array values that follow the flag and repeated flags', () => {
    expect(run(['run', '--routes', 'a', 'b', '--strict', '--routes', 'c'])['routes']).toEqual(['a', 'b', 'c']);
    expect(run(['run', '--routes=a,b'])['routes']).toEqual(['a,b']);
  });

  it('parses numbers, keeps a negative number as a value and refuses a non-number by name (not "NaN")', () => {
    expect(run(['run', '--timeout', '250'])['timeout']).toBe(250);
    expect(run(['run', '--timeout', '-1'])['timeout']).toBe(-1);
    expect(usageError(['run', '--timeout', 'soon'])).toBe('--timeout takes a number, got "soon"');
    expect(usageError(['run', '--timeout='])).toBe('--timeout takes a number, got ""');
    // Decimal only: JavaScript would read these as 4096, 1000 and 8.
    for (const odd of ['0x1000', '1e3', '0b1000', 'Infinity'])
      expect(usageError(['run', '--timeout', odd])).toBe(`--timeout takes a number, got "${odd}"`);
  });

  it('booleans: --flag, --no-flag, --flag=false', () => {
    expect(run(['run', '--no-cloud'])['cloud']).toBe(false);
    expect(run(['run', '--strict'])['strict']).toBe(true);
    expect(run(['run', '--strict=false'])['strict']).toBe(false);
    expect(usageError(['run', '--strict=maybe'])).toMatch(/--strict takes no value/);
  });

  it('a positional argument, and usage errors as one line each', () => {
    const parsed = parseCommandLine(program, ['show', 'r.json']);
    expect(parsed).toEqual({ kind: 'run', command: 'show', args: { _: ['show'], report: 'r.json' } });
    expect(usageError([])).toBe('name a command: run or show');
    expect(usageError(['frobnicate'])).toBe('Unknown argument: frobnicate');
    expect(usageError(['run', '--nope'])).toBe('Unknown argument: nope');
    expect(usageError(['run', 'extra'])).toBe('Unknown argument: extra');
    expect(usageError(['run', '--endpoint'])).toBe('--endpoint needs a value');
    expect(usageError(['run', '--mqtt-version', '4'])).toBe(
      '--mqtt-version: "4" is not one of 3.1.1, 5 (protocol level 4 is MQTT 3.1.1: give 3.1.1)',
    );
    expect(usageError(['show'])).toMatch(/show needs <report>/);
    expect(usageError(['show', 'a', 'b'])).toBe('Unknown argument: b');
  });

  it('--help and --version print instead of running, whatever else is on the line', () => {
    const top = parseCommandLine(program, ['--help']);
    expect(top.kind).toBe('print');
    const text = (top as { text: string }).text;
    expect(text).toContain('tool <command> [options]');
    expect(text).toMatch(/^ {2}run\s+run it$/m);
    expect(text).toMatch(/^ {2}show <report>\s+show a report$/m);
    const sub = parseCommandLine(program, ['run', '--endpoint', 'x', '-h']) as { kind: string; text: string };
    expect(sub.kind).toBe('print');
    expect(sub.text).toMatch(/^ {2}--timeout <n>\s+deadline, ms \[default: 5000\]$/m);
    expect(sub.text).toMatch(/--mqtt-version <value>\s+version \[3\.1\.1 \| 5\] \[default: 3\.1\.1\]/);
    expect(sub.text).toContain('-e, --endpoint <value>');
    expect(sub.text).not.toContain('--secret');
    expect(parseCommandLine(program, ['--version'])).toEqual({ kind: 'print', text: '1.2.3' });
    expect(parseCommandLine(program, ['run', '--version'])).toEqual({ kind: 'print', text: '1.2.3' });
  });

  it('a number option takes a negative number as its value even when it reads like a digit flag (-4)', () => {
    expect(run(['run', '--timeout', '-4'])['timeout']).toBe(-4);
    expect(run(['run', '--timeout', '-4'])['ipv4']).toBeUndefined();
    expect(run(['run', '--timeout', '-4.5', '-4'])).toMatchObject({ timeout: -4.5, ipv4: true });
    // Elsewhere -4 stays the flag: after a value, and where a string is wanted (one line naming it).
    expect(run(['run', '--timeout', '7', '-4'])).toMatchObject({ timeout: 7, ipv4: true });
    expect(run(['run', '--routes', 'a', '-4'])).toMatchObject({ routes: ['a'], ipv4: true });
    expect(usageError(['run', '--endpoint', '-4'])).toBe('--endpoint needs a value (the next word, "-4", is a flag)');
    expect(usageError(['run', '--timeout', '--strict'])).toBe(
      '--timeout needs a value (the next word, "--strict", is a flag)',
    );
  });

  it('wraps long descriptions to the width', () => {
    const long = 'word '.repeat(40).trim();
    const text = helpText(
      program,
      { name: 'x', describe: 'x', options: [{ name: 'a', type: 'string', describe: long }] },
      60,
    );
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(60);
  });
});

describe('required options', () => {
  const withRequired: ProgramSpec = {
    ...program,
    commands: [
      {
        name: 'serve',
        describe: 'serve',
        options: [
          { name: 'listen', type: 'string', required: true, describe: 'HOST:PORT' },
          { name: 'config', type: 'string', required: true, describe: 'file' },
        ],
      },
    ],
  };

  it('names every missing required option in one line, and lists them as required in the help', () => {
    expect(() => parseCommandLine(withRequired, ['serve'])).toThrow('Missing required arguments: listen, config');
    expect(() => parseCommandLine(withRequired, ['serve', '--listen', 'a:1'])).toThrow(
      'Missing required argument: config',
    );
    const ok = parseCommandLine(withRequired, ['serve', '--listen', 'a:1', '--config', 'c.yml']);
    expect(ok).toMatchObject({ kind: 'run', args: { listen: 'a:1', config: 'c.yml' } });
    const help = parseCommandLine(withRequired, ['serve', '--help']) as { text: string };
    expect(help.text).toMatch(/--listen <value>\s+HOST:PORT \[required\]/);
  });
});

describe("iot-doctor's own help", () => {
  it('names the environment variable of every secret flag (a command line is visible in ps)', async () => {
    const { PROGRAM } = await import('../../src/cli.js');
    const help = parseCommandLine(PROGRAM, ['check', '--help']) as { kind: string; text: string };
    expect(help.kind).toBe('print');
    expect(help.text).toMatch(/--token <value> [^\n]*(\n {20,})?[^\n]*\(or env\s+IOT_DOCTOR_TOKEN\)/);
    expect(help.text).toMatch(
      /--token-signature <value> [^\n]*(\n {20,})?[^\n]*\(or env\s+IOT_DOCTOR_TOKEN_SIGNATURE\)/,
    );
    expect(help.text).toMatch(/--password <value> [^\n]*(\n {20,})?[^\n]*\(or env\s+IOT_DOCTOR_PASSWORD\)/);
    expect(help.text).toMatch(/--key-passphrase <value> [^\n]*(\n {20,})?[^\n]*\(or env\s+IOT_DOCTOR_KEY_PASSPHRASE\)/);
  });
});
