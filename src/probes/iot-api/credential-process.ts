/**
 * Why a `credential_process` failed, in one line, for the no-credentials message: the AWS SDK tells only its debug
 * log (then ends with "Could not load credentials from any providers"). Names the profile and the program and says
 * what was wrong (exit status, signal, not JSON, no Version 1, no keys, expired); never the process's output, which
 * could hold secrets, nor its arguments. The JSON a credential_process must print: AWS SDKs and Tools reference
 * guide, "Process credential provider" (Version 1, AccessKeyId, SecretAccessKey, optional SessionToken, Expiration).
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What the SDK's credential-provider-process reported about one run of a credential_process. */
export type ProcessFault =
  | { kind: 'failed'; command: string }
  | { kind: 'invalid-json' | 'no-version' | 'invalid-credentials' | 'expired'; profile: string };

/** The SDK's words for a process that ran but printed something unusable (credential-provider-process). */
const PRINTED: Record<string, Exclude<ProcessFault['kind'], 'failed'>> = {
  'returned invalid JSON': 'invalid-json',
  'did not return Version 1': 'no-version',
  'returned invalid credentials': 'invalid-credentials',
  'returned expired credentials': 'expired',
};

/**
 * Reads one line of the SDK's debug log: `Command failed: <command>\n<stderr>` (the process exited non-zero or was
 * killed; only the command is kept, stderr is dropped) or `Profile <p> credential_process <what>.`; undefined for
 * any other line.
 */
export function processFaultOf(line: string): ProcessFault | undefined {
  const failed = /^@smithy\/property-provider -> Command failed: ([^\n]*)/.exec(line);
  if (failed) return { kind: 'failed', command: failed[1]!.trim() };
  const printed = /^@smithy\/property-provider -> Profile (.+) credential_process ([\w ]+?)\.$/.exec(line);
  const kind = printed ? PRINTED[printed[2]!] : undefined;
  return kind ? { kind, profile: printed![1]! } : undefined;
}

/** A shared config or credentials file larger than this is not read (real ones are a few KiB). */
const FILE_CAP = 1024 * 1024;

/**
 * Every profile's `credential_process` in the shared config file (`[default]`, `[profile NAME]`) and credentials
 * file (`[NAME]`), from AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE or ~/.aws; the credentials file wins, as in
 * the SDK. Unreadable or oversized files count as empty.
 */
function processCommands(env: NodeJS.ProcessEnv): Map<string, string> {
  const out = new Map<string, string>();
  const aws = join(homedir(), '.aws');
  const files: [string, boolean][] = [
    [env['AWS_CONFIG_FILE'] || join(aws, 'config'), true],
    [env['AWS_SHARED_CREDENTIALS_FILE'] || join(aws, 'credentials'), false],
  ];
  for (const [path, isConfig] of files) {
    let text = '';
    try {
      if (statSync(path).size <= FILE_CAP) text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    let section: string | undefined;
    for (const line of text.split(/\r?\n/)) {
      const head = /^\s*\[\s*([^\]]*?)\s*\]/.exec(line)?.[1]?.replace(/\s+/g, ' ');
      if (head !== undefined) section = !isConfig || head === 'default' ? head : /^profile (.+)$/.exec(head)?.[1];
      const value = /^\s*credential_process\s*=\s*(.*?)\s*$/i.exec(line)?.[1];
      if (section !== undefined && value) out.set(section, value);
    }
  }
  return out;
}

/** The program a command line starts (its first shell word, unquoted): named without its arguments. */
function programOf(command: string): string {
  const m = /^\s*(?:"([^"]*)"|'([^']*)'|(\S+))/.exec(command);
  return m?.[1] ?? m?.[2] ?? m?.[3] ?? command;
}

/** What a process that printed something unusable got wrong. */
const WRONG: Record<Exclude<ProcessFault['kind'], 'failed'>, string> = {
  'invalid-json': 'did not print valid JSON on stdout',
  'no-version': 'printed JSON without "Version": 1',
  'invalid-credentials': 'printed JSON without AccessKeyId or SecretAccessKey',
  expired: 'printed credentials whose Expiration has passed',
};

/**
 * One line naming the failed credential_process (profile and program) and what was wrong, ending in "(its output
 * is not shown)". The process is never run again to learn more: the SDK does not keep a failed run's exit status,
 * and a credential helper can prompt, open a browser or count against a rate limit each time it runs.
 */
export function describeProcessFault(fault: ProcessFault, env: NodeJS.ProcessEnv = process.env): string {
  const commands = processCommands(env);
  let profile: string | undefined;
  let command: string | undefined;
  let what: string;
  if (fault.kind === 'failed') {
    command = fault.command;
    profile = [...commands].find(([, c]) => c === command)?.[0];
    what = 'exited with an error or was ended by a signal (run it by hand to see which)';
  } else {
    profile = fault.profile;
    command = commands.get(profile);
    what = WRONG[fault.kind];
  }
  const whose = profile === undefined ? '' : ` of profile "${profile}"`;
  const program = command ? ` (${programOf(command)})` : '';
  return `credential_process${whose}${program} ${what} (its output is not shown)`;
}
