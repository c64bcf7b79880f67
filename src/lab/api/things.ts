/**
 * Control-plane operations on things and their principals: ListPrincipalThings, DescribeThing, ListThingPrincipals,
 * ListThingGroupsForThing (facts §6). These page with `nextToken` / `maxResults` rather than `marker` / `pageSize`.
 */
import { requireTarget } from './lookups.js';
import { header, notFound, page, principalArn, type ApiContext, type ApiRequest, type Operation } from './operation.js';

const thingArn = (req: ApiRequest, ctx: ApiContext): string => ctx.registry.thingArn(req.params['thingName'] ?? '');

/** The thing named in the path; throws `ResourceNotFoundException` when there is none. */
function requireThingName(req: ApiRequest, { registry }: ApiContext): string {
  const name = req.params['thingName'] ?? '';
  if (!registry.getThing(name)) throw notFound(`Thing ${name} cannot be found.`);
  return name;
}

function listPrincipalThings(req: ApiRequest, { registry }: ApiContext): unknown {
  const principal = header(req, 'x-amzn-principal');
  requireTarget(registry, principal);
  const { items, nextMarker } = page(
    registry.listPrincipalThings(principal),
    req.query.get('nextToken'),
    req.query.get('maxResults'),
  );
  return { things: items, ...(nextMarker ? { nextToken: nextMarker } : {}) };
}

function describeThing(req: ApiRequest, { registry }: ApiContext): unknown {
  const t = registry.getThing(req.params['thingName'] ?? '');
  if (!t) throw notFound(`Thing ${req.params['thingName']} cannot be found.`);
  return {
    defaultClientId: t.thingName,
    thingName: t.thingName,
    thingId: t.thingId,
    thingArn: t.thingArn,
    ...(t.thingTypeName ? { thingTypeName: t.thingTypeName } : {}),
    attributes: t.attributes,
    version: t.version,
  };
}

function listThingPrincipals(req: ApiRequest, ctx: ApiContext): unknown {
  const name = requireThingName(req, ctx);
  const { items, nextMarker } = page(
    ctx.registry.listThingPrincipals(name),
    req.query.get('nextToken'),
    req.query.get('maxResults'),
  );
  return { principals: items, ...(nextMarker ? { nextToken: nextMarker } : {}) };
}

function listThingGroupsForThing(req: ApiRequest, ctx: ApiContext): unknown {
  const name = requireThingName(req, ctx);
  return {
    thingGroups: ctx.registry
      .listThingGroupsForThing(name)
      .map((g) => ({ groupName: g.groupName, groupArn: g.groupArn })),
  };
}

/** The thing family of the operation table (facts §6 rows ListPrincipalThings, ListThingPrincipals). */
export const THING_OPERATIONS: readonly Operation[] = [
  {
    name: 'ListPrincipalThings',
    method: 'GET',
    path: '/principals/things',
    resource: (req) => principalArn(req.headers['x-amzn-principal']),
    handle: listPrincipalThings,
  },
  { name: 'DescribeThing', method: 'GET', path: '/things/{thingName}', resource: thingArn, handle: describeThing },
  {
    name: 'ListThingPrincipals',
    method: 'GET',
    path: '/things/{thingName}/principals',
    resource: thingArn,
    handle: listThingPrincipals,
  },
  {
    name: 'ListThingGroupsForThing',
    method: 'GET',
    path: '/things/{thingName}/thing-groups',
    resource: thingArn,
    handle: listThingGroupsForThing,
  },
];
