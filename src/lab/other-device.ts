/**
 * The other device of the `duplicate-client-id` scenario: an MQTT 3.1.1 client with the lab device's certificate
 * and client id that reconnects every `periodMs`, as the field reports of duplicate client ids describe (field notes
 * §8: a disconnect every ~2 s, python-v2#236 replayed with a second device reconnecting every ~2.3 s). Each of its
 * CONNECTs takes the session over from whoever holds the id.
 */
import { connect, type MqttClient } from 'mqtt';

/** Where and as whom the other device connects. */
export interface OtherDeviceOptions {
  host: string;
  port: number;
  /** SNI and the name checked in the server certificate. */
  endpoint: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  clientId: string;
  /** Time between its connections, ms. */
  periodMs: number;
}

/**
 * Starts the other device: connects, holds the connection until it is taken over, and connects again `periodMs`
 * after its previous CONNECT, until `stop()`. A failed connection is retried on the same rhythm; errors are swallowed (a test
 * sees their effect on the lab, not here).
 */
export function startOtherDevice(opts: OtherDeviceOptions): { stop: () => Promise<void> } {
  let stopped = false;
  const clients = new Set<MqttClient>();
  let timer: NodeJS.Timeout | undefined;
  const cycle = (): void => {
    if (stopped) return;
    const client = connect({
      host: opts.host,
      port: opts.port,
      protocol: 'mqtts',
      servername: opts.endpoint,
      ca: opts.caPem,
      cert: opts.certPem,
      key: opts.keyPem,
      clientId: opts.clientId,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: Math.max(500, opts.periodMs / 2),
      keepalive: 60,
    });
    client.on('error', () => {});
    clients.add(client);
    client.on('close', () => clients.delete(client));
    timer = setTimeout(cycle, opts.periodMs);
  };
  cycle();
  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.all([...clients].map((c) => c.endAsync(true).catch(() => undefined)));
    },
  };
}
