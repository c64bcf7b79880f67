/**
 * What a run's control-plane calls go through: an `ApiChannel` opened on the AWS SDK in this thread
 * (`openLocalChannel`), or the same code in a worker thread (`api-worker.ts`, `worker-channel.ts`), so that loading
 * the SDK (hundreds of ms of parsing) and its calls never block the route stages of the main thread (issue 16).
 * Everything a channel returns is plain data (structured-clonable): SDK outputs, `ApiFailure`s, the session.
 */
import { classifyError, withDeadline } from './failures.js';
import {
  getCallerIdentity,
  getRole,
  simulatePrincipalPolicy,
  type CallerIdentity,
  type RoleInfo,
  type SimulationDecision,
} from './iam.js';
import { filterLogEvents } from './logs.js';
import { openSession } from './session.js';
import { IOT_API_PERMISSIONS } from './types.js';
import type {
  AnyCommand,
  ApiFailure,
  ApiOutcome,
  CloudSession,
  IotApiOptions,
  IotOperation,
  LogEventInfo,
  LogQuery,
} from './types.js';

/** An SDK call's raw output (its `$metadata.attempts` included), or why it failed. */
export type CallOutcome = { ok: true; output: unknown } | ApiFailure;

/** AWS credentials to sign with (SigV4): secrets, kept in memory, never put in a result. */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What `ApiChannel.simulate` asks IAM. */
export interface SimulateInput {
  sourceArn: string;
  action: string;
  resource: string;
}

/** An open control-plane session of one run. */
export interface ApiChannel {
  session: CloudSession;
  /** `<operation>Command` of @aws-sdk/client-iot with `input`, standard retries, bounded by the call deadline. */
  call(operation: IotOperation, input: object): Promise<CallOutcome>;
  /** The credentials of the session's chain, bounded by the call deadline. */
  credentials(): Promise<{ ok: true; value: SigningCredentials } | ApiFailure>;
  /** CloudWatch Logs FilterLogEvents with the session's region and credentials (logs.ts). */
  filterLogEvents(query: LogQuery): Promise<ApiOutcome<LogEventInfo[]>>;
  /** STS GetCallerIdentity with the session's credentials (iam.ts). */
  callerIdentity(): Promise<ApiOutcome<CallerIdentity>>;
  /** IAM SimulatePrincipalPolicy of one action on one resource for `sourceArn` (iam.ts). */
  simulate(input: SimulateInput): Promise<ApiOutcome<SimulationDecision>>;
  /** IAM GetRole of `roleName` with the session's credentials (iam.ts). */
  role(roleName: string): Promise<ApiOutcome<RoleInfo>>;
  /** Releases the SDK's sockets (and the worker thread, when there is one). */
  destroy(): void;
}

/** `openLocalChannel`'s result: the channel, or why the cloud checks cannot run. */
export type ChannelOutcome = { ok: true; value: ApiChannel } | ApiFailure;

/**
 * Opens the session (`openSession`: SDK, region, credentials, each bounded by `options.timeoutMs` ms) in this thread
 * and returns a channel on it. Never throws: a failure is the `ApiFailure` of `openSession`.
 */
export async function openLocalChannel(options: IotApiOptions): Promise<ChannelOutcome> {
  const ready = await openSession(options);
  if (!ready.ok) return ready;
  const { sdk, client, session } = ready.value;
  const { timeoutMs } = options;
  const commands = sdk as unknown as Record<string, new (input: object) => AnyCommand>;
  return {
    ok: true,
    value: {
      session,
      async call(operation, input) {
        const permission = IOT_API_PERMISSIONS[operation];
        try {
          const command = new commands[`${operation}Command`]!(input);
          const output = await withDeadline(
            client.send(command, { abortSignal: AbortSignal.timeout(timeoutMs) }),
            timeoutMs + 250,
            operation,
          );
          return { ok: true, output };
        } catch (err) {
          return classifyError(err, operation, permission);
        }
      },
      async credentials() {
        try {
          const c = await withDeadline(client.config.credentials(), timeoutMs, 'credential lookup');
          const value: SigningCredentials = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
          if (c.sessionToken) value.sessionToken = c.sessionToken;
          return { ok: true, value };
        } catch (err) {
          return classifyError(err, '', '');
        }
      },
      filterLogEvents: (query) => filterLogEvents(client, session.region, query, timeoutMs),
      callerIdentity: () => getCallerIdentity(client, session.region, timeoutMs),
      simulate: (input) => simulatePrincipalPolicy(client, session.region, timeoutMs, input),
      role: (roleName) => getRole(client, session.region, timeoutMs, roleName),
      destroy: () => client.destroy(),
    },
  };
}
