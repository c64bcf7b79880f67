/**
 * `cloud.custom-authorizer`: with AWS credentials, the custom authorizer the device names is asked about with the very
 * token, signature, client id and SNI the `mqtt-custom-auth-443` probe sent (field notes §5.5): DescribeAuthorizer
 * (or DescribeDefaultAuthorizer) for existence, status, `tokenKeyName` and the signing keys; the signature verified
 * here against those keys (RSA-SHA256 over the token, field notes §5.3); then TestInvokeAuthorizer for the Lambda's
 * answer, and its policies evaluated for iot:Connect on the probe's client id (facts §7). So "the authorizer said no"
 * and "the network changed the request" (the authorizer says yes to the same request) are told apart.
 * The token, signature and password are sent to AWS only; no result carries them.
 */
import { createPublicKey, verify } from 'node:crypto';
import { ROUTES, type Evidence } from '../src/model/index.js';
import { buildResult, type Outcome } from '../src/model/result.js';
import { evaluate, resourceArn } from '../src/policy/index.js';
import type { AuthorizerInfo, TestInvokeResult } from '../src/probes/iot-api.js';
import { customAuthUsername } from '../src/auth-target.js';
import type { CustomAuthTarget } from '../src/target.js';
import { cloudCheck, CLOUD_COMMON_CODES } from './cloud-check-util.js';
import { awsIot } from './cloud-cli-util.js';
import { failureOutcome } from './cloud-failure-util.js';
import { routeClientId } from './route-identity.js';
import type { CheckContext, DoctorCheck } from './types.js';

const META = {
  id: 'cloud.custom-authorizer',
  title: "The custom authorizer exists, verifies the token's signature and authenticates the device",
};

/** Every code cloud.custom-authorizer reports. */
export const CLOUD_CUSTOM_AUTHORIZER_CODES = [
  'AUTHORIZER_AUTHENTICATES',
  'AUTHORIZER_MISSING',
  'AUTHORIZER_INACTIVE',
  'AUTHORIZER_TOKEN_KEY_MISMATCH',
  'AUTHORIZER_SIGNATURE_MISMATCH',
  'AUTHORIZER_REFUSES',
  'AUTHORIZER_DENIES_CONNECT',
  ...CLOUD_COMMON_CODES,
] as const;

/** True when `signature` (base64) is an RSA-SHA256 signature of `token` by one of `keys` (PEM), field notes §5.3. */
export function tokenSignatureVerifies(token: string, signature: string, keys: Record<string, string>): boolean {
  const sig = Buffer.from(signature, 'base64');
  return Object.values(keys).some((pem) => {
    try {
      return verify('sha256', Buffer.from(token, 'utf8'), createPublicKey(pem), sig);
    } catch {
      return false;
    }
  });
}

/** What DescribeAuthorizer alone decides: missing signing inputs, another token key, a signature that fails. */
function describeVerdict(a: AuthorizerInfo, c: CustomAuthTarget, evidence: Evidence): Outcome | undefined {
  const fail = (code: Outcome['code'], summary: string, hint: string): Outcome => ({
    status: 'fail',
    code,
    summary,
    evidence,
    hint,
  });
  if (a.status !== 'ACTIVE') {
    return fail(
      'AUTHORIZER_INACTIVE',
      `authorizer ${a.authorizerName} is ${a.status}`,
      'Activate it: aws iot update-authorizer --authorizer-name <name> --status ACTIVE',
    );
  }
  if (a.signingDisabled) return undefined;
  if (c.tokenKeyName !== a.tokenKeyName) {
    return fail(
      'AUTHORIZER_TOKEN_KEY_MISMATCH',
      `the token travels under ${c.tokenKeyName ?? '(no key)'}, but authorizer ${a.authorizerName} reads it from ${a.tokenKeyName ?? '?'}`,
      `Send the token as ${a.tokenKeyName ?? "the authorizer's tokenKeyName"}=<token> in the MQTT username.`,
    );
  }
  if (c.token === undefined || c.signature === undefined) {
    return fail(
      'AUTHORIZER_SIGNATURE_MISMATCH',
      `authorizer ${a.authorizerName} has token signing enabled, but no ${c.token === undefined ? 'token' : 'signature'} was sent`,
      'Give --token with --token-signature or --token-signing-key (signing is on unless the authorizer was created with signingDisabled).',
    );
  }
  if (!tokenSignatureVerifies(c.token, c.signature, a.tokenSigningPublicKeys)) {
    return fail(
      'AUTHORIZER_SIGNATURE_MISMATCH',
      `the token signature does not verify with any of the ${Object.keys(a.tokenSigningPublicKeys).length} signing keys of authorizer ${a.authorizerName}`,
      'Sign the token with the private key whose public half is in tokenSigningPublicKeys (openssl dgst -sha256 -sign key.pem | base64), and URL-encode the signature in the username.',
    );
  }
  return undefined;
}

/** The verdict of TestInvokeAuthorizer's answer: refused, authenticated without iot:Connect, or authenticated. */
function invokeVerdict(ctx: CheckContext, a: AuthorizerInfo, r: TestInvokeResult, evidence: Evidence): Outcome {
  const e = { ...evidence, isAuthenticated: r.isAuthenticated, policyDocuments: r.policyDocuments.length };
  if (!r.isAuthenticated) {
    return {
      status: 'fail',
      code: 'AUTHORIZER_REFUSES',
      summary: `TestInvokeAuthorizer with the probe's token: authorizer ${a.authorizerName} answered isAuthenticated=false`,
      evidence: e,
      hint: "The authorizer's Lambda does not accept these credentials: check the token (expired, revoked, wrong tenant) and the Lambda's logs.",
    };
  }
  const clientId = routeClientId(ctx.target, ROUTES['mqtt-custom-auth-443']!);
  const account = /^arn:aws[a-z-]*:iot:[^:]*:(\d{12}):/.exec(a.authorizerArn ?? '')?.[1] ?? '*';
  const region = ctx.target.region ?? '*';
  const policies = r.policyDocuments.map((document, i) => ({ policyName: `returned-policy-${i + 1}`, document }));
  const decision = evaluate(policies, 'iot:Connect', resourceArn('client', clientId, region, account), {
    clientId,
  });
  const withPrincipal = { ...e, ...(r.principalId ? { principalId: r.principalId } : {}), clientId };
  if (decision.decision !== 'ALLOWED') {
    return {
      status: 'fail',
      code: 'AUTHORIZER_DENIES_CONNECT',
      summary: `the authorizer authenticates the device, but its policies do not allow iot:Connect on client/${clientId} (${decision.decision})`,
      evidence: withPrincipal,
      hint: 'Return a policy document from the Lambda that allows iot:Connect on this client id.',
    };
  }
  return {
    status: 'pass',
    code: 'AUTHORIZER_AUTHENTICATES',
    summary: `authorizer ${a.authorizerName} authenticates the probe's credentials${r.principalId ? ` as ${r.principalId}` : ''} and allows iot:Connect on client/${clientId}`,
    evidence: withPrincipal,
  };
}

/** cloud.custom-authorizer: DescribeAuthorizer, the signature check, TestInvokeAuthorizer (see the file comment). */
export const cloudCustomAuthorizerCheck: DoctorCheck = cloudCheck(META, async (ctx, started, cloud) => {
  const c = ctx.target.customAuth!;
  const named = c.authorizer !== undefined;
  const reproduce = named
    ? awsIot(ctx.target, cloud.session, 'describe-authorizer', [['--authorizer-name', c.authorizer!]])
    : awsIot(ctx.target, cloud.session, 'describe-default-authorizer', []);
  const described = await cloud.api.describeAuthorizer(c.authorizer);
  const base: Evidence = {
    authorizer: c.authorizer ?? '(account default)',
    ...(c.tokenKeyName ? { tokenKeyName: c.tokenKeyName } : {}),
  };
  if (!described.ok) {
    if (described.kind !== 'not-found') {
      return [buildResult(META, started, failureOutcome(described, 'the custom authorizer', reproduce, ctx.target))];
    }
    const summary = named
      ? `authorizer ${c.authorizer} does not exist in this account and region`
      : 'the account has no default authorizer';
    const outcome: Outcome = { status: 'fail', code: 'AUTHORIZER_MISSING', summary, evidence: base, reproduce };
    return [buildResult(META, started, outcome)];
  }
  const a = described.value;
  const evidence: Evidence = {
    ...base,
    authorizerName: a.authorizerName,
    status: a.status,
    signingDisabled: a.signingDisabled,
    ...(a.tokenKeyName ? { authorizerTokenKeyName: a.tokenKeyName } : {}),
    signingKeys: Object.keys(a.tokenSigningPublicKeys).length,
  };
  const early = describeVerdict(a, c, evidence);
  if (early) return [buildResult(META, started, { ...early, reproduce })];
  const clientId = routeClientId(ctx.target, ROUTES['mqtt-custom-auth-443']!);
  const tested = await cloud.api.testInvokeAuthorizer({
    authorizerName: a.authorizerName,
    ...(c.token !== undefined ? { token: c.token } : {}),
    ...(c.signature !== undefined ? { tokenSignature: c.signature } : {}),
    mqttContext: {
      clientId,
      username: customAuthUsername(c),
      ...(c.password !== undefined ? { password: c.password } : {}),
    },
    tlsContext: { serverName: ctx.target.endpoint },
  });
  if (!tested.ok)
    return [buildResult(META, started, failureOutcome(tested, 'TestInvokeAuthorizer', reproduce, ctx.target))];
  return [buildResult(META, started, invokeVerdict(ctx, a, tested.value, evidence))];
});
