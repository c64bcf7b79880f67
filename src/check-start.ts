/**
 * The first steps of `check`, loaded before the rest of the command (issue 16: the first SYN leaves as early as the
 * process allows): the target from the flags (the same validation, the same one-line usage errors as before), then
 * the routes' DNS lookups and TCP connects (src/probes/head-start.ts) and, when AWS credentials may exist, the API
 * worker's session (src/probes/iot-api/worker-channel.ts), all started while commands.ts, the runner, the catalogue
 * and the reporters load.
 */
import type { CommonCheckArgs } from './target-args.js';
import { targetFromArgs } from './target-args.js';
import { checkOutput, type OutputArgs } from './output-args.js';
import { readCredentialFile } from './input-file.js';
import { parseRepeat } from './repeat.js';
import { resolveSiteProfile } from './site-profile.js';
import { checkFamilyPins, type Target } from './target.js';
import { startRoutesEarly } from './probes/head-start.js';
import { credentialSourceHint } from './probes/iot-api/aws-credentials.js';
import { iotApiOptions } from './probes/iot-api/options.js';
import { prestartWorkerSession } from './probes/iot-api/worker-channel.js';

/**
 * Builds the target of a full `check` and starts its routes ahead of loading; returns the target (handed on to
 * `checkCommand`), or undefined for `--from` and `--cloud-only` (no routes: nothing to start early). Every usage
 * error `check` can report before its first network step is thrown here first (`UsageError`, one line naming the
 * flag): the target's flags, `-4`/`-6` against the pins, `--format`/`--output`, `--site-profile`, `--repeat`, and a
 * device file that cannot be read (`--cert`, `--key`, `--ca`: missing, a directory, a FIFO or device, too large; only
 * read here, parsed later while the SYNs are out).
 */
export function startCheck(args: Record<string, unknown>): Target | undefined {
  const given = args as unknown as CommonCheckArgs & OutputArgs & { from?: string; 'cloud-only'?: boolean };
  if (given.from || given['cloud-only']) return undefined;
  const target = targetFromArgs(given);
  checkFamilyPins(target);
  checkOutput(given);
  if (given['site-profile']) resolveSiteProfile(given['site-profile']);
  parseRepeat(given.repeat, given.interval);
  checkDeviceFilesReadable(target);
  startRoutesEarly(target);
  // Right after the SYNs: the AWS SDK loads in the API worker, on the other core, while the rest of check loads.
  if (target.cloud && credentialSourceHint(target)) prestartWorkerSession(iotApiOptions(target));
  return target;
}

function checkDeviceFilesReadable(target: Target): void {
  if (target.certPath) readCredentialFile(target.certPath, 'certificate', '--cert');
  if (target.keyPath) readCredentialFile(target.keyPath, 'private key', '--key');
  if (target.caPath) readCredentialFile(target.caPath, 'CA', '--ca');
}
