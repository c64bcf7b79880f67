/**
 * The shapes of the AWS IoT control-plane API as the cloud checks see it: options, the session (region, AWS
 * credential source, endpoint), outcomes (success or `ApiFailure`) and the answers of each operation.
 */
import type { IoTClient } from '@aws-sdk/client-iot';

/** The SDK module (the client and commands of `@aws-sdk/client-iot` that iot-sdk.ts names), loaded by `loadIotSdk`. */
export type Sdk = typeof import('./iot-sdk.js');
/** Any command the IoT client can send. */
export type AnyCommand = Parameters<IoTClient['send']>[0];

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
  /** Open the session in this thread even when the API worker exists (worker-channel.ts). */
  inThread?: boolean;
}

export interface CloudSession {
  region: string;
  regionFrom: 'target' | 'endpoint-name' | 'aws-config';
  /** Kind of AWS credential source: 'env', 'profile:<name>', 'sso', 'web-identity', 'process', 'container', … */
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
  /** The IAM permission the operation needs, e.g. iot:DescribeCertificate (from the AccessDenied message if given). */
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
  GetThingConnectivityData: 'iot:GetThingConnectivityData',
  GetV2LoggingOptions: 'iot:GetV2LoggingOptions',
  FilterLogEvents: 'logs:FilterLogEvents',
  DescribeAuthorizer: 'iot:DescribeAuthorizer',
  DescribeDefaultAuthorizer: 'iot:DescribeDefaultAuthorizer',
  TestInvokeAuthorizer: 'iot:TestInvokeAuthorizer',
  DescribeRoleAlias: 'iot:DescribeRoleAlias',
} as const;

/** A role alias (DescribeRoleAlias `roleAliasDescription`, field notes §6.4): what the credential provider uses. */
export interface RoleAliasInfo {
  roleAlias: string;
  /** `arn:<partition>:iot:<region>:<account>:rolealias/<alias>`; empty when AWS did not return it. */
  roleAliasArn: string;
  roleArn: string;
  /** 900-43200 seconds. */
  credentialDurationSeconds: number;
}

/** A custom authorizer (DescribeAuthorizer `authorizerDescription`, field notes §5.5). */
export interface AuthorizerInfo {
  authorizerName: string;
  authorizerArn?: string;
  authorizerFunctionArn?: string;
  tokenKeyName?: string;
  /** Key name → public key PEM. */
  tokenSigningPublicKeys: Record<string, string>;
  status: string;
  signingDisabled: boolean;
}

/** What TestInvokeAuthorizer sends: the same token, signature, MQTT and TLS context as the probe (field notes §5.5). */
export interface TestInvokeInput {
  authorizerName: string;
  token?: string;
  tokenSignature?: string;
  mqttContext?: { clientId?: string; username?: string; password?: string };
  tlsContext?: { serverName?: string };
}

/** TestInvokeAuthorizer's answer (field notes §5.5). */
export interface TestInvokeResult {
  isAuthenticated: boolean;
  principalId?: string;
  /** Policy documents (JSON text). */
  policyDocuments: string[];
  disconnectAfterInSeconds?: number;
  refreshAfterInSeconds?: number;
}
export type IotOperation = keyof typeof IOT_API_PERMISSIONS;

/** Compile-time guard: iot-sdk.ts exports `<Operation>Command` for every IoT operation (FilterLogEvents is Logs'). */
export type SdkCoversOperations =
  Sdk extends Record<`${Exclude<IotOperation, 'FilterLogEvents'>}Command`, unknown> ? true : never;
const sdkCoversOperations: SdkCoversOperations = true;
void sdkCoversOperations;

/** GetThingConnectivityData's answer (field notes §7.2); socket fields only when asked for and allowed. */
export interface ConnectivityInfo {
  thingName: string;
  connected: boolean;
  timestamp?: Date;
  /** `NONE` while connected, `UNKNOWN` if never connected, else a lifecycle reason (facts §3.3). */
  disconnectReason?: string;
  clientId?: string;
  sourceIp?: string;
  sourcePort?: number;
  keepAliveDuration?: number;
}

/** GetV2LoggingOptions' answer (field notes §7.6). */
export interface LoggingOptionsInfo {
  roleArn?: string;
  /** `ERROR`, `WARN`, `INFO`, `DEBUG` or `DISABLED`. */
  defaultLogLevel?: string;
  disableAllLogs: boolean;
}

/** One CloudWatch Logs event: its timestamp (ms epoch), stream and message text (an AWS IoT log entry as JSON). */
export interface LogEventInfo {
  timestamp: number;
  logStreamName?: string;
  message: string;
}

/** The FilterLogEvents query the cloud checks make. */
export interface LogQuery {
  logGroupName: string;
  /** ms epoch, inclusive. */
  startTime: number;
  endTime: number;
  /** CloudWatch Logs filter pattern, e.g. `{ $.clientId = "a" || $.clientId = "b" }`. */
  filterPattern: string;
}
