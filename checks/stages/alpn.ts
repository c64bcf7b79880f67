/**
 * Stage `alpn` (`route.<route>.alpn`): the protocol the server selected, against what the route offered. On 443 AWS
 * IoT picks the authentication by ALPN (facts §2; RFC 7301): a missing selection means the ALPN never arrived.
 */
import { sClientCommand } from '../route-reproduce.js';
import type { StageDef } from '../route-stage.js';
import { offeredAlpn } from './tls-device.js';

/** The `alpn` stage: reads `run.tls` (selected protocol) and `run.spec.alpn` (offered). */
export const alpnStage: StageDef = {
  id: 'alpn',
  continueOnWarn: true,
  async run(run) {
    const tls = run.tls!;
    const offered = offeredAlpn(run);
    if (!offered && run.spec.alpn) {
      // --no-alpn: the device offers none where AWS IoT needs it for X.509 on 443 (facts §1). Go on: the protocol
      // stage shows what the endpoint does with it (no CONNACK, HTTP 403).
      return [
        {
          stage: 'alpn',
          status: 'warn',
          code: 'ALPN_NOT_OFFERED',
          durationMs: 0,
          summary: `the device offers no ALPN (--no-alpn); on 443 AWS IoT takes the client certificate only with ${run.spec.alpn}`,
          evidence: { offered: null, wanted: run.spec.alpn, selected: tls.alpn || null },
        },
      ];
    }
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
