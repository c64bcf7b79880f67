/**
 * The AWS IoT control-plane API, for the cloud checks.
 *
 * - `@aws-sdk/client-iot` is imported on first use only (it is large and slow to load): a run without cloud checks
 *   never pays for it. Only `import type` from the SDK may appear at the top of this file.
 * - Credentials come from the SDK's standard chain (environment, shared config and credentials files with the
 *   Target's `profile`, SSO, web identity, process, container and instance roles). Nothing here ever reads, prints or
 *   stores a key: only the kind of source and, when the chain already knows it, the account id.
 * - Region: `Target.region`, else the region in the endpoint name, else the SDK's (AWS_REGION, profile).
 * - Endpoint: `Target.apiEndpoint` when set; otherwise the SDK applies `AWS_ENDPOINT_URL_IOT` / `AWS_ENDPOINT_URL` /
 *   `endpoint_url` from the config file by itself.
 * - Standard retry mode (throttling and transient errors retried with backoff), and one deadline per call
 *   (`Target.timeoutMs`, retries included): a call never hangs.
 * - Every call is memoized per run (one `IotApi` per check context), so concurrent checks share answers.
 * - Errors become data (`ApiFailure`): AccessDenied names the IAM permission that is missing.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { IoTClient, IoTClientConfig } from '@aws-sdk/client-iot';
import { errorCode } from '../errors.js';
import { regionFromEndpoint, type Target } from '../target.js';

type Sdk = typeof import('@aws-sdk/client-iot');
type AnyCommand = Parameters<IoTClient['send']>[0];

export interface IotApiOptions {
  region?: string;
  profile?: string;
  /** API endpoint URL override (the lab, a VPC endpoint); absent: the SDK's own resolution. */
  endpoint?: string;
  /** The device's data endpoint: its name gives the region when `region` is absent. */
  dataEndpoint?: string;
  /** Deadline of each call, retries included; also bounds the credential lookup. */
  timeoutMs: number;
  /** Attempts per call in standard retry mode (default 3). */
  maxAttempts?: number;
}

export interface CloudSession {
  region: string;
  regionFrom: 'target' | 'endpoint-name' | 'aws-config';
  /** Kind of credential source: 'env', 'profile:<name>', 'sso', 'web-identity', 'process', 'container', 'instance'... */
  source: string;
  profile?: string;
  /** Only when the credential chain already knows it (AWS_ACCOUNT_ID, aws_account_id, SSO). */
  accountId?: string;
  /** The API endpoint URL when it is overridden, and by what. */
  endpointUrl?: string;
  endpointFrom?: 'target' | 'AWS_ENDPOINT_URL_IOT' | 'AWS_ENDPOINT_URL';
  /** Observations worth showing (e.g. both AWS_PROFILE and static keys set). Never secrets. */
  notes: string[];
}

export type ApiFailureKind =
  | 'no-credentials'
  | 'no-region'
  | 'sdk-unavailable'
  | 'access-denied'
  | 'not-found'
  | 'unreachable'
  | 'throttled'
  | 'credentials-rejected'
  | 'service-error';

export interface ApiFailure {
  ok: false;
  kind: ApiFailureKind;
  /** API operation, e.g. DescribeCertificate ('' for the credential lookup). */
  operation: string;
  /** The IAM permission the operation needs, e.g. iot:DescribeCertificate (from the AccessDenied message when given). */
  permission: string;
  errorName: string;
  /** One line, at most 300 characters. Never contains credentials. */
  message: string;
  httpStatus?: number;
}

export interface ApiSuccess<T> {
  ok: true;
  value: T;
  operation: string;
  /** HTTP attempts the SDK made (more than 1 when it retried), summed over pages. */
  attempts: number;
  durationMs: number;
}

export type ApiOutcome<T> = ApiSuccess<T> | ApiFailure;
export type SessionOutcome = { ok: true; value: CloudSession } | ApiFailure;

export interface CertificateInfo {
  certificateArn: string;
  certificateId: string;
  status: string;
  certificateMode?: string;
  caCertificateId?: string;
  ownedBy?: string;
  previousOwnedBy?: string;
  creationDate?: Date;
  lastModifiedDate?: Date;
  validity?: { notBefore?: Date; notAfter?: Date };
  certificatePem?: string;
}

export interface CaCertificateInfo {
  certificateArn?: string;
  certificateId: string;
  status: string;
  autoRegistrationStatus?: string;
  certificateMode?: string;
  ownedBy?: string;
  validity?: { notBefore?: Date; notAfter?: Date };
}

export interface PolicyRefInfo {
  policyName: string;
  policyArn?: string;
}

export interface PolicyDocumentInfo extends PolicyRefInfo {
  /** The policy JSON as AWS returns it (text). */
  policyDocument: string;
}

export interface ThingInfo {
  thingName: string;
  thingTypeName?: string;
  attributes: Record<string, string>;
}

export type AuthActionType = 'CONNECT' | 'PUBLISH' | 'SUBSCRIBE' | 'RECEIVE';

export interface AuthInfoInput {
  actionType: AuthActionType;
  resources: string[];
}

export interface AuthResultInfo {
  actionType: string;
  resources: string[];
  decision: string;
  allowedBy: string[];
  explicitDenyBy: string[];
  implicitDenyBy: string[];
  missingContextValues: string[];
}

/** IAM permission of every operation used here. */
export const IOT_API_PERMISSIONS = {
  DescribeEndpoint: 'iot:DescribeEndpoint',
  DescribeCertificate: 'iot:DescribeCertificate',
  DescribeCACertificate: 'iot:DescribeCACertificate',
  ListAttachedPolicies: 'iot:ListAttachedPolicies',
  GetEffectivePolicies: 'iot:GetEffectivePolicies',
  GetPolicy: 'iot:GetPolicy',
  ListPrincipalThings: 'iot:ListPrincipalThings',
  ListThingGroupsForThing: 'iot:ListThingGroupsForThing',
  DescribeThing: 'iot:DescribeThing',
  TestAuthorization: 'iot:TestAuthorization',
} as const;
export type IotOperation = keyof typeof IOT_API_PERMISSIONS;

const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedException', 'UnauthorizedOperation']);
const CREDENTIALS_REJECTED = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'ExpiredTokenException',
  'ExpiredToken',
  'MissingAuthenticationTokenException',
  'InvalidAccessKeyId',
]);
const THROTTLED = new Set(['ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded', 'Throttling', 'LimitExceededException']);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);
const NETWORK_NAMES = new Set(['TimeoutError', 'AbortError', 'RequestTimeout', 'RequestTimeoutException', 'DeadlineError']);

function nonEmptyFile(path: string): boolean {
  try {
    return statSync(path).size > 0;
  } catch {
    return false;
  }
}

/** True on an EC2 instance (where an instance role may provide credentials), read from the DMI/hypervisor ids. */
function onEc2(): boolean {
  for (const [path, re] of [
    ['/sys/devices/virtual/dmi/id/sys_vendor', /amazon/i],
    ['/sys/devices/virtual/dmi/id/board_vendor', /amazon/i],
    ['/sys/hypervisor/uuid', /^ec2/i],
  ] as const) {
    try {
      if (re.test(readFileSync(path, 'utf8'))) return true;
    } catch {
      // not there: try the next one
    }
  }
  return false;
}

/**
 * Where AWS credentials could come from, decided without loading the SDK: environment keys, a profile, the shared
 * config/credentials files, web identity or container credentials, or an EC2 instance role. Undefined: there are
 * none, and the cloud checks skip without paying for the SDK or waiting on the instance metadata address.
 */
export function credentialSourceHint(target: Pick<Target, 'profile'>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['AWS_ACCESS_KEY_ID'] && env['AWS_SECRET_ACCESS_KEY']) return 'env';
  if (target.profile || env['AWS_PROFILE']) return 'profile';
  if (env['AWS_WEB_IDENTITY_TOKEN_FILE']) return 'web-identity';
  if (env['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'] || env['AWS_CONTAINER_CREDENTIALS_FULL_URI']) return 'container';
  const aws = join(homedir(), '.aws');
  if (nonEmptyFile(env['AWS_SHARED_CREDENTIALS_FILE'] ?? join(aws, 'credentials')) || nonEmptyFile(env['AWS_CONFIG_FILE'] ?? join(aws, 'config'))) {
    return 'shared-files';
  }
  if (env['AWS_EC2_METADATA_DISABLED'] !== 'true' && onEc2()) return 'instance';
  return undefined;
}

let sdkImport: Promise<Sdk> | undefined;
/** Import the SDK once. The run calls this before the routes start, so its parse time never lands in their timings. */
export function loadIotSdk(): Promise<Sdk> {
  // The SDK warns on every Node 20 start that future releases will need Node 22: noise on a diagnostic tool's stderr.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  // Off EC2 there is no instance role: never let the credential chain wait on the metadata address.
  if (!onEc2()) process.env['AWS_EC2_METADATA_DISABLED'] ??= 'true';
  sdkImport ??= import('@aws-sdk/client-iot');
  return sdkImport;
}

/** Longest a credential chain may take is the call deadline; IMDS alone can take seconds when it is absent. */
class DeadlineError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

/** The validity window of a certificate description, with the dates the SDK parsed. */
function validityOf(d: Record<string, unknown>): { notBefore?: Date; notAfter?: Date } | undefined {
  const v = d['validity'] as { notBefore?: unknown; notAfter?: unknown } | undefined;
  if (!v) return undefined;
  return {
    ...(v.notBefore instanceof Date ? { notBefore: v.notBefore } : {}),
    ...(v.notAfter instanceof Date ? { notAfter: v.notAfter } : {}),
  };
}

function oneLine(text: string): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > 300 ? `${s.slice(0, 297)}...` : s;
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** Maps an SDK or network error to a failure kind. Exported for unit tests. */
export function classifyError(err: unknown, operation: string, permission: string): ApiFailure {
  const e = (err ?? {}) as ErrorLike;
  const errorName = typeof e.name === 'string' ? e.name : 'Error';
  const message = oneLine(typeof e.message === 'string' ? e.message : String(err));
  const httpStatus = e.$metadata?.httpStatusCode;
  const code = errorCode(e);
  const base = { ok: false as const, operation, permission, errorName, message, ...(httpStatus ? { httpStatus } : {}) };
  if (CREDENTIALS_REJECTED.has(errorName)) return { ...base, kind: 'credentials-rejected' };
  if (ACCESS_DENIED.has(errorName) || httpStatus === 403) {
    const named = /perform:\s*([A-Za-z0-9-]+:[A-Za-z0-9*]+)/.exec(message)?.[1];
    return { ...base, kind: 'access-denied', permission: named ?? permission };
  }
  if (errorName === 'ResourceNotFoundException') return { ...base, kind: 'not-found' };
  if (THROTTLED.has(errorName) || httpStatus === 429) return { ...base, kind: 'throttled' };
  if (errorName === 'CredentialsProviderError') return { ...base, kind: 'no-credentials' };
  if (NETWORK_NAMES.has(errorName) || (code && NETWORK_CODES.has(code)) || (!httpStatus && /ECONN|ENOTFOUND|EAI_AGAIN|socket hang up|timed? ?out/i.test(message))) {
    return { ...base, kind: 'unreachable', ...(code && !message.includes(code) ? { message: oneLine(`${code}: ${message}`) } : {}) };
  }
  return { ...base, kind: 'service-error' };
}

/** The account id in an IAM/STS ARN quoted by an AccessDenied message (the caller's account is the one queried). */
function accountFromMessage(message: string): string | undefined {
  return /arn:aws[\w-]*:(?:iam|sts)::(\d{12}):/.exec(message)?.[1];
}

/** Credential source kind from the SDK's credential feature markers (never the credentials themselves). */
function sourceKind(sourceMarks: Record<string, unknown> | undefined, profile: string): string {
  const marks = new Set(Object.keys(sourceMarks ?? {}));
  if (marks.has('CREDENTIALS_PROFILE_SSO') || marks.has('CREDENTIALS_PROFILE_SSO_LEGACY') || marks.has('CREDENTIALS_SSO') || marks.has('CREDENTIALS_SSO_LEGACY')) {
    return 'sso';
  }
  if (
    marks.has('CREDENTIALS_PROFILE') ||
    marks.has('CREDENTIALS_PROFILE_SOURCE_PROFILE') ||
    marks.has('CREDENTIALS_PROFILE_NAMED_PROVIDER') ||
    marks.has('CREDENTIALS_PROFILE_PROCESS') ||
    marks.has('CREDENTIALS_PROFILE_STS_WEB_ID_TOKEN') ||
    marks.has('CREDENTIALS_PROFILE_LOGIN')
  ) {
    return `profile:${profile}`;
  }
  if (marks.has('CREDENTIALS_ENV_VARS')) return 'env';
  if (marks.has('CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN')) return 'web-identity';
  if (marks.has('CREDENTIALS_PROCESS')) return 'process';
  if (marks.has('CREDENTIALS_HTTP')) return 'container';
  if (marks.has('CREDENTIALS_LOGIN')) return 'login';
  if (marks.has('CREDENTIALS_CODE')) return 'code';
  if (process.env['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'] || process.env['AWS_CONTAINER_CREDENTIALS_FULL_URI']) return 'container';
  return 'instance';
}

interface Ready {
  sdk: Sdk;
  client: IoTClient;
  session: CloudSession;
}

export class IotApi {
  private readonly cache = new Map<string, Promise<unknown>>();
  private ready: Promise<{ ok: true; value: Ready } | ApiFailure> | undefined;
  private learnedAccountId: string | undefined;

  constructor(readonly options: IotApiOptions) {}

  /** Memoize any derived computation for the lifetime of this API object (one run). */
  memo<T>(key: string, compute: () => Promise<T>): Promise<T> {
    let hit = this.cache.get(key) as Promise<T> | undefined;
    if (!hit) this.cache.set(key, (hit = compute()));
    return hit;
  }

  /** Region, credential source and endpoint, or why the cloud checks cannot run. Memoized. */
  async session(): Promise<SessionOutcome> {
    const r = await this.prepare();
    return r.ok ? { ok: true, value: r.value.session } : r;
  }

  /** Account id when known without an extra call: from the credential chain or from an AccessDenied message. */
  knownAccountId(session?: CloudSession): string | undefined {
    return session?.accountId ?? this.learnedAccountId;
  }

  /** Releases the SDK's sockets. The memoized answers stay readable. */
  destroy(): void {
    void this.ready?.then((r) => {
      if (r.ok) r.value.client.destroy();
    });
  }

  private prepare(): Promise<{ ok: true; value: Ready } | ApiFailure> {
    this.ready ??= this.build();
    return this.ready;
  }

  private async build(): Promise<{ ok: true; value: Ready } | ApiFailure> {
    const fail = (kind: ApiFailureKind, errorName: string, message: string): ApiFailure => ({
      ok: false, kind, operation: '', permission: '', errorName, message: oneLine(message),
    });
    if (!credentialSourceHint(this.options)) {
      return fail(
        'no-credentials',
        'NoCredentials',
        'no AWS credentials found (no AWS_ACCESS_KEY_ID, profile, shared config or credentials file, web identity or container credentials, and not an EC2 instance)',
      );
    }
    let sdk: Sdk;
    try {
      sdk = await loadIotSdk();
    } catch (err) {
      return fail('sdk-unavailable', 'ImportError', `@aws-sdk/client-iot could not be loaded: ${err instanceof Error ? err.message : String(err)}`);
    }
    const { timeoutMs } = this.options;
    const notes: string[] = [];
    const logger = {
      debug: (): void => undefined,
      info: (): void => undefined,
      warn: (...args: unknown[]): void => {
        const text = args.map(String).join(' ');
        if (/Multiple credential sources/i.test(text)) {
          notes.push('AWS_PROFILE and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are both set: the SDK uses the profile');
        }
      },
      error: (): void => undefined,
    };

    const profile = this.options.profile ?? process.env['AWS_PROFILE'] ?? 'default';
    let region = this.options.region;
    let regionFrom: CloudSession['regionFrom'] = 'target';
    if (!region && this.options.dataEndpoint) {
      region = regionFromEndpoint(this.options.dataEndpoint);
      regionFrom = 'endpoint-name';
    }
    const config: IoTClientConfig = {
      retryMode: 'standard',
      maxAttempts: this.options.maxAttempts ?? 3,
      requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
      logger,
      ...(region ? { region } : {}),
      ...(this.options.profile ? { profile: this.options.profile } : {}),
      ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
    };
    let client: IoTClient;
    try {
      client = new sdk.IoTClient(config);
    } catch (err) {
      return fail('service-error', 'ClientError', err instanceof Error ? err.message : String(err));
    }
    if (!region) {
      try {
        region = await withDeadline(client.config.region(), timeoutMs, 'region lookup');
        regionFrom = 'aws-config';
      } catch {
        region = undefined;
      }
      if (!region) {
        client.destroy();
        return fail('no-region', 'RegionMissing', 'no AWS region: none given (--region), none in the endpoint name, none in AWS_REGION or the profile');
      }
    }

    let sourceMarks: Record<string, unknown> | undefined;
    let accountId: string | undefined;
    try {
      const identity = await withDeadline(client.config.credentials(), timeoutMs, 'the AWS credential lookup');
      sourceMarks = (identity as { $source?: Record<string, unknown> }).$source;
      accountId = typeof identity.accountId === 'string' && identity.accountId ? identity.accountId : undefined;
    } catch (err) {
      client.destroy();
      const name = err instanceof Error ? err.name : 'Error';
      const raw = err instanceof Error ? err.message : String(err);
      const reason = !/Could not load credentials from any providers/i.test(raw)
        ? raw
        : this.options.profile || process.env['AWS_PROFILE']
          ? `no AWS credentials found for profile "${profile}" (not in the shared config or credentials file, or without usable credentials)`
          : 'no AWS credentials found (environment, shared config and credentials files, SSO, container or instance role)';
      return fail('no-credentials', name, reason);
    }

    const session: CloudSession = {
      region,
      regionFrom,
      source: sourceKind(sourceMarks, profile),
      notes,
    };
    if (this.options.profile || process.env['AWS_PROFILE']) session.profile = profile;
    if (accountId) session.accountId = accountId;
    if (this.options.endpoint) {
      session.endpointUrl = this.options.endpoint;
      session.endpointFrom = 'target';
    } else if (process.env['AWS_ENDPOINT_URL_IOT'] && process.env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'] !== 'true') {
      session.endpointUrl = process.env['AWS_ENDPOINT_URL_IOT'];
      session.endpointFrom = 'AWS_ENDPOINT_URL_IOT';
    } else if (process.env['AWS_ENDPOINT_URL'] && process.env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'] !== 'true') {
      session.endpointUrl = process.env['AWS_ENDPOINT_URL'];
      session.endpointFrom = 'AWS_ENDPOINT_URL';
    }
    return { ok: true, value: { sdk, client, session } };
  }

  /** One SDK call with the deadline, mapped to an outcome. Not memoized (callers memoize whole operations). */
  private async send<T>(
    operation: IotOperation,
    build: (sdk: Sdk) => object,
    map: (output: unknown) => T,
  ): Promise<ApiOutcome<T>> {
    const permission = IOT_API_PERMISSIONS[operation];
    const ready = await this.prepare();
    if (!ready.ok) return { ...ready, operation, permission };
    const { sdk, client } = ready.value;
    const { timeoutMs } = this.options;
    const started = performance.now();
    try {
      const output = await withDeadline(
        client.send(build(sdk) as AnyCommand, { abortSignal: AbortSignal.timeout(timeoutMs) }),
        timeoutMs + 250,
        operation,
      );
      const attempts = (output as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
      return { ok: true, value: map(output), operation, attempts, durationMs: Math.round(performance.now() - started) };
    } catch (err) {
      const failure = classifyError(err, operation, permission);
      if (failure.kind === 'unreachable' && /abort|deadline|did not finish/i.test(`${failure.errorName} ${failure.message}`)) {
        failure.message = `no answer within ${timeoutMs} ms`;
      }
      if (failure.kind === 'access-denied') this.learnedAccountId ??= accountFromMessage(failure.message);
      return failure;
    }
  }

  private cached<T>(key: string, run: () => Promise<ApiOutcome<T>>): Promise<ApiOutcome<T>> {
    return this.memo(`api:${key}`, run);
  }

  describeEndpoint(endpointType = 'iot:Data-ATS'): Promise<ApiOutcome<string>> {
    return this.cached(`DescribeEndpoint:${endpointType}`, () =>
      this.send(
        'DescribeEndpoint',
        (sdk) => new sdk.DescribeEndpointCommand({ endpointType }),
        (o) => String((o as { endpointAddress?: string }).endpointAddress ?? ''),
      ),
    );
  }

  describeCertificate(certificateId: string): Promise<ApiOutcome<CertificateInfo>> {
    return this.cached(`DescribeCertificate:${certificateId}`, () =>
      this.send(
        'DescribeCertificate',
        (sdk) => new sdk.DescribeCertificateCommand({ certificateId }),
        (o) => {
          const d = (o as { certificateDescription?: Record<string, unknown> }).certificateDescription ?? {};
          const info: CertificateInfo = {
            certificateArn: String(d['certificateArn'] ?? ''),
            certificateId: String(d['certificateId'] ?? certificateId),
            status: String(d['status'] ?? 'UNKNOWN'),
          };
          copyString(d, info, 'certificateMode');
          copyString(d, info, 'caCertificateId');
          copyString(d, info, 'ownedBy');
          copyString(d, info, 'previousOwnedBy');
          copyString(d, info, 'certificatePem');
          if (d['creationDate'] instanceof Date) info.creationDate = d['creationDate'];
          if (d['lastModifiedDate'] instanceof Date) info.lastModifiedDate = d['lastModifiedDate'];
          const validity = validityOf(d);
          if (validity) info.validity = validity;
          return info;
        },
      ),
    );
  }

  describeCACertificate(certificateId: string): Promise<ApiOutcome<CaCertificateInfo>> {
    return this.cached(`DescribeCACertificate:${certificateId}`, () =>
      this.send(
        'DescribeCACertificate',
        (sdk) => new sdk.DescribeCACertificateCommand({ certificateId }),
        (o) => {
          const d = (o as { certificateDescription?: Record<string, unknown> }).certificateDescription ?? {};
          const info: CaCertificateInfo = { certificateId, status: String(d['status'] ?? 'UNKNOWN') };
          copyString(d, info, 'certificateArn');
          copyString(d, info, 'autoRegistrationStatus');
          copyString(d, info, 'certificateMode');
          copyString(d, info, 'ownedBy');
          const validity = validityOf(d);
          if (validity) info.validity = validity;
          return info;
        },
      ),
    );
  }

  /** Every page (nextMarker) of the policies attached to a certificate or thing-group ARN. */
  listAttachedPolicies(target: string, recursive = false): Promise<ApiOutcome<PolicyRefInfo[]>> {
    return this.cached(`ListAttachedPolicies:${target}:${recursive}`, () =>
      this.paged('ListAttachedPolicies', (sdk, marker) =>
        new sdk.ListAttachedPoliciesCommand({ target, recursive, pageSize: 250, ...(marker ? { marker } : {}) }),
        (o) => {
          const out = o as { policies?: { policyName?: string; policyArn?: string }[]; nextMarker?: string };
          return { items: (out.policies ?? []).map(policyRef), next: out.nextMarker };
        },
      ),
    );
  }

  /** Policies that take effect for the principal; with a thing name, also those of the thing's groups. */
  getEffectivePolicies(principal: string, thingName?: string): Promise<ApiOutcome<PolicyDocumentInfo[]>> {
    return this.cached(`GetEffectivePolicies:${principal}:${thingName ?? ''}`, () =>
      this.send(
        'GetEffectivePolicies',
        (sdk) => new sdk.GetEffectivePoliciesCommand({ principal, ...(thingName ? { thingName } : {}) }),
        (o) =>
          ((o as { effectivePolicies?: { policyName?: string; policyArn?: string; policyDocument?: string }[] }).effectivePolicies ?? []).map((p) => ({
            ...policyRef(p),
            policyDocument: String(p.policyDocument ?? ''),
          })),
      ),
    );
  }

  getPolicy(policyName: string): Promise<ApiOutcome<PolicyDocumentInfo>> {
    return this.cached(`GetPolicy:${policyName}`, () =>
      this.send(
        'GetPolicy',
        (sdk) => new sdk.GetPolicyCommand({ policyName }),
        (o) => {
          const p = o as { policyName?: string; policyArn?: string; policyDocument?: string };
          return { ...policyRef({ ...p, policyName: p.policyName ?? policyName }), policyDocument: String(p.policyDocument ?? '') };
        },
      ),
    );
  }

  /** Every page (nextToken) of the things the principal is attached to. */
  listPrincipalThings(principal: string): Promise<ApiOutcome<string[]>> {
    return this.cached(`ListPrincipalThings:${principal}`, () =>
      this.paged('ListPrincipalThings', (sdk, nextToken) =>
        new sdk.ListPrincipalThingsCommand({ principal, maxResults: 250, ...(nextToken ? { nextToken } : {}) }),
        (o) => {
          const out = o as { things?: string[]; nextToken?: string };
          return { items: out.things ?? [], next: out.nextToken };
        },
      ),
    );
  }

  listThingGroupsForThing(thingName: string): Promise<ApiOutcome<{ groupName: string; groupArn?: string }[]>> {
    return this.cached(`ListThingGroupsForThing:${thingName}`, () =>
      this.paged('ListThingGroupsForThing', (sdk, nextToken) =>
        new sdk.ListThingGroupsForThingCommand({ thingName, maxResults: 250, ...(nextToken ? { nextToken } : {}) }),
        (o) => {
          const out = o as { thingGroups?: { groupName?: string; groupArn?: string }[]; nextToken?: string };
          return {
            items: (out.thingGroups ?? []).map((g) => ({ groupName: String(g.groupName ?? ''), ...(g.groupArn ? { groupArn: g.groupArn } : {}) })),
            next: out.nextToken,
          };
        },
      ),
    );
  }

  describeThing(thingName: string): Promise<ApiOutcome<ThingInfo>> {
    return this.cached(`DescribeThing:${thingName}`, () =>
      this.send(
        'DescribeThing',
        (sdk) => new sdk.DescribeThingCommand({ thingName }),
        (o) => {
          const t = o as { thingName?: string; thingTypeName?: string; attributes?: Record<string, string> };
          return {
            thingName: t.thingName ?? thingName,
            ...(t.thingTypeName ? { thingTypeName: t.thingTypeName } : {}),
            attributes: { ...(t.attributes ?? {}) },
          };
        },
      ),
    );
  }

  testAuthorization(principal: string, clientId: string | undefined, authInfos: AuthInfoInput[]): Promise<ApiOutcome<AuthResultInfo[]>> {
    return this.cached(`TestAuthorization:${principal}:${clientId ?? ''}:${JSON.stringify(authInfos)}`, () =>
      this.send(
        'TestAuthorization',
        (sdk) => new sdk.TestAuthorizationCommand({ principal, authInfos, ...(clientId !== undefined ? { clientId } : {}) }),
        (o) => {
          const names = (list: { policyName?: string }[] | undefined): string[] => (list ?? []).map((p) => String(p.policyName ?? '')).filter(Boolean);
          type Raw = {
            authInfo?: { actionType?: string; resources?: string[] };
            allowed?: { policies?: { policyName?: string }[] };
            denied?: { implicitDeny?: { policies?: { policyName?: string }[] }; explicitDeny?: { policies?: { policyName?: string }[] } };
            authDecision?: string;
            missingContextValues?: string[];
          };
          return ((o as { authResults?: Raw[] }).authResults ?? []).map((r) => ({
            actionType: String(r.authInfo?.actionType ?? ''),
            resources: r.authInfo?.resources ?? [],
            decision: String(r.authDecision ?? 'IMPLICIT_DENY'),
            allowedBy: names(r.allowed?.policies),
            explicitDenyBy: names(r.denied?.explicitDeny?.policies),
            implicitDenyBy: names(r.denied?.implicitDeny?.policies),
            missingContextValues: r.missingContextValues ?? [],
          }));
        },
      ),
    );
  }

  private async paged<T>(
    operation: IotOperation,
    build: (sdk: Sdk, token: string | undefined) => object,
    read: (output: unknown) => { items: T[]; next: string | undefined },
  ): Promise<ApiOutcome<T[]>> {
    const items: T[] = [];
    let token: string | undefined;
    let attempts = 0;
    let durationMs = 0;
    const seen = new Set<string>();
    for (let page = 0; page < 200; page += 1) {
      const out = await this.send(operation, (sdk) => build(sdk, token), read);
      if (!out.ok) return out;
      attempts += out.attempts;
      durationMs += out.durationMs;
      items.push(...out.value.items);
      token = out.value.next || undefined;
      if (!token || seen.has(token)) break;
      seen.add(token);
    }
    return { ok: true, value: items, operation, attempts, durationMs };
  }
}

function copyString<T extends object>(from: Record<string, unknown>, to: T, key: keyof T & string): void {
  const v = from[key];
  if (typeof v === 'string' && v) (to as Record<string, unknown>)[key] = v;
}

function policyRef(p: { policyName?: string | undefined; policyArn?: string | undefined }): PolicyRefInfo {
  return { policyName: String(p.policyName ?? ''), ...(p.policyArn ? { policyArn: p.policyArn } : {}) };
}

/** Options for the API from a run's Target. */
export function iotApiOptions(target: Pick<Target, 'region' | 'profile' | 'apiEndpoint' | 'endpoint' | 'timeoutMs'>): IotApiOptions {
  return {
    timeoutMs: target.timeoutMs,
    ...(target.region ? { region: target.region } : {}),
    ...(target.profile ? { profile: target.profile } : {}),
    ...(target.apiEndpoint ? { endpoint: target.apiEndpoint } : {}),
    ...(target.endpoint ? { dataEndpoint: target.endpoint } : {}),
  };
}

const perRun = new WeakMap<object, IotApi>();

/**
 * The API of one run: one object per check context (built once per run), so the SDK client, the credential lookup
 * and every answer are shared by the cloud checks of that run and of no other.
 */
export function iotApiFor(run: { target: Target }): IotApi {
  let api = perRun.get(run);
  if (!api) perRun.set(run, (api = new IotApi(iotApiOptions(run.target))));
  return api;
}

/** Releases the SDK client of a run (its keep-alive sockets), if one was made. Optional: idle sockets do not keep the process alive. */
export function closeIotApi(run: object): void {
  perRun.get(run)?.destroy();
  perRun.delete(run);
}
