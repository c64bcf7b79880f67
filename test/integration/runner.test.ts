/**
 * The runner: an unknown `needs` entry is refused when the catalogue loads, and a check that overruns its deadline is
 * aborted, so its sockets close (seen from a real server on 127.0.0.1).
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_CHECKS, isCatalogueCheckId } from '../../checks/index.js';
import { routeCheck } from '../../checks/route.js';
import type { DoctorCheck } from '../../checks/types.js';
import type { CheckResult } from '../../src/model/index.js';
import { CatalogueError, runChecks, validateCatalogue } from '../../src/runner/index.js';
import { contextFor, credentialsFor, makePki, targetFor } from '../helpers/servers.js';

const servers: ReturnType<typeof createServer>[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

function check(id: string, needs: string[], ran: string[]): DoctorCheck {
  return {
    id,
    title: id,
    family: 'cert',
    needs,
    run: async (): Promise<CheckResult[]> => {
      ran.push(id);
      return [];
    },
  };
}

describe('catalogue', () => {
  it('the whole catalogue is consistent when it loads, and knows checks a run may leave out', () => {
    expect(ALL_CHECKS.length).toBeGreaterThan(20);
    expect(isCatalogueCheckId('ca.verifies-endpoint')).toBe(true);
    expect(isCatalogueCheckId('route.https-443')).toBe(true);
    expect(isCatalogueCheckId('files.crt')).toBe(false);
  });

  it('refuses a needs entry that names no check, before any check runs', async () => {
    const ran: string[] = [];
    const checks = [check('files.cert', [], ran), check('cert.identity', ['files.crt'], ran)];
    const ctx = contextFor(targetFor({}), credentialsFor(makePki('ec')));
    const pending = runChecks(checks, ctx, { guardMs: 1000, isKnownCheck: isCatalogueCheckId });
    await expect(pending).rejects.toBeInstanceOf(CatalogueError);
    await expect(pending).rejects.toThrow('cert.identity needs files.crt, which is no check');
    expect(ran).toEqual([]);
  });

  it('accepts needs on checks of the run, on route checks of registered kinds, and on ids the caller knows', () => {
    const ran: string[] = [];
    expect(() =>
      validateCatalogue([check('a.x', [], ran), check('a.y', ['a.x', 'route.https-8443'], ran)]),
    ).not.toThrow();
    expect(() => validateCatalogue([check('a.y', ['route.https-9999'], ran)])).toThrow(CatalogueError);
    expect(() => validateCatalogue([check('a.y', ['cloud.thing'], ran)], (id) => id === 'cloud.thing')).not.toThrow();
    expect(() => validateCatalogue([check('a.x', [], ran), check('a.x', [], ran)])).toThrow(
      /two checks have the id a.x/,
    );
  });
});

describe('deadline', () => {
  it('a route check that overruns its deadline becomes CHECK_TIMEOUT and its connection is closed', async () => {
    const closedAt: number[] = [];
    let accepted: Socket | undefined;
    // Accepts TCP and never answers the ClientHello: the TLS stage would wait its full 20 s timeout.
    const server = createServer((s) => {
      accepted = s;
      s.resume(); // read (and drop) the ClientHello, so the client's FIN is seen
      s.on('close', () => closedAt.push(performance.now()));
      s.on('error', () => undefined);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const target = targetFor({ 8883: port }, { routes: ['mqtt-8883'], timeoutMs: 20_000 });
    const started = performance.now();
    const results = await runChecks([routeCheck('mqtt-8883')], contextFor(target, credentialsFor(makePki('ec'))), {
      guardMs: 400,
    });
    const timedOutAt = performance.now();
    expect(results).toMatchObject([{ id: 'route.mqtt-8883', status: 'error', code: 'CHECK_TIMEOUT' }]);
    expect(timedOutAt - started).toBeLessThan(2000);
    expect(accepted, 'the route connected before its deadline').toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(closedAt, 'the aborted route closed its socket').toHaveLength(1);
    expect(closedAt[0]! - timedOutAt).toBeLessThan(300);
  });
});
