/**
 * Stage `alpn` (`route.<route>.alpn`): the protocol the server selected, against what the route offered. On 443 AWS
 * IoT picks the authentication by ALPN (facts §2; RFC 7301): a missing selection means the ALPN never arrived.
 */
import { sClientCommand } from '../route-reproduce.js';
import type { StageDef } from '../route-stage.js';

/** The `alpn` stage: reads `run.tls` (selected protocol) and `run.spec.alpn` (offered). */
export const alpnStage: StageDef = {
  id: 'alpn',
  async run(run) {
    const tls = run.tls!;
    const offered = run.spec.alpn;
    if (!offered) {
      return [
        {
          stage: 'alpn',
          status: 'pass',
          code: 'ALPN_NOT_USED',
          durationMs: 0,
          summary: 'no ALPN offered on this route (none needed)',
          evidence: { offered: null, selected: tls.alpn || null },
        },
      ];
    }
    if (tls.alpn === offered) {
      return [
        {
          stage: 'alpn',
          status: 'pass',
          code: 'ALPN_SELECTED',
          durationMs: 0,
          summary: `server selected ${offered}`,
          evidence: { offered, selected: tls.alpn },
        },
      ];
    }
    const { address, port } = run.peer!;
    return [
      {
        stage: 'alpn',
        status: 'fail',
        code: tls.alpn ? 'ALPN_UNEXPECTED' : 'ALPN_NOT_SELECTED',
        durationMs: 0,
        reproduce: sClientCommand(run.ctx.target, run.spec, address, port),
        summary: tls.alpn
          ? `offered ${offered} but the server selected ${tls.alpn}`
          : `offered ${offered} but the server selected no ALPN protocol`,
        evidence: { offered, selected: tls.alpn || null },
      },
    ];
  },
};
