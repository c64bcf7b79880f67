/**
 * Issue 17: Ctrl-C (SIGINT) or SIGTERM during `check` says what happened on stderr, one line, and keeps the shell's
 * exit code for the signal (130, 143). The route's server is a real TCP listener that accepts and never answers, so
 * the run is certainly still going when the signal arrives.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, PLAIN_ENV } from '../helpers/cli.js';

const endpoint = 'abc123-ats.iot.eu-west-1.amazonaws.com';
const held: Socket[] = [];
const accepted: Socket[] = [];
let server: Server;
let port = 0;

beforeAll(async () => {
  // A connection counts once its first bytes (the ClientHello) arrive: check opens its TCP connections before the
  // run starts (src/probes/head-start.ts), its TLS step only once the run is under way.
  server = createServer((s) => {
    accepted.push(s);
    s.once('data', () => held.push(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});
afterAll(() => {
  for (const s of accepted) s.destroy();
  server.close();
});

describe('an interrupted check', () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal}: one line on stderr, exit ${code}, nothing on stdout`, async () => {
      const child = execa(
        'node',
        [
          BIN,
          'check',
          '--endpoint',
          endpoint,
          '--resolve',
          `${endpoint}:*:127.0.0.1`,
          '--connect-to',
          `${endpoint}:443:127.0.0.1:${port}`,
          '--routes',
          'https-443',
          '--no-cloud',
          '--output',
          '',
          '--timeout',
          '30000',
        ],
        { reject: false, env: PLAIN_ENV, timeout: 25_000 },
      );
      // Wait for the TLS step to be under way: the listener has its ClientHello.
      const deadline = Date.now() + 15_000;
      const before = held.length;
      while (held.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(held.length).toBeGreaterThan(before);
      child.kill(signal);
      const r = await child;
      expect(r.exitCode, r.stderr).toBe(code);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(
        new RegExp(
          `^iot-doctor: interrupted \\(${signal}\\): \\d+ checks? finished, [1-9]\\d* running; no report written$`,
        ),
      );
    });
  }
});
