/**
 * A route that waits (an HTTPS route for an MQTT subscription, an MQTT route for a shared client id) must notice
 * when the server drops its connection meanwhile: classified at once, never an unhandled error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeCheck } from '../../checks/route.js';
import type { CheckResult } from '../../src/model/index.js';
import { runChecks } from '../../src/runner/index.js';
import { closeAll, contextFor, credentialsFor, makePki, targetFor, tlsServer, type Pki } from '../helpers/servers.js';

let pki: Pki;
beforeAll(() => {
  pki = makePki('ec');
});
afterAll(closeAll);

function cell(results: CheckResult[], id: string): CheckResult {
  return results.find((r) => r.id === id)!;
}

describe('connections dropped while a route waits', () => {
  for (const action of ['reset', 'close'] as const) {
    it(`HTTPS route waiting for an MQTT subscriber: a ${action} is HTTP_CLOSED_WITHOUT_RESPONSE at once`, async () => {
      // 8883: handshake, then silence (no CONNACK ever), so no MQTT subscription comes.
      const silent = await tlsServer({ cert: pki.server, clientCa: pki.deviceCa });
      // The drop comes after the longest client-auth observation window (1 s): a connection dropped within it is,
      // by design, a server that refuses the certificate without an alert (see checks/stages/client-auth.ts).
      const dropping = await tlsServer({
        cert: pki.server,
        clientCa: pki.deviceCa,
        afterHandshake: { action, afterMs: 1100 },
      });
      const target = targetFor(
        { 8883: silent.port, 8443: dropping.port },
        { routes: ['mqtt-8883', 'https-8443'], protocol: true, timeoutMs: 2000 },
      );
      const started = performance.now();
      const results = await runChecks(target.routes.map(routeCheck), contextFor(target, credentialsFor(pki)), {
        guardMs: 20_000,
      });
      const https = cell(results, 'route.https-8443.protocol');
      expect(https).toMatchObject({ status: 'fail', code: 'HTTP_CLOSED_WITHOUT_RESPONSE' });
      expect(https.summary).toContain(action === 'reset' ? 'reset' : 'closed');
      expect(https.evidence.waitedForSubscriberMs as number).toBeLessThan(1500);
      expect(cell(results, 'route.mqtt-8883.protocol')).toMatchObject({ status: 'fail', code: 'MQTT_NO_CONNACK' });
      expect(performance.now() - started).toBeLessThan(4000);
    });
  }

  it('MQTT routes taking turns with a user client id: a reset meanwhile is MQTT_CLOSED_BEFORE_CONNECT', async () => {
    const silent = await tlsServer({ cert: pki.server, clientCa: pki.deviceCa, alpn: ['x-amzn-mqtt-ca'] });
    const dropping = await tlsServer({
      cert: pki.server,
      clientCa: pki.deviceCa,
      afterHandshake: { action: 'reset', afterMs: 300 },
    });
    const target = targetFor(
      { 443: silent.port, 8883: dropping.port },
      {
        routes: ['mqtt-8883', 'mqtt-443'],
        protocol: true,
        timeoutMs: 1500,
        clientId: 'device-7',
        clientIdFromUser: true,
      },
    );
    const results = await runChecks(target.routes.map(routeCheck), contextFor(target, credentialsFor(pki)), {
      guardMs: 20_000,
    });
    const codes = ['route.mqtt-8883.protocol', 'route.mqtt-443.protocol'].map((id) => cell(results, id).code).sort();
    // Whichever route takes the client id first waits for a CONNACK that never comes; if the 8883 route waited, its
    // connection was reset meanwhile; if it went first, the reset closed it right after CONNECT.
    expect(codes).toContain('MQTT_NO_CONNACK');
    expect(['MQTT_CLOSED_BEFORE_CONNECT', 'MQTT_CLOSED_AFTER_CONNECT']).toContain(
      cell(results, 'route.mqtt-8883.protocol').code,
    );
  });
});
