/**
 * Issue 17 regressions through the built binary: every file input refuses what is not a small regular file with one
 * line and exit 2, quickly and without growing memory (a FIFO, /dev/zero, a directory, an oversized file).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'dist/src/bin.js');
const work = mkdtempSync(join(tmpdir(), 'iot-doctor-hostile-'));
const endpoint = 'abc123-ats.iot.eu-west-1.amazonaws.com';

/** Runs the binary under /usr/bin/time to read its peak RSS (KB) from the last stderr line. */
async function run(args: string[], env: Record<string, string> = {}) {
  const started = performance.now();
  const r = await execa('/usr/bin/time', ['-f', 'peak-rss-kb %M', 'node', bin, ...args], {
    reject: false,
    env: { NO_COLOR: '1', ...env },
    cwd: work,
    timeout: 20_000,
  });
  const lines = r.stderr.trim().split('\n');
  const rss = Number(/peak-rss-kb (\d+)/.exec(lines.pop() ?? '')?.[1]);
  const messages = lines.filter((l) => !/^Command exited with/.test(l));
  return { exitCode: r.exitCode, stdout: r.stdout, messages, rssKb: rss, ms: performance.now() - started };
}

beforeAll(() => {
  execFileSync('mkfifo', [join(work, 'fifo')]);
  writeFileSync(join(work, 'big.json'), '');
  truncateSync(join(work, 'big.json'), 200 * 1024 * 1024);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('file inputs that are not small regular files: one line, exit 2, bounded', () => {
  const cases: [string, string[], RegExp][] = [
    ['--cert /dev/zero', ['cert', '--cert', '/dev/zero'], /--cert \(\/dev\/zero\): a character device/],
    ['--cert FIFO', ['cert', '--cert', 'fifo'], /--cert \(fifo\): a named pipe/],
    ['--key FIFO', ['cert', '--key', 'fifo'], /--key \(fifo\): a named pipe/],
    ['--ca FIFO', ['cert', '--ca', 'fifo'], /--ca \(fifo\): a named pipe/],
    ['--cert 200 MB', ['cert', '--cert', 'big.json'], /--cert \(big\.json\): 200 MB, larger than the 4 MB accepted/],
    ['--cert directory', ['cert', '--cert', '.'], /--cert \(\.\): a directory/],
    ['render /dev/zero', ['render', '/dev/zero'], /cannot read the report \(\/dev\/zero\): a character device/],
    ['render FIFO', ['render', 'fifo'], /cannot read the report \(fifo\): a named pipe/],
    ['render 200 MB', ['render', 'big.json'], /\(big\.json\): 200 MB, larger than the 16 MB accepted/],
    [
      '--site-profile /dev/zero',
      ['check', '--endpoint', endpoint, '--site-profile', '/dev/zero'],
      /cannot read profile \(\/dev\/zero\): a character device/,
    ],
    [
      '--from FIFO',
      ['check', '--endpoint', endpoint, '--from', 'fifo'],
      /cannot read the report given with --from \(fifo\): a named pipe/,
    ],
    [
      '--token-signing-key FIFO',
      [
        'check',
        '--endpoint',
        endpoint,
        '--authorizer',
        'a',
        '--token',
        't',
        '--token-key-name',
        'k',
        '--token-signing-key',
        'fifo',
      ],
      /cannot read the token signing key given with --token-signing-key \(fifo\): a named pipe/,
    ],
    [
      '--token-signing-key /dev/zero',
      [
        'check',
        '--endpoint',
        endpoint,
        '--authorizer',
        'a',
        '--token',
        't',
        '--token-key-name',
        'k',
        '--token-signing-key',
        '/dev/zero',
      ],
      /--token-signing-key \(\/dev\/zero\): a character device/,
    ],
    [
      'serve --config FIFO',
      ['serve', '--listen', '127.0.0.1:0', '--config', 'fifo'],
      /cannot read the configuration \(fifo\): a named pipe/,
    ],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const r = await run(args);
      expect(r.exitCode, r.messages.join('\n')).toBe(2);
      expect(r.messages).toHaveLength(1);
      expect(r.messages[0]).toMatch(message);
      expect(r.stdout).toBe('');
      expect(r.ms).toBeLessThan(10_000);
      expect(r.rssKb).toBeLessThan(150 * 1024);
    });
  }
});

describe('flags AWS IoT would refuse: one line naming the limit, exit 2, before any network step', () => {
  const cases: [string, string[], RegExp][] = [
    [
      '--topic of 65,536 characters',
      ['--topic', 'x'.repeat(65_536)],
      /is 65536 bytes of UTF-8; AWS IoT accepts at most 256/,
    ],
    [
      '--password of 65,536 bytes',
      ['--routes', 'mqtt-custom-auth-443', '--password', 'P'.repeat(65_536)],
      /^iot-doctor: --password \(or IOT_DOCTOR_PASSWORD\) is 65536 bytes; an MQTT password is at most 65535/,
    ],
    ['--region xx y', ['--region', 'xx y', '--routes', 'mqtt-wss-443'], /^iot-doctor: --region "xx y" is not an AWS/],
    ['--region xx;rm', ['--region', 'xx;rm'], /^iot-doctor: --region "xx;rm" is not an AWS region name/],
    ['--topic a/#', ['--topic', 'a/#'], /--topic "a\/#" holds a wildcard/],
    ['--topic a/+/b', ['--topic', 'a/+/b'], /holds a wildcard/],
    ['--topic empty', ['--topic='], /--topic "" is empty/],
    ['--keepalive 10', ['--keepalive', '10'], /--keepalive 10 is outside 30-1200 seconds/],
    ['--timeout 1.5', ['--timeout', '1.5'], /below the 1000 ms floor.*give 1500/],
    ['--timeout abc', ['--timeout', 'abc'], /^iot-doctor: --timeout takes a number, got "abc"$/],
    ['--mqtt-version 4', ['--mqtt-version', '4'], /protocol level 4 is MQTT 3\.1\.1: give 3\.1\.1/],
    ['unknown flag', ['--bogus-flag'], /^iot-doctor: Unknown argument: bogus-flag$/],
    [
      '--output names a file',
      ['--output', 'big.json'],
      /cannot write reports into --output big\.json: a file of that name exists/,
    ],
  ];
  for (const [name, extra, message] of cases) {
    it(name, async () => {
      // 198.51.100.1 (documentation range) would hang a probe: the refusal must come before any connection.
      const r = await run(['check', '--endpoint', endpoint, '--resolve', `${endpoint}:*:198.51.100.1`, ...extra]);
      expect(r.exitCode, r.messages.join('\n')).toBe(2);
      expect(r.messages).toHaveLength(1);
      expect(r.messages[0]).toMatch(message);
      expect(r.messages[0]!.length).toBeLessThan(300);
      expect(r.ms).toBeLessThan(10_000);
    });
  }
  it('AWS_REGION that is not a region name: one line naming AWS_REGION, for check and presign', async () => {
    const env = { AWS_REGION: 'xx;rm', AWS_ACCESS_KEY_ID: 'AKIDHOSTILE', AWS_SECRET_ACCESS_KEY: 'hostile' };
    const args = ['--endpoint', endpoint, '--resolve', `${endpoint}:*:198.51.100.1`, '--routes', 'mqtt-wss-443'];
    for (const r of [await run(['check', ...args], env), await run(['presign', '--endpoint', endpoint], env)]) {
      expect(r.exitCode, r.messages.join('\n')).toBe(2);
      expect(r.messages).toHaveLength(1);
      expect(r.messages[0]).toMatch(/^iot-doctor: AWS_REGION "xx;rm" is not an AWS region name/);
      expect(r.stdout).toBe('');
    }
  });

  it('presign --region that is not a region name: one line, exit 2, no URL', async () => {
    const env = { AWS_ACCESS_KEY_ID: 'AKIDHOSTILE', AWS_SECRET_ACCESS_KEY: 'hostile' };
    for (const region of ['xx;rm', 'xx y', 'EU-WEST-1']) {
      const r = await run(['presign', '--endpoint', endpoint, '--region', region], env);
      expect(r.exitCode, `${region}: ${r.messages.join('\n')}`).toBe(2);
      expect(r.messages).toEqual([
        `iot-doctor: --region ${JSON.stringify(region)} is not an AWS region name (lowercase letters, digits and ` +
          'dashes ending in a number, e.g. eu-west-1)',
      ]);
      expect(r.stdout).toBe('');
    }
    const ok = await run(['presign', '--endpoint', endpoint, '--region', 'us-gov-west-1'], env);
    expect(ok.exitCode, ok.messages.join('\n')).toBe(0);
    expect(ok.stdout).toMatch(/X-Amz-Credential=AKIDHOSTILE%2F\d{8}%2Fus-gov-west-1%2Fiotdevicegateway%2Faws4_request/);
  });

  it('credentials half set or in a directory: the message names the missing secret and the directory', async () => {
    const env = {
      HOME: work,
      AWS_ACCESS_KEY_ID: 'AKIDHALFSET',
      AWS_SHARED_CREDENTIALS_FILE: work,
      AWS_CONFIG_FILE: join(work, 'absent'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const r = await run(['presign', '--endpoint', endpoint], env);
    expect(r.exitCode, r.messages.join('\n')).toBe(2);
    expect(r.messages).toHaveLength(1);
    expect(r.messages[0]).toContain('AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not');
    expect(r.messages[0]).toContain(`AWS_SHARED_CREDENTIALS_FILE (${JSON.stringify(work)}) is a directory`);
    expect(r.messages[0]).not.toContain('no AWS_ACCESS_KEY_ID');
  });

  it('--format is read without regard to case or spaces (JSON, " Json" as json)', async () => {
    for (const format of ['JSON', ' Json']) {
      const r = await run(['render', join(root, 'test/fixtures/report-sample.json'), '--format', format]);
      // The sample report holds a failed check: exit 1 is its verdict; a refused format would be exit 2.
      expect(r.exitCode, `${format}: ${r.messages.join('\n')}`).toBe(1);
      expect(r.messages).toEqual([]);
      expect(JSON.parse(r.stdout)).toHaveProperty('schemaVersion');
    }
  });

  it('IOT_DOCTOR_PASSWORD of 65,536 bytes: the same line, never the password', async () => {
    const password = 'Q'.repeat(65_536);
    const args = ['check', '--endpoint', endpoint, '--resolve', `${endpoint}:*:198.51.100.1`];
    const r = await run([...args, '--routes', 'mqtt-custom-auth-443'], { IOT_DOCTOR_PASSWORD: password });
    expect(r.exitCode, r.messages.join('\n')).toBe(2);
    expect(r.messages).toEqual([
      'iot-doctor: --password (or IOT_DOCTOR_PASSWORD) is 65536 bytes; an MQTT password is at most 65535 ' +
        '(MQTT 3.1.1 §3.1.3.5)',
    ]);
    expect(r.stdout).toBe('');
    expect(r.ms).toBeLessThan(10_000);
  });
});
