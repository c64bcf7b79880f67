/**
 * Control-plane operations on IoT policies and their targets: ListAttachedPolicies, ListPrincipalPolicies,
 * ListPolicies, GetPolicy, GetPolicyVersion, ListTargetsForPolicy, GetEffectivePolicies (facts §6; thing-group
 * policies per facts §7).
 */
import type { PolicyRecord } from '../registry.js';
import { policyRef, requirePolicy, requireTarget } from './lookups.js';
import {
  epoch,
  header,
  invalid,
  notFound,
  page,
  principalArn,
  type ApiContext,
  type ApiRequest,
  type Operation,
} from './operation.js';

const policyArn = (req: ApiRequest, ctx: ApiContext): string => ctx.registry.policyArn(req.params['policyName'] ?? '');

/** One page of the policies attached to `target` (a certificate or thing-group ARN), after checking it exists. */
function attachedPolicies(target: string, req: ApiRequest, { registry }: ApiContext): unknown {
  requireTarget(registry, target);
  const { items, nextMarker } = page(
    registry.listAttachedPolicies(target),
    req.query.get('marker'),
    req.query.get('pageSize'),
  );
  return { policies: items.map(policyRef), ...(nextMarker ? { nextMarker } : {}) };
}

function listPolicies(req: ApiRequest, { registry }: ApiContext): unknown {
  const { items, nextMarker } = page(registry.listPolicies(), req.query.get('marker'), req.query.get('pageSize'));
  return { policies: items.map(policyRef), ...(nextMarker ? { nextMarker } : {}) };
}

function getPolicy(req: ApiRequest, { registry }: ApiContext): unknown {
  const p = requirePolicy(registry, req.params['policyName']);
  return {
    policyName: p.policyName,
    policyArn: p.policyArn,
    policyDocument: p.document,
    defaultVersionId: p.defaultVersionId,
    creationDate: epoch(p.creationDate),
    lastModifiedDate: epoch(p.lastModifiedDate),
    generationId: p.generationId,
  };
}

function getPolicyVersion(req: ApiRequest, { registry }: ApiContext): unknown {
  const p = requirePolicy(registry, req.params['policyName']);
  const versionId = req.params['policyVersionId'];
  const v = p.versions.find((x) => x.versionId === versionId);
  if (!v) throw notFound(`Policy version ${versionId} of ${p.policyName} does not exist`);
  return {
    policyArn: p.policyArn,
    policyName: p.policyName,
    policyDocument: v.document,
    policyVersionId: v.versionId,
    isDefaultVersion: v.versionId === p.defaultVersionId,
    creationDate: epoch(v.createDate),
    lastModifiedDate: epoch(p.lastModifiedDate),
    generationId: p.generationId,
  };
}

function listTargetsForPolicy(req: ApiRequest, { registry }: ApiContext): unknown {
  const p = requirePolicy(registry, req.params['policyName']);
  const { items, nextMarker } = page(
    registry.listTargetsForPolicy(p.policyName),
    req.query.get('marker'),
    req.query.get('pageSize'),
  );
  return { targets: items, ...(nextMarker ? { nextMarker } : {}) };
}

/**
 * GetEffectivePolicies: the principal's policies plus, with `?thingName=`, those of the thing's groups, each once
 * (facts §6 "includes thing-group policies").
 */
function getEffectivePolicies(req: ApiRequest, { registry }: ApiContext): unknown {
  const principal = req.body['principal'];
  const thingName = req.query.get('thingName') ?? undefined;
  const policies: PolicyRecord[] = [];
  const add = (p: PolicyRecord): void => {
    if (!policies.some((x) => x.policyName === p.policyName)) policies.push(p);
  };
  if (typeof principal === 'string' && principal) {
    requireTarget(registry, principal);
    registry.listAttachedPolicies(principal).forEach(add);
  } else if (!thingName) {
    throw invalid('principal or thingName is required');
  }
  if (thingName) {
    if (!registry.getThing(thingName)) throw notFound(`Thing ${thingName} does not exist`);
    for (const g of registry.listThingGroupsForThing(thingName)) registry.listAttachedPolicies(g.groupArn).forEach(add);
  }
  return {
    effectivePolicies: policies.map((p) => ({
      policyName: p.policyName,
      policyArn: p.policyArn,
      policyDocument: p.document,
    })),
  };
}

/** The policy family of the operation table (facts §6; ListAttachedPolicies is a POST there). */
export const POLICY_OPERATIONS: readonly Operation[] = [
  {
    name: 'ListAttachedPolicies',
    method: 'POST',
    path: '/attached-policies/{target}',
    resource: (req) => req.params['target'] ?? '*',
    handle: (req, ctx) => attachedPolicies(req.params['target'] ?? '', req, ctx),
  },
  {
    name: 'ListPrincipalPolicies',
    method: 'GET',
    path: '/principal-policies',
    resource: (req) => principalArn(req.headers['x-amzn-iot-principal']),
    handle: (req, ctx) => attachedPolicies(header(req, 'x-amzn-iot-principal'), req, ctx),
  },
  { name: 'ListPolicies', method: 'GET', path: '/policies', resource: () => '*', handle: listPolicies },
  { name: 'GetPolicy', method: 'GET', path: '/policies/{policyName}', resource: policyArn, handle: getPolicy },
  {
    name: 'GetPolicyVersion',
    method: 'GET',
    path: '/policies/{policyName}/version/{policyVersionId}',
    resource: policyArn,
    handle: getPolicyVersion,
  },
  {
    name: 'ListTargetsForPolicy',
    method: 'POST',
    path: '/policy-targets/{policyName}',
    resource: policyArn,
    handle: listTargetsForPolicy,
  },
  {
    name: 'GetEffectivePolicies',
    method: 'POST',
    path: '/effective-policies',
    resource: (req) => principalArn(req.body['principal']),
    handle: getEffectivePolicies,
  },
];
