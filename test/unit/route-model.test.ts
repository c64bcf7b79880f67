/** Routes as data: instances of a kind, the ordered union of stage lists, and the route codes. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROUTE_CODES, isRouteCode } from '../../checks/route-codes.js';
import { ROUTE_HINTS } from '../../checks/route-hints.js';
import { STAGES } from '../../checks/route-stages.js';
import { TRANSPORTS } from '../../checks/route-transports.js';
import {
  ROUTES,
  ROUTE_IDS,
  MTLS_STAGES,
  STAGE_IDS,
  isRouteCheckId,
  orderedStageUnion,
  routeKindOf,
  routeSpecOf,
  routeVariant,
} from '../../src/model/index.js';

describe('route kinds and instances', () => {
  it('the default routes are registered kinds whose stages and transport are all implemented', () => {
    for (const id of ROUTE_IDS) {
      const spec = ROUTES[id]!;
      expect(spec.kind).toBe(id);
      expect(TRANSPORTS[spec.transport], spec.transport).toBeDefined();
      for (const stage of spec.stages)
        expect(STAGES[stage] ?? TRANSPORTS[spec.transport]!.stages[stage], stage).toBeDefined();
    }
  });

  it('an instance carries its variant in id, title, client-id-relevant fields and stages', () => {
    const v6 = routeVariant(ROUTES['mqtt-8883']!, { variant: 'IPv6', family: 6 });
    expect(v6).toMatchObject({ id: 'mqtt-8883 IPv6', kind: 'mqtt-8883', variant: 'IPv6', family: 6, port: 8883 });
    expect(v6.title).toBe('MQTT mTLS on 8883 (IPv6)');
    const extra = routeVariant(ROUTES['https-443']!, { variant: 'checked', insert: [{ stage: 'alpn', after: 'dns' }] });
    expect(extra.stages.slice(0, 3)).toEqual(['dns', 'alpn', 'tcp']);
    expect(() =>
      routeVariant(ROUTES['https-443']!, { variant: 'x', insert: [{ stage: 'alpn', after: 'nope' as 'dns' }] }),
    ).toThrow();
    expect(routeKindOf('mqtt-8883 via proxy')).toBe('mqtt-8883');
    expect(routeSpecOf('mqtt-443 via proxy')).toMatchObject({ id: 'mqtt-443 via proxy', kind: 'mqtt-443', port: 443 });
    expect(routeSpecOf('mqtt-9999 via proxy')).toBeUndefined();
    expect(isRouteCheckId('route.https-443 IPv4')).toBe(true);
    expect(isRouteCheckId('route.https-444')).toBe(false);
  });

  it('the matrix rows are the ordered union of the routes stage lists', () => {
    expect(
      orderedStageUnion([
        ['dns', 'tcp', 'tls'],
        ['dns', 'tls', 'alpn'],
      ]),
    ).toEqual(['dns', 'tcp', 'tls', 'alpn']);
    expect(
      orderedStageUnion([
        ['dns', 'tls'],
        ['dns', 'tcp', 'tls'],
      ]),
    ).toEqual(['dns', 'tcp', 'tls']);
    expect(orderedStageUnion([['protocol'], ['dns', 'protocol'], ['dns', 'tcp']])).toEqual(['dns', 'tcp', 'protocol']);
    expect(orderedStageUnion(ROUTE_IDS.map((r) => ROUTES[r]!.stages))).toEqual([...MTLS_STAGES]);
    // Every stage id belongs to some registered kind or to a route through a proxy (the proxy row, between tcp and
    // tls), and the union keeps the canonical order.
    const viaProxy = routeVariant(ROUTES['mqtt-443']!, {
      variant: 'via proxy',
      insert: [{ stage: 'proxy', after: 'tcp' }],
    });
    expect(orderedStageUnion([...Object.values(ROUTES).map((r) => r.stages), viaProxy.stages])).toEqual([...STAGE_IDS]);
  });

  it('the report schema accepts every registered route kind (and its variants) and every stage', () => {
    const schema = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'src', 'report', 'report.schema.json'), 'utf8'),
    ) as { $defs: { route: { pattern: string }; stage: { enum: string[] } } };
    const route = new RegExp(schema.$defs.route.pattern);
    for (const id of Object.keys(ROUTES)) {
      expect(route.test(id), id).toBe(true);
      expect(route.test(`${id} via proxy`), id).toBe(true);
    }
    expect(route.test('mqtt-1883')).toBe(false);
    expect(schema.$defs.stage.enum).toEqual([...STAGE_IDS]);
  });

  it('every route hint belongs to a route code, and the code list has no duplicates', () => {
    for (const code of Object.keys(ROUTE_HINTS)) expect(isRouteCode(code), code).toBe(true);
    expect(new Set(ROUTE_CODES).size).toBe(ROUTE_CODES.length);
  });
});
