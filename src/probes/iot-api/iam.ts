/**
 * Who signs, and may it `iot:Connect`: STS GetCallerIdentity and IAM SimulatePrincipalPolicy with the run's AWS
 * credentials, for the SigV4 WebSocket route (field notes §4.1: the signing identity needs `iot:Connect` on
 * `client/<clientId>`; AWS answers every refused upgrade with the same 403, field notes §4.2).
 *
 * - GetCallerIdentity needs no permission (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html:
 *   "No permissions are required to perform this operation"); SimulatePrincipalPolicy needs
 *   `iam:SimulatePrincipalPolicy` (https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html).
 * - `PolicySourceArn` takes the ARN of a user, group or role (same page), not the session ARN that GetCallerIdentity
 *   returns for temporary credentials of a role (`arn:aws:sts::<account>:assumed-role/<role>/<session>`, IAM
 *   identifiers: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns):
 *   `policySourceArn` maps it to the role ARN `arn:aws:iam::<account>:role/<role>`. The role's path is not in the
 *   session ARN; a role under a path other than `/` is then not found (NoSuchEntity) and said so.
 * - `@aws-sdk/client-sts` and `@aws-sdk/client-iam` are imported on the first call only. Their endpoints are the SDK's
 *   own: `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL_IAM` (or `AWS_ENDPOINT_URL`) are honoured as the SDK does.
 */
import type { IoTClient } from '@aws-sdk/client-iot';
import { classifyError, withDeadline } from './failures.js';
import type { ApiOutcome } from './types.js';

/** The identity that signs, as STS names it. Not a secret: an ARN, an account id and a unique id. */
export interface CallerIdentity {
  arn: string;
  account: string;
  userId: string;
}

/** One row of a simulation: the decision for an action on a resource and the statements that decided it. */
export interface SimulationDecision {
  action: string;
  resource: string;
  /** `allowed`, `explicitDeny` or `implicitDeny`. */
  decision: string;
  /** The `SourcePolicyId` of every matched statement (empty for an implicit deny). */
  matchedPolicies: string[];
  /** Context keys the policies use that the simulation was not given (the answer may then be wrong). */
  missingContextValues: string[];
}

function clientOptions(iot: IoTClient, region: string, timeoutMs: number) {
  return {
    region,
    credentials: iot.config.credentials,
    retryMode: 'standard',
    maxAttempts: 3,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
  };
}

async function sendBounded<T>(
  send: (signal: AbortSignal) => Promise<T>,
  operation: string,
  timeoutMs: number,
): Promise<{ output: T; durationMs: number; attempts: number }> {
  const started = performance.now();
  const output = await withDeadline(send(AbortSignal.timeout(timeoutMs)), timeoutMs + 250, operation);
  const attempts = (output as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
  return { output, durationMs: Math.round(performance.now() - started), attempts };
}

/**
 * STS GetCallerIdentity with the credentials of `iot` (the run's IoT client) in `region`, bounded by `timeoutMs` ms
 * (retries included). Never throws: a failure is an `ApiFailure` (operation GetCallerIdentity, permission
 * `sts:GetCallerIdentity`).
 */
export async function getCallerIdentity(
  iot: IoTClient,
  region: string,
  timeoutMs: number,
): Promise<ApiOutcome<CallerIdentity>> {
  const operation = 'GetCallerIdentity';
  try {
    const sdk = await import('@aws-sdk/client-sts');
    const client = new sdk.STSClient(clientOptions(iot, region, timeoutMs));
    try {
      const command = new sdk.GetCallerIdentityCommand({});
      const r = await sendBounded((s) => client.send(command, { abortSignal: s }), operation, timeoutMs);
      const value = { arn: r.output.Arn ?? '', account: r.output.Account ?? '', userId: r.output.UserId ?? '' };
      return { ok: true, value, operation, attempts: r.attempts, durationMs: r.durationMs };
    } finally {
      client.destroy();
    }
  } catch (err) {
    return classifyError(err, operation, 'sts:GetCallerIdentity');
  }
}

/**
 * The ARN SimulatePrincipalPolicy accepts for the identity `callerArn` names (see the file comment): a user or role
 * ARN as it is, an assumed-role session ARN as its role's ARN; undefined for identities the simulator cannot take
 * (the root user, federated users, anything else).
 */
export function policySourceArn(callerArn: string): string | undefined {
  const session = /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/[^/]+$/.exec(callerArn);
  if (session) return `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`;
  if (/^arn:aws[\w-]*:iam::\d{12}:(user|role)\/\S+$/.test(callerArn)) return callerArn;
  return undefined;
}

/**
 * IAM SimulatePrincipalPolicy of `action` on `resource` for the identity `sourceArn` (a user or role ARN), with the
 * credentials of `iot`, bounded by `timeoutMs` ms. Never throws: a failure is an `ApiFailure` (permission
 * `iam:SimulatePrincipalPolicy`; NoSuchEntity when the identity is not found).
 */
export async function simulatePrincipalPolicy(
  iot: IoTClient,
  region: string,
  timeoutMs: number,
  input: { sourceArn: string; action: string; resource: string },
): Promise<ApiOutcome<SimulationDecision>> {
  const operation = 'SimulatePrincipalPolicy';
  try {
    const sdk = await import('@aws-sdk/client-iam');
    const client = new sdk.IAMClient(clientOptions(iot, region, timeoutMs));
    try {
      const command = new sdk.SimulatePrincipalPolicyCommand({
        PolicySourceArn: input.sourceArn,
        ActionNames: [input.action],
        ResourceArns: [input.resource],
      });
      const r = await sendBounded((s) => client.send(command, { abortSignal: s }), operation, timeoutMs);
      const row = (r.output.EvaluationResults ?? [])[0];
      const value: SimulationDecision = {
        action: row?.EvalActionName ?? input.action,
        resource: row?.EvalResourceName ?? input.resource,
        decision: row?.EvalDecision ?? 'implicitDeny',
        matchedPolicies: (row?.MatchedStatements ?? []).map((m) => m.SourcePolicyId ?? '?').slice(0, 10),
        missingContextValues: (row?.MissingContextValues ?? []).slice(0, 10),
      };
      return { ok: true, value, operation, attempts: r.attempts, durationMs: r.durationMs };
    } finally {
      client.destroy();
    }
  } catch (err) {
    const failure = classifyError(err, operation, 'iam:SimulatePrincipalPolicy');
    return (err as { name?: string })?.name === 'NoSuchEntityException' ? { ...failure, kind: 'not-found' } : failure;
  }
}

/** An IAM role as the credential provider needs it (field notes §6.2): its maximum session and whom it trusts. */
export interface RoleInfo {
  roleArn: string;
  /** Seconds (3600-43200). */
  maxSessionDuration: number;
  /** The trust policy allows the service principal credentials.iot.amazonaws.com to sts:AssumeRole. */
  trustsCredentialProvider: boolean;
}

/** True when an Allow statement of the trust policy `doc` names the credential provider's service principal. */
function trustsCredentials(doc: unknown): boolean {
  const statements = [(doc as { Statement?: unknown })?.Statement ?? []].flat() as Record<string, unknown>[];
  return statements.some((st) => {
    if (st['Effect'] !== 'Allow') return false;
    const service = (st['Principal'] as { Service?: unknown } | undefined)?.Service;
    return [service].flat().includes('credentials.iot.amazonaws.com');
  });
}

/**
 * IAM GetRole of `roleName` (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html) with the
 * credentials of `iot`, bounded by `timeoutMs` ms: its ARN, MaxSessionDuration and whether the trust policy (returned
 * URL-encoded) lets credentials.iot.amazonaws.com assume it. Never throws: a failure is an `ApiFailure` (permission
 * `iam:GetRole`; `not-found` for NoSuchEntity).
 */
export async function getRole(
  iot: IoTClient,
  region: string,
  timeoutMs: number,
  roleName: string,
): Promise<ApiOutcome<RoleInfo>> {
  const operation = 'GetRole';
  try {
    const sdk = await import('@aws-sdk/client-iam');
    const client = new sdk.IAMClient(clientOptions(iot, region, timeoutMs));
    try {
      const command = new sdk.GetRoleCommand({ RoleName: roleName });
      const r = await sendBounded((s) => client.send(command, { abortSignal: s }), operation, timeoutMs);
      const role = r.output.Role;
      let trust: unknown;
      try {
        trust = JSON.parse(decodeURIComponent(role?.AssumeRolePolicyDocument ?? '{}'));
      } catch {
        trust = {};
      }
      const value: RoleInfo = {
        roleArn: role?.Arn ?? '',
        maxSessionDuration: role?.MaxSessionDuration ?? 3600,
        trustsCredentialProvider: trustsCredentials(trust),
      };
      return { ok: true, value, operation, attempts: r.attempts, durationMs: r.durationMs };
    } finally {
      client.destroy();
    }
  } catch (err) {
    const failure = classifyError(err, operation, 'iam:GetRole');
    return (err as { name?: string })?.name === 'NoSuchEntityException' ? { ...failure, kind: 'not-found' } : failure;
  }
}
