/**
 * Stage `tcp` (`route.<route>.tcp`): a TCP connection opens to the address the dns stage chose, within the run's
 * timeout. Refused (RST), silently dropped (timeout) and unreachable (ICMP) are told apart by `connectTcp`. When
 * `--connect-to` sends the route to another port, the summary names the route's AWS port and the redirect, and the
 * evidence carries `routePort` beside the `port` dialled.
 */
import { connectTcp } from '../../src/probes/tcp.js';
import { connectTcpEarly } from '../../src/probes/head-start.js';
import { hostPort } from '../../src/probes/shell.js';
import { ncCommand } from '../route-reproduce.js';
import type { StageDef } from '../route-stage.js';
import { stepMs } from '../../src/runner/deadline.js';

/** The `tcp` stage of a direct connection: sets `run.stream` and `run.tcpMs` on success. */
export const tcpStage: StageDef = {
  id: 'tcp',
  async run(run) {
    const peer = run.peer!;
    const { address, port } = peer;
    // --timeout, cut to what remains of the run's one deadline.
    const waitMs = stepMs(run.ctx);
    // The route's first connection takes over the one `check` started ahead of loading (src/probes/head-start.ts):
    // its duration is that connect's own, SYN → connected.
    const connect = run.reconnecting ? connectTcp : connectTcpEarly;
    const tcp = await connect(address, port, waitMs, run.signal);
    // Under --connect-to the port dialled is not the route's AWS port: messages name both (facts: route ports).
    // Through a proxy this connection goes to the proxy, whose port is not a redirect.
    const redirected = run.spec.transport === 'direct' && port !== run.spec.port;
    const tcpEvidence = { address, port, family: peer.family, ...(redirected ? { routePort: run.spec.port } : {}) };
    const where = `${hostPort(address, port)}${redirected ? ` (port ${run.spec.port} redirected by --connect-to)` : ''}`;
    if (!tcp.ok) {
      return [
        {
          stage: 'tcp',
          status: 'fail',
          code: tcp.code,
          durationMs: tcp.durationMs,
          summary: `${where}: ${tcp.message}`,
          // The deadline lets the diagnosis judge whether a silent drop could have been a slow path.
          evidence: { ...tcpEvidence, error: tcp.systemCode ?? tcp.code, timeoutMs: waitMs },
          reproduce: ncCommand(run.ctx.target, peer),
        },
      ];
    }
    run.own(tcp.socket);
    run.stream = tcp.socket;
    run.tcpMs = tcp.durationMs;
    return [
      {
        stage: 'tcp',
        status: 'pass',
        code: 'TCP_OK',
        durationMs: tcp.durationMs,
        summary: `connected to ${where}`,
        evidence: { ...tcpEvidence, localAddress: tcp.localAddress },
      },
    ];
  },
};
