/**
 * The stage registry: the default implementation of every stage id:
 * `route.<route>.<stage>` → `checks/stages/<stage>.ts`.
 * A transport may replace some of them (see route-transports.ts). A new stage: add its id to `STAGE_IDS` (model),
 * write `checks/stages/<stage>.ts` exporting a `StageDef`, add it here, and list it in the route kinds that have it.
 */
import type { StageId } from '../src/model/index.js';
import type { StageDef } from './route-stage.js';
import { alpnStage } from './stages/alpn.js';
import { clientAuthStage } from './stages/client-auth.js';
import { dnsStage } from './stages/dns.js';
import { protocolStage } from './stages/protocol.js';
import { roundTripStage } from './stages/round-trip.js';
import { tcpStage } from './stages/tcp.js';
import { tlsStage } from './stages/tls.js';
import { upgradeStage } from './stages/upgrade.js';

/** Default stage implementations by stage id. */
export const STAGES: Readonly<Partial<Record<StageId, StageDef>>> = {
  dns: dnsStage,
  tcp: tcpStage,
  tls: tlsStage,
  alpn: alpnStage,
  'client-auth': clientAuthStage,
  upgrade: upgradeStage,
  protocol: protocolStage,
  'round-trip': roundTripStage,
};
