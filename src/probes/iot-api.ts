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
 *
 * The code lives in `src/probes/iot-api/` (types, AWS credentials, failures, session, client, per-run registry, STS/IAM); this module is its
 * public surface, so importers need not know the split.
 */
export type * from './iot-api/types.js';
export { IOT_API_PERMISSIONS } from './iot-api/types.js';
export { credentialSourceHint, loadIotSdk } from './iot-api/aws-credentials.js';
export { classifyError } from './iot-api/failures.js';
export { policySourceArn, type CallerIdentity, type RoleInfo, type SimulationDecision } from './iot-api/iam.js';
export { IotApi } from './iot-api/client.js';
export { closeIotApi, iotApiFor, iotApiOptions, warmIotApi } from './iot-api/per-run.js';
