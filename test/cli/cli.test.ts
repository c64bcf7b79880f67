/**
 * The built binary, as a user runs it: exit codes, one-line usage errors without stack traces, the JSON report
 * against its published schema, colour rules, the lab command's life cycle. `npm test` rebuilds dist/ first.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import { BIN as bin, PLAIN_ENV, ROOT as root, labCheckArgs, reportValidator, runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-cli-'));

function run(args: string[], extraEnv: Record<string, string | undefined> = {}) {
  return runCli(args, { cwd: work, env: extraEnv });
}

const validate = reportValidator();

let lab: Lab;
let files: { ca: string; cert: string; key: string };
beforeAll(async () => {
  lab = await startLab({ pki: createLabPki('ec') });
  files = await lab.writeFiles(join(work, 'lab-files'));
});
afterAll(async () => {
  await lab.close();
  rmSync(work, { recursive: true, force: true });
});

function checkArgs(extra: string[] = []): string[] {
  return labCheckArgs(lab, files, extra);
}

describe('usage errors: one line on stderr, exit 2, no stack trace', () => {
  const cases: [string, string[], RegExp][] = [
    ['no command', [], /name a command/],
    ['unknown command', ['frobnicate'], /Unknown argument: frobnicate/],
    ['IP address as endpoint', ['check', '--endpoint', '203.0.113.10'], /must be a host name .*not an IP address/],
    ['URL as endpoint', ['check', '--endpoint', 'https://abc-ats.iot.eu-west-1.amazonaws.com/'], /not a URL/],
    [
      'missing certificate file',
      ['check', '--endpoint', 'abc-ats.iot.eu-west-1.amazonaws.com', '--cert', 'nope.pem'],
      /cannot read the certificate file .*nope\.pem/,
    ],
    [
      'unknown route',
      ['check', '--endpoint', 'abc-ats.iot.eu-west-1.amazonaws.com', '--routes', 'mqtt-1883'],
      /unknown route "mqtt-1883"/,
    ],
    [
      'negative timeout',
      ['check', '--endpoint', 'abc-ats.iot.eu-west-1.amazonaws.com', '--timeout', '-1'],
      /--timeout must be a positive number/,
    ],
    [
      'bad --connect-to',
      ['check', '--endpoint', 'abc-ats.iot.eu-west-1.amazonaws.com', '--connect-to', 'nonsense'],
      /--connect-to "nonsense" must look like/,
    ],
    ['unknown scenario', ['demo', '--scenario', 'volcano'], /unknown scenario "volcano"/],
    ['non-loopback lab bind', ['lab', '--bind', '198.51.100.7', '--dir', 'x'], /lab could not start: .*loopback/],
    ['cert with nothing to check', ['cert'], /give at least one of --cert, --key, --ca/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const r = await run(args);
      expect(r.exitCode).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines.at(-1)).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stdout).toBe('');
    });
  }
});

describe('check against the lab through the binary', () => {
  it('healthy: exit 0, JSON valid against the published schema, no key material, report file written', async () => {
    const out = join(work, 'reports-a');
    const r = await run([...checkArgs(['--format', 'json']), '--output', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      results: { status: string }[];
      exitCode: number;
      target: { certificateId: string };
    };
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.exitCode).toBe(0);
    expect(report.target.certificateId).toBe(lab.device.certificateId);
    expect(report.results.filter((x) => x.status === 'fail')).toEqual([]);
    expect(r.stdout).not.toMatch(/PRIVATE KEY|BEGIN EC|BEGIN RSA/);
    const written = readdirSync(out);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^iot-doctor-\d{8}T\d{6}Z-\d+\.json$/);
    expect(JSON.parse(readFileSync(join(out, written[0]!), 'utf8'))).toEqual(report);
    expect(r.stderr).toContain(`report written to ${join(out, written[0]!)}`);
  });

  it('table without colour when NO_COLOR is set, with colour when forced; status words either way', async () => {
    const plain = await run(checkArgs(['--routes', 'mqtt-8883']));
    expect(plain.exitCode).toBe(0);
    expect(plain.stdout).not.toContain('\u001b[');
    expect(plain.stdout).toMatch(/│ tls\s+│ ✔ pass \d+ ms/);
    const colored = await run(checkArgs(['--routes', 'mqtt-8883']), { NO_COLOR: undefined, FORCE_COLOR: '1' });
    expect(colored.stdout).toContain('\u001b[32m✔ pass');
  });

  it('a failing route: exit 1, the failing cell named with its reproduce command', async () => {
    // The healthy run gets the default deadline: --timeout bounds the whole run, and a loaded machine needs more than
    // 1 s for a full round trip. Port 1 refuses at once either way.
    const r = await run(checkArgs(['--routes', 'mqtt-8883', '--connect-to', `${lab.endpoint}:8883:127.0.0.1:1`]));
    // The first matching --connect-to wins, as in curl: put the broken one first.
    const broken = ['--connect-to', `${lab.endpoint}:8883:127.0.0.1:1`];
    const r2 = await run(labCheckArgs(lab, files, ['--routes', 'mqtt-8883', '--timeout', '1000'], broken));
    expect(r.exitCode).toBe(0);
    expect(r2.exitCode).toBe(1);
    expect(r2.stdout).toContain('mqtt-8883 / tcp  TCP_REFUSED');
    expect(r2.stdout).toContain('by hand: nc -vz -w 1 127.0.0.1 1');
  });

  it('encrypted key, no passphrase: a failing check (exit 1); opened with IOT_DOCTOR_KEY_PASSPHRASE', async () => {
    const enc = join(work, 'enc.key');
    await execa('openssl', ['pkey', '-in', files.key, '-out', enc, '-aes256', '-passout', 'pass:s3cret']);
    const without = await run(checkArgs(['--key', enc, '--routes', 'mqtt-8883', '--format', 'json']));
    expect(without.exitCode).toBe(1);
    const codes = (JSON.parse(without.stdout) as { results: { code: string }[] }).results.map((x) => x.code);
    expect(codes).toContain('KEY_ENCRYPTED_NO_PASSPHRASE');
    const withPass = await run(checkArgs(['--key', enc, '--routes', 'mqtt-8883']), {
      IOT_DOCTOR_KEY_PASSPHRASE: 's3cret',
    });
    expect(withPass.exitCode, withPass.stdout).toBe(0);
    expect(withPass.stdout + withPass.stderr).not.toContain('s3cret');
  });
});

describe('demo and lab commands', () => {
  it('demo: healthy exits 0; a faulty scenario exits 1', async () => {
    const ok = await run(['demo', '--output', '']);
    expect(ok.exitCode, ok.stdout).toBe(0);
    expect(ok.stdout).toContain('round-trip');
    const bad = await run(['demo', '--scenario', 'port-8883-refused', '--output', '', '--format', 'json']);
    expect(bad.exitCode).toBe(1);
    const report = JSON.parse(bad.stdout) as { results: { id: string; code: string }[] };
    expect(report.results.find((x) => x.id === 'route.mqtt-8883.tcp')!.code).toBe('TCP_REFUSED');
  });

  it('demo --list names every scenario with one line each', async () => {
    const r = await run(['demo', '--list']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^healthy\s+\S/m);
    expect(r.stdout).toMatch(/^tls-intercepted\s+\S/m);
  });

  it('lab: writes its files and a working check command, and stops cleanly on SIGTERM', async () => {
    const dir = join(work, 'lab-dir');
    let printed = '';
    const child = execa('node', [bin, 'lab', '--dir', dir, '--scenario', 'healthy'], {
      reject: false,
      env: PLAIN_ENV,
      cwd: work,
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('lab did not start')), 20_000);
      child.stdout!.on('data', (d: Buffer) => {
        printed += d.toString();
        if (printed.includes('lab ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const info = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as {
      endpoint: string;
      connectTo: string[];
      files: { ca: string; cert: string; key: string };
    };
    expect(readdirSync(dir).sort()).toEqual(expect.arrayContaining(['lab.json']));
    // The printed command line works as printed, from this folder (no iot-doctor on the PATH of a clone).
    const line = /Check it with:\n {2}(.+)\n/.exec(printed)?.[1] ?? '';
    expect(line).toMatch(/ node \S*dist\/src\/bin\.js check /);
    expect(line).toContain(`--endpoint ${info.endpoint}`);
    const r = await execa('sh', ['-c', `${line} --output ''`], { reject: false, env: PLAIN_ENV, cwd: work });
    expect(r.exitCode, r.stdout).toBe(0);
    // No warning either: the printed line carries no --connect-to that the run would not use.
    expect(r.stderr).toBe('');
    child.kill('SIGTERM');
    const done = await child;
    expect(done.exitCode).toBe(0);
    expect(done.stdout).toContain('lab stopped');
  });
});

describe('cert command', () => {
  it('exit 0 for a good pair, 1 for a mismatched key, and the JSON holds no key material', async () => {
    const good = await run(['cert', '--cert', files.cert, '--key', files.key, '--ca', files.ca]);
    expect(good.exitCode, good.stdout).toBe(0);
    const other = join(work, 'other.key');
    await execa('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', other]);
    const bad = await run(['cert', '--cert', files.cert, '--key', other, '--format', 'json']);
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toContain('KEY_CERT_MISMATCH');
    expect(bad.stdout).not.toMatch(/PRIVATE KEY/);
    // Swapped files, a key in the CA bundle, an encrypted key without its passphrase: every message names the key,
    // but no output carries the upper-case label that secret scanners flag (nor, of course, any key material).
    const encrypted = join(work, 'encrypted.key');
    await execa('openssl', ['pkcs8', '-topk8', '-in', other, '-out', encrypted, '-passout', 'pass:secret-pass']);
    // One run per case writes the five formats: JSON on stdout, every one into --output (the renderer each
    // `--format X` prints with); the other four are read from their files.
    const formats = ['json', 'table', 'list', 'markdown', 'html'];
    const outputs = async (name: string, args: string[]) => {
      const dir = join(work, name);
      const r = await run(['cert', ...args, '--format', formats.join(','), '--output', dir]);
      const written = readdirSync(dir);
      expect(written.length, `${name}: ${written.join(' ')}`).toBe(formats.length);
      return { r, texts: [r.stdout, ...written.map((f) => readFileSync(join(dir, f), 'utf8'))] };
    };
    const [swapped, locked] = await Promise.all([
      outputs('swapped', ['--cert', files.key, '--key', files.cert, '--ca', other]),
      outputs('locked', ['--cert', files.cert, '--key', encrypted]),
    ]);
    expect(swapped.r.exitCode, swapped.r.stdout).toBe(1);
    for (const text of swapped.texts) {
      expect(text).toMatch(/private key/);
      expect(text).not.toMatch(/PRIVATE KEY/);
    }
    for (const text of locked.texts) {
      expect(text).toMatch(/encrypted/);
      expect(text).not.toMatch(/PRIVATE KEY|secret-pass/);
    }
    expect(`${swapped.r.stderr}${locked.r.stderr}`).not.toMatch(/PRIVATE KEY|secret-pass/);
    writeFileSync(join(work, 'junk.pem'), 'not a certificate at all\n');
    const junk = await run(['cert', '--cert', join(work, 'junk.pem')]);
    expect(junk.exitCode).toBe(1);
    expect(junk.stderr).toBe('');
  });
});

describe('start-up cost', () => {
  it('loading the CLI does not load the MQTT client, node-forge or the lab', async () => {
    const script = `
      import { createRequire } from 'node:module';
      await import(${JSON.stringify(join(root, 'dist/src/cli.js'))});
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(loaded.filter((p) => /node_modules\\/(mqtt|node-forge|aedes)\\//.test(p))));`;
    const r = await execa('node', ['--input-type=module', '-e', script], { cwd: root });
    expect(JSON.parse(r.stdout)).toEqual([]);
  });
});
