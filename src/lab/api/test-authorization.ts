/**
 * TestAuthorization (facts §6 row and example): evaluates each `authInfo` against the policies that reach the
 * certificate, with the shared policy evaluator (facts §7 semantics: an explicit deny wins, default implicit deny).
 */
import {
  TEST_AUTHORIZATION_ACTIONS,
  evaluate,
  type Decision,
  type EvalContext,
  type PolicyDocumentInput,
} from '../../policy/index.js';
import { invalid, notFound, principalArn, type ApiContext, type ApiRequest, type Operation } from './operation.js';

type PolicyRef = { policyName: string; policyArn: string };

const names = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * One `authResults[]` entry: the decisions over every resource of `info` joined (any EXPLICIT_DENY, else ALLOWED
 * only when all are allowed, else IMPLICIT_DENY). Throws `InvalidRequestException` on an unknown `actionType`,
 * empty `resources` or a resource that is not an ARN.
 */
function authResult(
  info: unknown,
  policies: PolicyDocumentInput[],
  ctx: EvalContext,
  ref: (name: string) => PolicyRef,
): unknown {
  const i = (info ?? {}) as { actionType?: unknown; resources?: unknown };
  const actionType = typeof i.actionType === 'string' ? i.actionType : '';
  const mapping = TEST_AUTHORIZATION_ACTIONS[actionType as keyof typeof TEST_AUTHORIZATION_ACTIONS];
  if (!mapping) throw invalid(`Invalid actionType ${actionType}`);
  const resources = names(i.resources);
  if (resources.length === 0) throw invalid('resources must not be empty');
  for (const r of resources) if (!r.startsWith('arn:')) throw invalid(`Invalid resource ${r}: expected an ARN`);
  const decisions: Decision[] = resources.map((r) => evaluate(policies, mapping.action, r, ctx));
  const union = (pick: (d: Decision) => string[]): string[] => [...new Set(decisions.flatMap(pick))];
  const explicit = union((d) => d.deniedBy);
  const allowedBy = union((d) => d.allowedBy);
  const decision = decisions.some((d) => d.decision === 'EXPLICIT_DENY')
    ? 'EXPLICIT_DENY'
    : decisions.every((d) => d.decision === 'ALLOWED')
      ? 'ALLOWED'
      : 'IMPLICIT_DENY';
  const implicit = decision === 'ALLOWED' ? [] : union((d) => d.implicitDenyPolicies);
  return {
    authInfo: { actionType, resources },
    allowed: { policies: decision === 'ALLOWED' ? allowedBy.map(ref) : [] },
    denied: {
      implicitDeny: { policies: decision === 'IMPLICIT_DENY' ? implicit.map(ref) : [] },
      explicitDeny: { policies: explicit.map(ref) },
    },
    authDecision: decision,
    missingContextValues: union((d) => d.missingContextValues),
  };
}

/**
 * The TestAuthorization handler: `principal` must be a registered certificate (the lab knows no Cognito identity),
 * `authInfos` 1-10 items (model `AuthInfos`), `policyNamesToAdd` must exist. Returns `{ authResults }`.
 */
function testAuthorization(req: ApiRequest, { registry, authorizer }: ApiContext): unknown {
  const principal = req.body['principal'];
  if (typeof principal !== 'string' || !principal) throw invalid('principal is required in the lab');
  const cert = registry.getCertificate(principal);
  if (!cert) throw notFound(`The certificate ${principal} does not exist`);
  const authInfos = req.body['authInfos'];
  if (!Array.isArray(authInfos) || authInfos.length < 1 || authInfos.length > 10) {
    throw invalid('authInfos must contain between 1 and 10 items');
  }
  const add = names(req.body['policyNamesToAdd']);
  const skip = names(req.body['policyNamesToSkip']);
  for (const n of add) if (!registry.getPolicy(n)) throw notFound(`Policy not found: ${n}`);
  const clientId = req.query.get('clientId') ?? undefined;
  const { policies, ctx } = authorizer.resolve(cert, clientId, { add, skip });
  const ref = (name: string): PolicyRef => ({ policyName: name, policyArn: registry.policyArn(name) });
  return { authResults: authInfos.map((info: unknown) => authResult(info, policies, ctx, ref)) };
}

/** The TestAuthorization row of the operation table (facts §6). */
export const TEST_AUTHORIZATION_OPERATIONS: readonly Operation[] = [
  {
    name: 'TestAuthorization',
    method: 'POST',
    path: '/test-authorization',
    resource: (req) => principalArn(req.body['principal']),
    handle: testAuthorization,
  },
];
