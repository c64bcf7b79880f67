/**
 * Stage `tcp` (`route.<route>.tcp`): a TCP connection opens to the address the dns stage chose, within the run's
 * timeout. Refused (RST), silently dropped (timeout) and unreachable (ICMP) are told apart by `connectTcp`.
 */
import { connectTcp } from '../../src/probes/tcp.js';
import { hostPort } from '../../src/probes/shell.js';
import { ncCommand } from '../route-reproduce.js';
import type { StageDef } from '../route-stage.js';

/** The `tcp` stage of a direct connection: sets `run.stream` and `run.tcpMs` on success. */
export const tcpStage: StageDef = {
  id: 'tcp',
  async run(run) {
    const peer = run.peer!;
    const { address, port } = peer;
    const tcp = await connectTcp(address, port, run.ctx.target.timeoutMs, run.signal);
    const tcpEvidence = { address, port, family: peer.family };
    if (!tcp.ok) {
      return [
        {
          stage: 'tcp',
          status: 'fail',
          code: tcp.code,
          durationMs: tcp.durationMs,
          summary: `${hostPort(address, port)}: ${tcp.message}`,
          // The deadline lets the diagnosis judge whether a silent drop could have been a slow path.
          evidence: { ...tcpEvidence, error: tcp.systemCode ?? tcp.code, timeoutMs: run.ctx.target.timeoutMs },
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
        summary: `connected to ${hostPort(address, port)}`,
        evidence: { ...tcpEvidence, localAddress: tcp.localAddress },
      },
    ];
  },
};
