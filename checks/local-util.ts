/**
 * Helpers shared by the local (offline) credential checks (`files.*`, `cert.*`, `ca.*`): the skip when a file they
 * read is missing, the `openssl` reproduce commands, and the results of a `files.*` check with problems.
 */
import type { Check, DependencyResults } from '../src/model/check.js';
import type { CheckResult, Evidence } from '../src/model/index.js';
import { blockedOutcome, buildResult, inputMissingOutcome, SKIP_CODES, type ResultMeta } from '../src/model/result.js';
import type { DeviceFileProblem, DeviceFiles } from '../src/probes/device-files.js';
import { shq } from '../src/probes/shell.js';
import type { LocalCheckContext } from './local-context.js';
import { familyOf } from './family-util.js';

/** A check that reads only the parsed credential files: runs in `check` and, alone, in `iot-doctor cert`. */
export type LocalCheck = Check<LocalCheckContext>;

/** A credential file: the device certificate, its private key, the CA file. */
export type Part = 'cert' | 'key' | 'ca';

/** The skips of a credential check (`credentialCheck`, `skipIfMissing`): a file it reads failed, or was not given. */
export const LOCAL_SKIP_CODES = [SKIP_CODES.BLOCKED, SKIP_CODES.INPUT_MISSING] as const;

/**
 * Codes of the problems loading the credential files finds (src/probes/pem.ts), reported by files.cert, files.key and
 * files.ca as their results' codes. A test keeps this list equal to the codes the loader can add.
 */
export const CREDENTIAL_PROBLEM_CODES = [
  'CERT_FILE_EMPTY',
  'CERT_FILE_CORRUPT',
  'CERT_FILE_DER',
  'CERT_FILE_JUNK',
  'CERT_FILE_HAS_INVALID_BLOCKS',
  'CERT_FILE_HOLDS_CA',
  'CERT_FILE_HOLDS_CSR',
  'CERT_FILE_HOLDS_PRIVATE_KEY',
  'CERT_FILE_HOLDS_PUBLIC_KEY',
  'KEY_FILE_EMPTY',
  'KEY_FILE_CORRUPT',
  'KEY_FILE_DER',
  'KEY_FILE_JUNK',
  'KEY_FILE_HOLDS_CERTIFICATE',
  'KEY_FILE_HOLDS_CSR',
  'KEY_FILE_HOLDS_PUBLIC_KEY',
  'KEY_FILE_OPENSSH',
  'KEY_FILE_WORLD_READABLE',
  'KEY_ENCRYPTED_NO_PASSPHRASE',
  'KEY_PASSPHRASE_WRONG',
  'KEY_UNSUPPORTED',
  'CA_FILE_EMPTY',
  'CA_FILE_DER',
  'CA_FILE_HOLDS_PRIVATE_KEY',
  'CA_BUNDLE_JUNK',
  'CA_BUNDLE_HAS_INVALID_BLOCKS',
  'P12_NO_PASSPHRASE',
  'P12_PASSPHRASE_WRONG',
  'P12_UNSUPPORTED',
  'P12_NO_CERTIFICATE',
  'P12_NO_PRIVATE_KEY',
] as const;
export type CredentialProblemCode = (typeof CREDENTIAL_PROBLEM_CODES)[number];

const PROBLEM_PREFIXES: Record<Part, readonly string[]> = {
  cert: ['CERT_', 'P12_'],
  key: ['KEY_', 'P12_'],
  ca: ['CA_'],
};

/** The problem codes the files check of `part` can report (by code prefix; PKCS#12 problems under cert and key). */
export function credentialProblemCodes(part: Part): CredentialProblemCode[] {
  return CREDENTIAL_PROBLEM_CODES.filter((c) => PROBLEM_PREFIXES[part].some((prefix) => c.startsWith(prefix)));
}

const FLAG: Record<Part, string> = { cert: '--cert', key: '--key', ca: '--ca' };
const NOUN: Record<Part, string> = { cert: 'certificate file', key: 'private key file', ca: 'CA file' };

/** The load problems of one credential file: fail problems first, then warnings; stable within each. */
export function problemsFor(credentials: DeviceFiles, part: Part): DeviceFileProblem[] {
  const list = credentials.problems.filter((p) => p.file === part);
  return [...list.filter((p) => p.status === 'fail'), ...list.filter((p) => p.status === 'warn')];
}

/**
 * A check over the parsed credentials: `skip` with the reason when a part it reads is missing or unreadable,
 * otherwise `body` runs (`startedAt` is its `performance.now()` start, ms). It waits for the files checks of those
 * parts, plus `extraNeeds`. `family` is the id's prefix.
 */
export function credentialCheck(
  meta: ResultMeta & { id: string },
  parts: readonly Part[],
  body: (ctx: LocalCheckContext, startedAt: number, deps?: DependencyResults) => Promise<CheckResult[]> | CheckResult[],
  extraNeeds: readonly string[] = [],
): LocalCheck {
  return {
    ...meta,
    family: familyOf(meta.id),
    needs: [...parts.map((p) => `files.${p}`), ...extraNeeds],
    async run(ctx, deps) {
      const started = performance.now();
      const skip = skipIfMissing(meta, started, ctx.credentials, parts);
      if (skip) return [skip];
      return body(ctx, started, deps);
    },
  };
}

/**
 * When a part the check needs is missing, the skip result that says why: `BLOCKED` "blocked by files.key:
 * KEY_ENCRYPTED_NO_PASSPHRASE" when its file failed to load, else `INPUT_MISSING` "no private key file given
 * (--key)"; undefined when every part is there.
 */
export function skipIfMissing(
  check: ResultMeta,
  startedAt: number,
  credentials: DeviceFiles,
  parts: readonly Part[],
): CheckResult | undefined {
  for (const part of parts) {
    if (credentials[part]) continue;
    const problem = problemsFor(credentials, part).find((p) => p.status === 'fail');
    if (problem) return buildResult(check, startedAt, blockedOutcome(`files.${part}`, problem.code));
    return buildResult(check, startedAt, inputMissingOutcome(FLAG[part], `no ${NOUN[part]} given (${FLAG[part]})`));
  }
  return undefined;
}

export { shq };

/**
 * The flags `openssl pkcs12` needs for a bundle: `-legacy` for RC2/RC4 encryption (OpenSSL 3's legacy provider),
 * `-passin pass:` when the empty password opens it (so the command does not prompt). Starts with a space, or ''.
 */
function pkcs12Flags(part: { emptyPassword?: boolean; legacyCipher?: boolean }): string {
  return `${part.legacyCipher ? ' -legacy' : ''}${part.emptyPassword ? ' -passin pass:' : ''}`;
}

/**
 * `openssl verify` of the device certificate against the CA file at `caPath`, as a line that works as printed: the
 * intermediates that travel with the leaf (a leaf+intermediate PEM, a PKCS#12 with CA bags) go in as `-untrusted`,
 * because `openssl verify FILE` reads only the first certificate of FILE. PKCS#12 bundles are read through
 * `openssl pkcs12` (bash process substitution), with the flags `pkcs12Flags` gives. `partialChain`: the CA file's
 * issuer is not a self-signed root (an intermediate), which `openssl verify` accepts as anchor only with
 * `-partial_chain`.
 */
export function verifyDeviceCmd(
  caPath: string,
  cert: NonNullable<DeviceFiles['cert']>,
  opts: { partialChain?: boolean } = {},
): string {
  const ca = `${opts.partialChain ? '-partial_chain ' : ''}-CAfile ${shq(caPath)}`;
  const p = shq(cert.path);
  if (cert.format === 'pkcs12') {
    const read = `openssl pkcs12 -in ${p}${pkcs12Flags(cert)} -nokeys`;
    const untrusted = cert.chain.length > 0 ? ` -untrusted <(${read} -cacerts)` : '';
    return `openssl verify ${ca}${untrusted} <(${read} -clcerts)`;
  }
  return `openssl verify ${ca}${cert.chain.length > 0 ? ` -untrusted ${p}` : ''} ${p}`;
}

/** `openssl x509 ARGS` reading the device certificate, whatever its format. */
export function x509Cmd(cert: NonNullable<DeviceFiles['cert']>, args: string): string {
  const p = shq(cert.path);
  switch (cert.format) {
    case 'der':
      return `openssl x509 -inform DER -in ${p} ${args}`;
    case 'pkcs12':
      return `openssl pkcs12 -in ${p}${pkcs12Flags(cert)} -clcerts -nokeys | openssl x509 ${args}`;
    default:
      return `openssl x509 -in ${p} ${args}`;
  }
}

/** `openssl pkey ARGS` reading the private key, whatever its format. Prompts for a passphrase when needed. */
export function pkeyCmd(credentials: DeviceFiles, args: string): string {
  const key = credentials.key!;
  const p = shq(key.path);
  const passin = pkcs12Flags(key);
  if (credentials.cert?.format === 'pkcs12' && credentials.cert.path === key.path) {
    return `openssl pkcs12 -in ${p}${passin} -nocerts -nodes | openssl pkey ${args}`;
  }
  if (/\.p12$|\.pfx$/i.test(key.path)) return `openssl pkcs12 -in ${p}${passin} -nocerts -nodes | openssl pkey ${args}`;
  const der = credentials.problems.some((q) => q.code === 'KEY_FILE_DER' && q.path === key.path);
  return `openssl pkey${der ? ' -inform DER' : ''} -in ${p} ${args}`;
}

/** A date as ISO 8601 UTC without milliseconds when they are zero: `2026-01-31T12:00:00Z`. */
export function isoDate(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

/** One day in milliseconds. */
export const DAY_MS = 86_400_000;

/** The command that shows a file problem by hand (`openssl`, `wc`, `ls`, `grep`); undefined without a path. */
export function reproduceForProblem(problem: DeviceFileProblem): string | undefined {
  if (!problem.path) return undefined;
  const p = shq(problem.path);
  switch (problem.code) {
    case 'CERT_FILE_EMPTY':
    case 'KEY_FILE_EMPTY':
    case 'CA_FILE_EMPTY':
      return `wc -c ${p}`;
    case 'CERT_FILE_CORRUPT':
      return `openssl x509 -in ${p} -noout -text`;
    case 'CERT_FILE_DER':
    case 'CA_FILE_DER':
      return `openssl x509 -inform DER -in ${p} -noout -subject -issuer`;
    case 'KEY_FILE_DER':
      return `openssl pkey -inform DER -in ${p} -noout`;
    case 'KEY_ENCRYPTED_NO_PASSPHRASE':
    case 'KEY_PASSPHRASE_WRONG':
    case 'KEY_UNSUPPORTED':
    case 'KEY_FILE_CORRUPT':
      return `openssl pkey -in ${p} -noout`;
    case 'KEY_FILE_WORLD_READABLE':
      return `ls -l ${p}`;
    case 'P12_NO_PASSPHRASE':
    case 'P12_PASSPHRASE_WRONG':
    case 'P12_UNSUPPORTED':
    case 'P12_NO_CERTIFICATE':
    case 'P12_NO_PRIVATE_KEY':
      return `openssl pkcs12 -in ${p} -info -noout`;
    case 'CERT_FILE_HOLDS_CA':
      return `openssl x509 -in ${p} -noout -subject -issuer -ext basicConstraints`;
    case 'CA_BUNDLE_HAS_INVALID_BLOCKS':
      return `grep -n -- '-----BEGIN' ${p}`;
    default:
      return `grep -- '-----BEGIN' ${p}`;
  }
}

/**
 * The results of a `files.*` check that has problems: one per problem, worst first. The first carries the check id,
 * further ones `<check id>:<CODE>` so every result id stays unique and stable.
 */
export function problemResults(
  check: ResultMeta,
  startedAt: number,
  problems: readonly DeviceFileProblem[],
  baseEvidence: Evidence,
): CheckResult[] {
  return problems.map((problem, i) =>
    buildResult(
      check,
      startedAt,
      {
        status: problem.status,
        code: problem.code,
        summary: problem.message,
        evidence: { ...baseEvidence, ...(problem.path ? { path: problem.path } : {}) },
        hint: problem.hint,
        reproduce: reproduceForProblem(problem),
      },
      i === 0 ? check.id : `${check.id}:${problem.code}`,
    ),
  );
}
