/**
 * The bench's "first SYN after the process starts" rests on the TUN relay reporting each SYN the client sends, on
 * the clock of process.hrtime(). Checked here with a real connect through a delayed link: the SYN is reported once,
 * with its port, after the process was spawned and at least one one-way delay before the connect completed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDR, Bed, bedUnavailableReason, python, type TunClient } from './bed.js';

const unavailable = bedUnavailableReason();
const DELAY_MS = 40;

describe.skipIf(unavailable !== null)('bench harness: SYNs seen by the link relay', () => {
  let bed: Bed | undefined;
  let link: TunClient;

  beforeAll(async () => {
    bed = await Bed.create();
    link = await bed.addTunClient({ name: 'syn', delayMs: DELAY_MS, loss: 0, logSyn: true });
    const listener = bed.spawnHelper('listener', bed.ns.server, python(), [
      '-c',
      [
        'import socket',
        `s = socket.create_server(("${ADDR.server}", 8883))`,
        'print("listening", flush=True)',
        'while True:',
        '    c, _ = s.accept()',
        '    c.close()',
      ].join('\n'),
    ]);
    await listener.waitFor(/^listening$/, 10_000);
  });

  afterAll(async () => {
    await bed?.destroy();
  });

  it('reports the first SYN of a process with its time and port', async () => {
    const script = [
      'import socket, time',
      'time.sleep(0.2)',
      `socket.create_connection(("${ADDR.server}", 8883), timeout=5).close()`,
    ].join('\n');
    const before = process.hrtime.bigint();
    const res = await bed!.run(link.ns, python(), ['-c', script], { timeoutMs: 20_000 });
    const after = process.hrtime.bigint();
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.spawnedAtNs).toBeDefined();
    const spawned = res.spawnedAtNs!;
    expect(spawned >= before && spawned <= after).toBe(true);
    const syns = link.synsSince(spawned);
    expect(syns.map((s) => s.port)).toEqual([8883]);
    const synMs = Number(syns[0]!.atNs - spawned) / 1e6;
    // The script sleeps 200 ms before connecting; the connect needs a full round trip after the SYN left.
    expect(synMs).toBeGreaterThanOrEqual(200);
    expect(Number(after - syns[0]!.atNs) / 1e6).toBeGreaterThanOrEqual(2 * DELAY_MS - 5);
    // Nothing is reported for SYNs older than the asked moment.
    expect(link.synsSince(after)).toEqual([]);
  });
});
