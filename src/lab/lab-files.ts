/**
 * The files a running lab hands to a device or a script (trust anchor, device certificate and key, the secrets a
 * scenario's device is configured with) and the `check` command line that exercises the scenario, runnable as
 * printed. Secrets (key, proxy password, custom-auth token) live only in mode-0600 files, never on the line.
 */
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { makeOutputDir } from '../output-dir.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fieldArgv } from './field-scenarios.js';
import type { Lab } from './index.js';

/** What `writeFiles` wrote, and the command line that checks the lab. */
export interface LabFiles {
  ca: string;
  cert: string;
  key: string;
  /** The site proxy's URL with its credentials (mode 0600), when the scenario gives the device credentials. */
  proxyUrl?: string;
  /** The custom-auth token (mode 0600), when the scenario's device authenticates with a custom authorizer. */
  token?: string;
  checkCommand: string;
}

/** A proxy URL that carries a password (`scheme://user:password@host:port`). */
const URL_WITH_PASSWORD = /^[a-z0-9]+:\/\/[^/@:]*:[^/@]*@/i;

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Writes `text` into `path` with mode 0600 (also when the file existed with a wider mode). */
async function writeSecret(path: string, text: string): Promise<string> {
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}

/**
 * The scenario's own `check` flags (what `demo` passes: role alias and thing name for the credential provider,
 * authorizer, token key name and token signature for custom authentication, routes and region for WebSocket), as
 * `--name value` words, shell-quoted; `--region` defaults to the lab's. The token is left out: it is a secret and
 * reaches the check as IOT_DOCTOR_TOKEN.
 */
function scenarioFlags(lab: Pick<Lab, 'region' | 'scenario'>): string[] {
  return Object.entries({ region: lab.region, ...lab.scenario.checkFlags })
    .filter(([name]) => name !== 'token')
    .map(([name, value]) => `--${name} ${shellQuote(value)}`);
}

/**
 * Writes the trust anchor, the device certificate and its key (mode 0600) into `dir`, or a new temporary folder
 * recorded in `tempDirs`, and returns their paths and an iot-doctor command line that checks the lab's scenario,
 * runnable as printed, with the flags `demo` passes for it. A site proxy with credentials goes into the file
 * `proxy-url` and reaches the check as `HTTPS_PROXY="$(cat …/proxy-url)"`, a custom-auth token into the file `token`
 * read as `IOT_DOCTOR_TOKEN="$(cat …/token)"` (both mode 0600), the way a device's environment gives them: no secret
 * on the printed line. The credential provider's `--connect-to` is on the line only with a `--role-alias` (otherwise
 * the run would warn that it went unused).
 */
export async function writeLabFiles(
  lab: Lab,
  tempDirs: string[],
  dir: string | undefined,
  program = 'iot-doctor',
): Promise<LabFiles> {
  let target: string;
  if (dir) {
    target = resolve(dir);
    // One level at a time: a recursive mkdir loops forever under /proc (output-dir.ts).
    makeOutputDir(target);
  } else {
    target = await mkdtemp(join(tmpdir(), 'iot-doctor-lab-'));
    tempDirs.push(target);
  }
  const files = {
    ca: join(target, 'ca.pem'),
    cert: join(target, 'device.pem.crt'),
    key: join(target, 'private.pem.key'),
  };
  await writeFile(files.ca, lab.caPem);
  await writeFile(files.cert, lab.device.certPem);
  await writeSecret(files.key, lab.device.keyPem);
  const { proxy, ...checkArgs } = lab.checkArgs;
  const proxyUrl =
    proxy && URL_WITH_PASSWORD.test(proxy) ? await writeSecret(join(target, 'proxy-url'), `${proxy}\n`) : undefined;
  const token = lab.customAuth ? await writeSecret(join(target, 'token'), lab.customAuth.token) : undefined;
  const roleAlias = lab.scenario.checkFlags?.['role-alias'] !== undefined;
  const checkCommand = [
    ...(proxyUrl ? [`HTTPS_PROXY="$(cat ${shellQuote(proxyUrl)})"`] : []),
    ...(token ? [`IOT_DOCTOR_TOKEN="$(cat ${shellQuote(token)})"`] : []),
    `AWS_ENDPOINT_URL_IOT=${lab.apiEndpoint}`,
    `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=${lab.apiEndpoint}`,
    `AWS_ENDPOINT_URL_STS=${lab.apiEndpoint}`,
    `AWS_ENDPOINT_URL_IAM=${lab.apiEndpoint}`,
    'AWS_ACCESS_KEY_ID=AKIDLAB',
    'AWS_SECRET_ACCESS_KEY=lab',
    `${program} check`,
    `--endpoint ${lab.endpoint}`,
    `--cert ${shellQuote(files.cert)}`,
    `--key ${shellQuote(files.key)}`,
    `--ca ${shellQuote(files.ca)}`,
    ...scenarioFlags(lab),
    ...lab.connectTo
      .filter((c) => roleAlias || !c.startsWith(`${lab.credentialsEndpoint}:`))
      .map((c) => `--connect-to ${c}`),
    ...fieldArgv(proxyUrl ? checkArgs : lab.checkArgs).map(shellQuote),
  ].join(' ');
  return { ...files, ...(proxyUrl ? { proxyUrl } : {}), ...(token ? { token } : {}), checkCommand };
}
