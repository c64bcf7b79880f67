/**
 * The custom-authorizer operations' shapes (field notes §5.5): DescribeAuthorizer's `authorizerDescription` and
 * TestInvokeAuthorizer's request and answer, mapped between the SDK and `AuthorizerInfo` / `TestInvoke*`.
 */
import type { TestInvokeAuthorizerCommandInput } from '@aws-sdk/client-iot';
import type { AuthorizerInfo, TestInvokeInput, TestInvokeResult } from './types.js';

function copyString<T extends object>(from: Record<string, unknown>, to: T, key: keyof T & string): void {
  const v = from[key];
  if (typeof v === 'string' && v) (to as Record<string, unknown>)[key] = v;
}

/** `authorizerDescription` of a DescribeAuthorizer / DescribeDefaultAuthorizer answer; only string keys are kept. */
export function authorizerInfoOf(output: unknown, authorizerName: string | undefined): AuthorizerInfo {
  const d = (output as { authorizerDescription?: Record<string, unknown> }).authorizerDescription ?? {};
  const keys = (d['tokenSigningPublicKeys'] ?? {}) as Record<string, unknown>;
  const info: AuthorizerInfo = {
    authorizerName: String(d['authorizerName'] ?? authorizerName ?? ''),
    tokenSigningPublicKeys: Object.fromEntries(
      Object.entries(keys).filter((e): e is [string, string] => typeof e[1] === 'string'),
    ),
    status: String(d['status'] ?? 'UNKNOWN'),
    signingDisabled: d['signingDisabled'] === true,
  };
  copyString(d, info, 'authorizerArn');
  copyString(d, info, 'authorizerFunctionArn');
  copyString(d, info, 'tokenKeyName');
  return info;
}

/** The SDK input of TestInvokeAuthorizer: the MQTT password as bytes (the SDK base64-encodes the blob). */
export function testInvokeRequest(input: TestInvokeInput): TestInvokeAuthorizerCommandInput {
  const { mqttContext, ...rest } = input;
  if (!mqttContext) return rest;
  return {
    ...rest,
    mqttContext: {
      ...(mqttContext.clientId !== undefined ? { clientId: mqttContext.clientId } : {}),
      ...(mqttContext.username !== undefined ? { username: mqttContext.username } : {}),
      ...(mqttContext.password !== undefined ? { password: Buffer.from(mqttContext.password) } : {}),
    },
  };
}

/** TestInvokeAuthorizer's answer; policy documents that are not strings are dropped. */
export function testInvokeResultOf(output: unknown): TestInvokeResult {
  const r = output as Record<string, unknown>;
  const docs = Array.isArray(r['policyDocuments']) ? (r['policyDocuments'] as unknown[]) : [];
  const num = (k: string): number | undefined => (typeof r[k] === 'number' ? r[k] : undefined);
  const disconnect = num('disconnectAfterInSeconds');
  const refresh = num('refreshAfterInSeconds');
  return {
    isAuthenticated: r['isAuthenticated'] === true,
    ...(typeof r['principalId'] === 'string' ? { principalId: r['principalId'] } : {}),
    policyDocuments: docs.filter((d): d is string => typeof d === 'string'),
    ...(disconnect !== undefined ? { disconnectAfterInSeconds: disconnect } : {}),
    ...(refresh !== undefined ? { refreshAfterInSeconds: refresh } : {}),
  };
}
