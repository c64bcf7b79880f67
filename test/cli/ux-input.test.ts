/**
 * Issue 17 input/UX regressions through the built binary: what a user types or hands in that is not what the tool
 * expects gets one true line on stderr and exit 2 (a folder for --site-profile, a JSON file with a syntax error over
 * several lines, a negative --timeout that looks like the -4 flag).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-ux-'));
const endpoint = 'abc123-ats.iot.eu-west-1.amazonaws.com';
// 198.51.100.1 (documentation range) would hang a probe: every refusal here must come before any connection.
const check = ['check', '--endpoint', endpoint, '--resolve', `${endpoint}:*:198.51.100.1`];
mkdirSync(join(work, 'profiles'));
// A syntax error on line 3 of a multi-line document: V8's message quotes the whole input, newlines and all.
const broken = '{\n  "name": "site-a",\n  "routes": { "mqtt-443": pass }\n}\n';
writeFileSync(join(work, 'broken.json'), broken);
writeFileSync(join(work, 'trailing.json'), '{\n  "name": "site-a",\n}\n');
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('one true line, exit 2, before any network step', () => {
  const cases: [string, string[], RegExp][] = [
    [
      '--site-profile <a folder>',
      [...check, '--site-profile', 'profiles'],
      /^iot-doctor: --site-profile profiles is a folder, not a profile: give a \.json file in it or a shipped name \(.*443-only/,
    ],
    [
      '--site-profile with invalid JSON over several lines',
      [...check, '--site-profile', 'broken.json'],
      /^iot-doctor: profile broken\.json is not valid JSON: unexpected token 'p'$/,
    ],
    [
      '--site-profile with a trailing comma',
      [...check, '--site-profile', 'trailing.json'],
      /^iot-doctor: profile trailing\.json is not valid JSON: expected double-quoted property name at line 3, column 1$/,
    ],
    [
      'render of invalid JSON',
      ['render', 'broken.json'],
      /^iot-doctor: .*broken\.json is not valid JSON: unexpected token 'p'$/,
    ],
    [
      '--timeout -4 (a number, not the IPv4 flag)',
      [...check, '--timeout', '-4'],
      /^iot-doctor: --timeout must be a positive number of milliseconds, got -4$/,
    ],
    [
      '--format -4',
      [...check, '--format', '-4'],
      /^iot-doctor: --format needs a value \(the next word, "-4", is a flag\)$/,
    ],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const r = await runCli(args, { cwd: work, timeout: 20_000 });
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr).not.toContain('pass }');
    });
  }
});
