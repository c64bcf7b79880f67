/**
 * No output of the CLI shows the secrets of the other ways in (issue 13): the temporary credentials the credential
 * provider returns (access key id, secret access key, session token: exactly the values the lab handed out in these
 * runs, and their shapes) and the custom-authentication token, its signature (base64 and URL-encoded) and the MQTT
 * password. Real `check` runs against lab scenarios writing every format (`--output` files, the first on stdout),
 * `render` of the saved report to every format (stdout and files), and `--repeat` (JSON on stdout, table file);
 * stderr everywhere. (`serve` modules cannot select these routes: they take no `--role-alias` or `--authorizer`.)
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleAliasesOf } from '../../src/lab/credential-provider.js';
import { createLabPki, startLab, type Lab } from '../../src/lab/index.js';
import { FORMATS } from '../../src/report/formats.js';
import { PLAIN_ENV, labCheckArgs, runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'iot-doctor-auth-secrets-'));
const PASSWORD = 'pw-Auth13-Secret-9931';
const EMPTY = join(work, 'empty');

let creds: Lab;
let custom: Lab;
const files: Record<string, { ca: string; cert: string; key: string }> = {};

function env(lab: Lab): Record<string, string | undefined> {
  return {
    ...PLAIN_ENV,
    AWS_ACCESS_KEY_ID: 'AKIDAUTHSECRETS',
    AWS_SECRET_ACCESS_KEY: 'lab',
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_CONFIG_FILE: EMPTY,
    AWS_SHARED_CREDENTIALS_FILE: EMPTY,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: undefined,
    AWS_ENDPOINT_URL_IOT: lab.apiEndpoint,
    AWS_ENDPOINT_URL_IAM: lab.apiEndpoint,
    AWS_ENDPOINT_URL_STS: lab.apiEndpoint,
    HTTPS_PROXY: undefined,
    https_proxy: undefined,
    ALL_PROXY: undefined,
    all_proxy: undefined,
    IOT_DOCTOR_TOKEN: undefined,
    IOT_DOCTOR_TOKEN_SIGNATURE: undefined,
    IOT_DOCTOR_PASSWORD: undefined,
  };
}

function flags(lab: Lab): string[] {
  return Object.entries(lab.scenario.checkFlags ?? {}).flatMap(([k, v]) => [`--${k}`, v]);
}

/** `check` against `lab` with its scenario's flags (and, for custom auth, a username and password). */
function check(lab: Lab, extra: string[]) {
  const own =
    lab === creds
      ? ['--routes', 'credentials-443']
      : ['--routes', 'mqtt-custom-auth-443', '--username', 'device-user', '--password', PASSWORD];
  return runCli(
    labCheckArgs(lab, files[lab.scenario.name]!, [
      ...flags(lab),
      ...own,
      '--region',
      lab.region,
      '--timeout',
      '20000',
      ...extra,
    ]),
    {
      cwd: work,
      env: env(lab),
    },
  );
}

/** `run` over `items`, at most 3 at a time: a loaded 2-core machine must not starve the runs into timeouts. */
async function batched<T, R>(items: readonly T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += 3) out.push(...(await Promise.all(items.slice(i, i + 3).map(run))));
  return out;
}

/** The secrets a run against `lab` may have seen: handed out by the lab, or given to the probe. */
function secrets(lab: Lab): string[] {
  if (lab === creds) return roleAliasesOf(lab.registry).issued.flat();
  const d = lab.customAuth!;
  return [d.token, d.signature, encodeURIComponent(d.signature), PASSWORD, Buffer.from(PASSWORD).toString('base64')];
}

/** Shapes of the lab's temporary credentials, for anything handed out that the list could miss. */
const SHAPES = [/ASIA[0-9A-F]{16}/, /IQoJb3JpZ2luX2VjE/, /"?(secretAccessKey|sessionToken)"?\s*[:=]/];

function expectClean(lab: Lab, text: string, where: string): void {
  for (const s of secrets(lab)) expect(text.includes(s), `${where} shows a secret (${s.slice(0, 6)}…)`).toBe(false);
  for (const re of SHAPES) expect(text, `${where} matches ${re}`).not.toMatch(re);
}

beforeAll(async () => {
  writeFileSync(EMPTY, '');
  const pki = createLabPki('ec');
  creds = await startLab({ pki, scenario: 'credentials-ok', mqtt5: 'off' });
  custom = await startLab({ pki, scenario: 'custom-auth-denied', mqtt5: 'off' });
  for (const lab of [creds, custom]) files[lab.scenario.name] = await lab.writeFiles(join(work, lab.scenario.name));
}, 90_000);

afterAll(async () => {
  await creds?.close();
  await custom?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('returned temporary credentials, token, signature and password never appear in an output', () => {
  for (const which of ['credentials-ok', 'custom-auth-denied'] as const) {
    it(`${which}: every format of a live run (stdout, --output files), render of the saved report, --repeat`, async () => {
      const lab = which === 'credentials-ok' ? creds : custom;
      const issuedBefore = lab === creds ? roleAliasesOf(lab.registry).issued.length : 0;
      // One live run writes every format: its stdout is the first one, its --output files all of them, each from
      // the renderer `check --format X` prints with (src/commands.ts printReport), colour off as here. The render of
      // its saved report below puts every format on stdout; a live run per format would only repeat the probing.
      const all = join(work, `${which}-all`);
      const repeatDir = join(work, `${which}-repeat`);
      const [several, repeat] = await Promise.all([
        check(lab, ['--format', FORMATS.join(','), '--output', all]),
        check(lab, ['--repeat', '2', '--interval', '0', '--format', 'json,table', '--output', repeatDir]),
      ]);
      for (const [r, where] of [
        [several, 'several formats'],
        [repeat, '--repeat'],
      ] as const) {
        expect(r.exitCode, `${where}: ${r.stderr}`).not.toBe(2);
        expect(r.stdout.length, where).toBeGreaterThan(0);
        expectClean(lab, `${r.stdout}\n${r.stderr}`, where);
      }
      const written = readdirSync(all);
      expect(written.length).toBe(FORMATS.length);
      for (const f of written) expectClean(lab, readFileSync(join(all, f), 'utf8'), `--output file ${f}`);
      expect(repeat.stdout).toContain('"repeat"');
      const repeatFiles = readdirSync(repeatDir);
      expect(repeatFiles.some((f) => f.endsWith('.table.txt'))).toBe(true);
      for (const f of repeatFiles) expectClean(lab, readFileSync(join(repeatDir, f), 'utf8'), `--repeat file ${f}`);

      // The runs really reached the secret-bearing step.
      const saved = written.find((f) => f.endsWith('.json'))!;
      const json = JSON.parse(readFileSync(join(all, saved), 'utf8')) as {
        results: { id: string; code: string; evidence: Record<string, unknown> }[];
      };
      const protocol = json.results.find(
        (x) => x.id === `route.${which === 'credentials-ok' ? 'credentials-443' : 'mqtt-custom-auth-443'}.protocol`,
      )!;
      if (lab === creds) {
        expect(protocol.code).toBe('CREDENTIALS_OK');
        expect(protocol.evidence['credentialsReturned']).toBe(true);
        // One set per probe: the several-format run's and each round of the repeated run's.
        expect(roleAliasesOf(lab.registry).issued.length - issuedBefore).toBeGreaterThanOrEqual(3);
      } else {
        expect(protocol.code).toBe('CUSTOM_AUTH_REFUSED');
        expect(json.results.find((x) => x.id === 'cloud.custom-authorizer')?.code).toBe('AUTHORIZER_REFUSES');
      }

      const renders = await batched(FORMATS, (format) =>
        runCli(['render', join(all, saved), '--format', format, '--output', join(work, `${which}-render-${format}`)], {
          cwd: work,
          env: env(lab),
        }),
      );
      renders.forEach((r, i) => {
        expect(r.exitCode, r.stderr).not.toBe(FORMATS[i] === 'nagios' ? 3 : 2);
        expect(r.stdout.length, `render --format ${FORMATS[i]}`).toBeGreaterThan(0);
        expectClean(lab, `${r.stdout}\n${r.stderr}`, `render --format ${FORMATS[i]}`);
        for (const f of readdirSync(join(work, `${which}-render-${FORMATS[i]}`))) {
          expectClean(lab, readFileSync(join(work, `${which}-render-${FORMATS[i]}`, f), 'utf8'), `render file ${f}`);
        }
      });
    }, 180_000);
  }
});
