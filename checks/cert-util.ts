import type { Check, DependencyResults } from '../src/model/check.js';
import type { CheckResult, Evidence, Status } from '../src/model/index.js';
import type { DeviceFileProblem, DeviceFiles } from '../src/probes/device-files.js';
import { shq } from '../src/probes/shell.js';
import type { LocalCheckContext } from './cert-context.js';

export type LocalCheck = Check<LocalCheckContext>;

export interface ResultFields {
  /** Defaults to the check id. */
  id?: string;
  status: Status;
  code: string;
  summary: string;
  evidence?: Evidence;
  hint?: string;
  reproduce?: string;
}

export function makeResult(check: { id: string; title: string }, startedAt: number, f: ResultFields): CheckResult {
  return {
    id: f.id ?? check.id,
    route: null,
    stage: null,
    title: check.title,
    status: f.status,
    code: f.code,
    summary: f.summary,
    evidence: f.evidence ?? {},
    ...(f.hint ? { hint: f.hint } : {}),
    ...(f.reproduce ? { reproduce: f.reproduce } : {}),
    durationMs: Math.round((performance.now() - startedAt) * 1000) / 1000,
  };
}

type Part = 'cert' | 'key' | 'ca';

const FLAG: Record<Part, string> = { cert: '--cert', key: '--key', ca: '--ca' };
const NOUN: Record<Part, string> = { cert: 'certificate file', key: 'private key file', ca: 'CA file' };

/** Fail problems first, then warnings; stable within each. */
export function problemsFor(credentials: DeviceFiles, part: Part): DeviceFileProblem[] {
  const list = credentials.problems.filter((p) => p.file === part);
  return [...list.filter((p) => p.status === 'fail'), ...list.filter((p) => p.status === 'warn')];
}

/**
 * When a part the check needs is missing, the skip result that says why: "blocked by files.key:
 * KEY_ENCRYPTED_NO_PASSPHRASE", or "no private key file given (--key)".
 */
/**
 * A check over the parsed credentials: `skip` with the reason when a part it reads is missing or unreadable,
 * otherwise `body` runs. It waits for the files checks of those parts, plus `extraNeeds`.
 */
export function credentialCheck(
  meta: { id: string; title: string },
  parts: readonly Part[],
  body: (ctx: LocalCheckContext, startedAt: number, deps?: DependencyResults) => Promise<CheckResult[]> | CheckResult[],
  extraNeeds: readonly string[] = [],
): LocalCheck {
  return {
    ...meta,
    family: 'cert',
    needs: [...parts.map((p) => `files.${p}`), ...extraNeeds],
    async run(ctx, deps) {
      const started = performance.now();
      const skip = skipIfMissing(meta, started, ctx.credentials, parts);
      if (skip) return [skip];
      return body(ctx, started, deps);
    },
  };
}

export function skipIfMissing(
  check: { id: string; title: string },
  startedAt: number,
  credentials: DeviceFiles,
  parts: readonly Part[],
): CheckResult | undefined {
  for (const part of parts) {
    if (credentials[part]) continue;
    const problem = problemsFor(credentials, part).find((p) => p.status === 'fail');
    if (problem) {
      return makeResult(check, startedAt, {
        status: 'skip',
        code: 'BLOCKED',
        summary: `blocked by files.${part}: ${problem.code}`,
        evidence: { blockedBy: `files.${part}`, blockingCode: problem.code },
      });
    }
    return makeResult(check, startedAt, {
      status: 'skip',
      code: 'INPUT_MISSING',
      summary: `no ${NOUN[part]} given (${FLAG[part]})`,
      evidence: { missing: FLAG[part] },
    });
  }
  return undefined;
}

export { shq };

/** `openssl x509 ARGS` reading the device certificate, whatever its format. */
export function x509Cmd(cert: NonNullable<DeviceFiles['cert']>, args: string): string {
  const p = shq(cert.path);
  switch (cert.format) {
    case 'der':
      return `openssl x509 -inform DER -in ${p} ${args}`;
    case 'pkcs12':
      return `openssl pkcs12 -in ${p} -clcerts -nokeys | openssl x509 ${args}`;
    default:
      return `openssl x509 -in ${p} ${args}`;
  }
}

/** `openssl pkey ARGS` reading the private key, whatever its format. Prompts for a passphrase when needed. */
export function pkeyCmd(credentials: DeviceFiles, args: string): string {
  const key = credentials.key!;
  const p = shq(key.path);
  if (credentials.cert?.format === 'pkcs12' && credentials.cert.path === key.path) {
    return `openssl pkcs12 -in ${p} -nocerts -nodes | openssl pkey ${args}`;
  }
  if (/\.p12$|\.pfx$/i.test(key.path)) return `openssl pkcs12 -in ${p} -nocerts -nodes | openssl pkey ${args}`;
  const der = credentials.problems.some((q) => q.code === 'KEY_FILE_DER' && q.path === key.path);
  return `openssl pkey${der ? ' -inform DER' : ''} -in ${p} ${args}`;
}

export function isoDate(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

export const DAY_MS = 86_400_000;

/** The command that shows a file problem by hand. */
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
  check: { id: string; title: string },
  startedAt: number,
  problems: readonly DeviceFileProblem[],
  baseEvidence: Evidence,
): CheckResult[] {
  return problems.map((problem, i) =>
    makeResult(check, startedAt, {
      id: i === 0 ? check.id : `${check.id}:${problem.code}`,
      status: problem.status,
      code: problem.code,
      summary: problem.message,
      evidence: { ...baseEvidence, ...(problem.path ? { path: problem.path } : {}) },
      ...(problem.hint ? { hint: problem.hint } : {}),
      ...(reproduceForProblem(problem) ? { reproduce: reproduceForProblem(problem) } : {}),
    }),
  );
}
