/**
 * Custom-authorizer operations (field notes §5.5): DescribeAuthorizer (`GET /authorizer/{authorizerName}`),
 * DescribeDefaultAuthorizer (`GET /default-authorizer`) and TestInvokeAuthorizer
 * (`POST /authorizer/{authorizerName}/test`), over the lab's custom-auth store (custom-auth.ts).
 * TestInvokeAuthorizer with a token whose signature does not verify: AWS's answer is unconfirmed; the lab answers
 * `isAuthenticated: false` (the Lambda is not invoked), and the product must not depend on it.
 */
import { customAuthOf, invokeLambda, signatureVerifies, type LabAuthorizer } from '../custom-auth.js';
import { epoch, invalid, notFound, type ApiContext, type ApiRequest, type Operation } from './operation.js';

/** The `authorizerDescription` of the service model (field notes §5.5). */
function description(a: LabAuthorizer, ctx: ApiContext): object {
  return {
    authorizerName: a.authorizerName,
    authorizerArn: ctx.registry.arn('authorizer', a.authorizerName),
    authorizerFunctionArn: a.authorizerFunctionArn,
    tokenKeyName: a.tokenKeyName,
    tokenSigningPublicKeys: a.tokenSigningPublicKeys,
    status: a.status,
    signingDisabled: a.signingDisabled,
    enableCachingForHttp: false,
    creationDate: epoch(a.creationDate),
    lastModifiedDate: epoch(a.creationDate),
  };
}

function named(req: ApiRequest, ctx: ApiContext): LabAuthorizer {
  const name = req.params['authorizerName'] ?? '';
  const a = customAuthOf(ctx.registry).authorizers.get(name);
  if (!a) throw notFound(`Authorizer ${name} does not exist`);
  return a;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * TestInvokeAuthorizer: the authorizer's Lambda run with the request's token, MQTT context (client id, username,
 * base64 password) and TLS context (SNI). Throws ResourceNotFound for an unknown authorizer and InvalidRequest for a
 * token over 6144 characters.
 */
function testInvoke(req: ApiRequest, ctx: ApiContext): unknown {
  const a = named(req, ctx);
  const token = str(req.body['token']);
  if (token !== undefined && token.length > 6144) throw invalid('token must be at most 6144 characters');
  const signature = str(req.body['tokenSignature']);
  const mqtt = (req.body['mqttContext'] ?? {}) as Record<string, unknown>;
  const tls = (req.body['tlsContext'] ?? {}) as Record<string, unknown>;
  const password = str(mqtt['password']);
  const clientId = str(mqtt['clientId']);
  const serverName = str(tls['serverName']);
  const request = {
    authorizerName: a.authorizerName,
    ...(token !== undefined ? { token } : {}),
    ...(signature !== undefined ? { signature } : {}),
    ...(password !== undefined ? { password: Buffer.from(password, 'base64') } : {}),
    ...(clientId !== undefined ? { clientId } : {}),
    ...(serverName !== undefined ? { serverName } : {}),
  };
  customAuthOf(ctx.registry).record('test-invoke', request);
  if (
    !a.signingDisabled &&
    (token === undefined || !signature || !signatureVerifies(token, signature, a.tokenSigningPublicKeys))
  ) {
    return { isAuthenticated: false, policyDocuments: [] };
  }
  return invokeLambda(a, request);
}

/** The custom-authorizer rows of the operation table. */
export const AUTHORIZER_OPERATIONS: readonly Operation[] = [
  {
    name: 'DescribeAuthorizer',
    method: 'GET',
    path: '/authorizer/{authorizerName}',
    resource: (req, ctx) => ctx.registry.arn('authorizer', req.params['authorizerName'] ?? ''),
    handle: (req, ctx) => ({ authorizerDescription: description(named(req, ctx), ctx) }),
  },
  {
    name: 'DescribeDefaultAuthorizer',
    method: 'GET',
    path: '/default-authorizer',
    resource: () => '*',
    handle: (_req, ctx) => {
      const store = customAuthOf(ctx.registry);
      const a = store.defaultAuthorizerName ? store.authorizers.get(store.defaultAuthorizerName) : undefined;
      if (!a) throw notFound('No default authorizer is set');
      return { authorizerDescription: description(a, ctx) };
    },
  },
  {
    name: 'TestInvokeAuthorizer',
    method: 'POST',
    path: '/authorizer/{authorizerName}/test',
    resource: (req, ctx) => ctx.registry.arn('authorizer', req.params['authorizerName'] ?? ''),
    handle: testInvoke,
  },
];
