/**
 * The credential-provider session of `credentials-443` (row `protocol`), over the route's own mTLS socket:
 * `GET /role-aliases/<alias>/credentials` with `x-amzn-iot-thingname` when a thing name is given (field notes §6.1),
 * and the answer classified by status and body per the error table of field notes §6.3.
 * The temporary credentials that come back are secrets: only that they came back, their expiry and the role alias
 * reach the evidence; the body of a 200 answer is never kept.
 */
import type { Evidence } from '../../src/model/index.js';
import { httpOverSocket, type HttpsPublishOutcome } from '../../src/probes/https.js';
import { shq as shellQuote } from '../../src/probes/shell.js';
import type { CredentialProviderTarget, Target } from '../../src/target.js';
import type { RouteCode } from '../route-codes.js';
import type { RouteRun, StageOutcome } from '../route-stage.js';
import { NOT_HTTP_HINT } from './protocol-https.js';
import { stepMs } from '../../src/runner/deadline.js';

type Answered = Extract<HttpsPublishOutcome, { ok: true }>;

/** The request path for a role alias (field notes §6.1). */
export function credentialsPath(roleAlias: string): string {
  return `/role-aliases/${encodeURIComponent(roleAlias)}/credentials`;
}

/**
 * Status and AWS `message` → route code, per field notes §6.3 (AWS Labs' measured table). Messages are matched
 * loosely (case, punctuation) since AWS may reword them; an unknown pair is CREDENTIALS_UNEXPECTED_ANSWER.
 */
export function classifyCredentialsAnswer(status: number, message: string): RouteCode {
  const m = message.toLowerCase();
  if (status === 200) return 'CREDENTIALS_OK';
  if (status === 404 && m.includes('role alias does not exist')) return 'CREDENTIALS_ROLE_ALIAS_NOT_FOUND';
  if (status === 404) return 'CREDENTIALS_NOT_FOUND';
  if (status === 403 && m.includes('invalid thing name')) return 'CREDENTIALS_THING_NAME_INVALID';
  if (status === 403 && m.includes('certificate is invalid on this endpoint')) {
    return 'CREDENTIALS_CERT_INVALID_ON_ENDPOINT';
  }
  if (status === 403 && m.includes('access denied')) return 'CREDENTIALS_ACCESS_DENIED';
  if (status === 400 && m.includes('maxsessionduration')) return 'CREDENTIALS_DURATION_EXCEEDS_ROLE';
  if (status === 400 && m.includes('unable to assume the role')) return 'CREDENTIALS_ROLE_NOT_ASSUMABLE';
  return 'CREDENTIALS_UNEXPECTED_ANSWER';
}

const SUMMARIES: Partial<Record<RouteCode, (c: CredentialProviderTarget) => string>> = {
  CREDENTIALS_ROLE_ALIAS_NOT_FOUND: (c) => `role alias ${c.roleAlias} does not exist in this account and region`,
  CREDENTIALS_THING_NAME_INVALID: (c) =>
    `thing name ${c.thingName ?? '(none)'} is refused: no such thing, or not attached to this certificate`,
  CREDENTIALS_ACCESS_DENIED: (c) =>
    `access denied: the certificate's policies do not allow iot:AssumeRoleWithCertificate on rolealias/${c.roleAlias}`,
  CREDENTIALS_ROLE_NOT_ASSUMABLE: () =>
    'the role behind the alias is missing, or its trust policy does not allow credentials.iot.amazonaws.com',
  CREDENTIALS_DURATION_EXCEEDS_ROLE: () =>
    "the alias's credentialDurationSeconds exceeds the role's MaxSessionDuration",
  CREDENTIALS_CERT_INVALID_ON_ENDPOINT: () =>
    'the credential provider answered "Certificate is invalid on this endpoint"',
  CREDENTIALS_NOT_FOUND: () => 'the path was not found: the host is probably not a credential-provider endpoint',
};

/** A `curl` line that makes the same request (no secret in it: the device files are named, not read). */
export function credentialsCurl(target: Target, run: RouteRun): string {
  const c = target.credentials!;
  const port = run.spec.port === 443 ? '' : `:${run.spec.port}`;
  const url = `https://${run.dest.name}${port}${credentialsPath(c.roleAlias)}`;
  const parts = ['curl', '-sS', '-i'];
  if (target.certPath) parts.push('--cert', shellQuote(target.certPath));
  if (target.keyPath) parts.push('--key', shellQuote(target.keyPath));
  if (target.caPath) parts.push('--cacert', shellQuote(target.caPath));
  if (run.peer && run.peer.address !== run.dest.name) {
    parts.push('--connect-to', shellQuote(`${run.dest.name}:${run.spec.port}:${run.peer.address}:${run.peer.port}`));
  }
  if (c.thingName) parts.push('-H', shellQuote(`x-amzn-iot-thingname: ${c.thingName}`));
  parts.push(shellQuote(url), '-o', '/dev/null', '-w', "'%{http_code}\\n'");
  return parts.join(' ');
}

/** Only the non-secret facts of a 200 answer: that credentials came back, their expiry, nothing else. */
function grantedEvidence(res: Answered, base: Evidence): { evidence: Evidence; complete: boolean } {
  let creds: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(res.body) as { credentials?: Record<string, unknown> };
    creds = parsed.credentials ?? {};
  } catch {
    // not JSON: reported as incomplete below
  }
  const expiration = typeof creds['expiration'] === 'string' ? creds['expiration'] : undefined;
  const complete = ['accessKeyId', 'secretAccessKey', 'sessionToken'].every((k) => typeof creds[k] === 'string');
  return { evidence: { ...base, credentialsReturned: complete, ...(expiration ? { expiration } : {}) }, complete };
}

function answered(run: RouteRun, res: Answered, base: Evidence, reproduce: string): StageOutcome {
  const c = run.ctx.target.credentials!;
  const code = classifyCredentialsAnswer(res.status, res.message ?? '');
  if (code === 'CREDENTIALS_OK') {
    const { evidence, complete } = grantedEvidence(res, { ...base, status: 200 });
    const expiry = typeof evidence['expiration'] === 'string' ? `, expiring ${evidence['expiration']}` : '';
    return {
      stage: 'protocol',
      status: complete ? 'pass' : 'fail',
      code: complete ? code : 'CREDENTIALS_UNEXPECTED_ANSWER',
      durationMs: res.durationMs,
      evidence,
      summary: complete
        ? `temporary credentials for role alias ${c.roleAlias} came back${expiry} (not shown: they are secrets)`
        : 'HTTP 200 without the expected credentials object',
      ...(complete ? {} : { reproduce }),
    };
  }
  const evidence = {
    ...base,
    status: res.status,
    ...(res.message ? { message: res.message } : {}),
    ...(res.errorType ? { errorType: res.errorType } : {}),
    ...(res.serverDate ? { serverDate: res.serverDate } : {}),
  };
  const said = `HTTP ${res.status}${res.message ? ` "${res.message}"` : ''}`;
  const what = SUMMARIES[code]?.(c);
  return {
    stage: 'protocol',
    status: 'fail',
    code,
    durationMs: res.durationMs,
    evidence,
    reproduce,
    summary: what ? `${said}: ${what}` : said,
  };
}

/** The `protocol` row of the credential provider: one GET over `run.tls`, classified; reads `run.dest`, `run.peer`. */
export async function credentialsSession(run: RouteRun): Promise<StageOutcome[]> {
  const { target } = run.ctx;
  const c = target.credentials;
  if (!c) throw new Error('credentials-443 runs only with a role alias (--role-alias)');
  const reproduce = credentialsCurl(target, run);
  const base: Evidence = {
    roleAlias: c.roleAlias,
    path: credentialsPath(c.roleAlias),
    ...(c.thingName ? { thingName: c.thingName } : {}),
  };
  const res = await httpOverSocket(run.channel ?? run.tls!.socket, {
    method: 'GET',
    host: run.dest.name,
    path: credentialsPath(c.roleAlias),
    headers: c.thingName ? { 'x-amzn-iot-thingname': c.thingName } : {},
    timeoutMs: stepMs(run.ctx),
  });
  if (!res.ok) {
    const notHttp = res.kind === 'invalid' || res.kind === 'too-large';
    return [
      {
        stage: 'protocol',
        status: 'fail',
        code:
          res.kind === 'invalid' ? 'HTTP_NOT_HTTP' : notHttp ? 'HTTP_RESPONSE_TOO_LARGE' : 'CREDENTIALS_NO_RESPONSE',
        durationMs: res.durationMs,
        evidence: base,
        reproduce,
        summary: res.message,
        ...(notHttp ? { hint: NOT_HTTP_HINT } : {}),
      },
    ];
  }
  return [answered(run, res, base, reproduce)];
}
