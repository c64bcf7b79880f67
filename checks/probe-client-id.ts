/**
 * AWS IoT allows one connection per client id: when the probe connects with a device's real id, AWS closes the
 * device's own connection. Our default id is unique; a user-given id that does not look like ours probably is a
 * device's, and the technician should know before the probe runs.
 */
import type { CheckResult } from '../src/model/index.js';
import { buildResult, type Outcome } from '../src/model/result.js';
import type { Target } from '../src/target.js';
import type { DoctorCheck } from './types.js';
import { clientIdFitsTopic, defaultTopicFor } from '../src/flag-limits.js';

const META = { id: 'probe.client-id', title: 'Probe client id does not take over a live device' };

/** Every code probe.client-id reports. */
export const PROBE_CLIENT_ID_CODES = ['CLIENT_ID_UNIQUE', 'CLIENT_ID_MAY_BE_LIVE', 'CLIENT_ID_HOLDS_WILDCARD'] as const;
export type ProbeClientIdCode = (typeof PROBE_CLIENT_ID_CODES)[number];

function clientIdOutcome(target: Target, subject: string | undefined): Outcome<ProbeClientIdCode> {
  const commonName = /(?:^|\n)CN=([^\n]+)/.exec(subject ?? '')?.[1];
  const evidence = { clientId: target.clientId };
  if (!target.clientIdFromUser) {
    const summary = `the probe uses its own unique client id ${target.clientId}`;
    return { status: 'pass', code: 'CLIENT_ID_UNIQUE', summary, evidence };
  }
  if (!clientIdFitsTopic(target.clientId)) {
    // Legal for CONNECT, but '#'/'+' cannot stand in a topic, and AWS IoT sends no lifecycle events for such an id
    // (facts §3.3): say so, and say which topic the probe used instead.
    return {
      status: 'warn',
      code: 'CLIENT_ID_HOLDS_WILDCARD',
      summary:
        `client id ${target.clientId} holds # or +: AWS IoT accepts it but publishes no lifecycle events for it, ` +
        `and it cannot stand in a topic${target.topicFromUser ? '' : ` (the probe used ${defaultTopicFor(target.clientId)})`}`,
      evidence,
      hint:
        'A policy written with ${iot:ClientId} in a topic cannot match such an id; give the device a client id ' +
        'without # and +.',
    };
  }
  const looksOurs = target.clientId.startsWith('iot-doctor');
  if (looksOurs) {
    return {
      status: 'pass',
      code: 'CLIENT_ID_UNIQUE',
      summary: `client id ${target.clientId} is a probe id`,
      evidence,
    };
  }
  const own = commonName === target.clientId ? " (the certificate's own name)" : '';
  return {
    status: 'warn',
    code: 'CLIENT_ID_MAY_BE_LIVE',
    summary:
      `the probe connects as ${target.clientId}${own}: ` +
      'if the device is online with this id, AWS IoT disconnects it while the probe runs',
    evidence: { ...evidence, ...(commonName ? { certificateCommonName: commonName } : {}) },
    hint:
      "That is fine for reproducing the device's exact policy situation, but do it when the device is offline, " +
      'or leave out --client-id to probe with a unique iot-doctor-<random> id.',
  };
}

/**
 * probe.client-id: warns when the probe would connect with a client id that is probably a live device's (AWS IoT
 * allows one connection per client id and closes the older one: facts §3, "Same client ID connects again").
 */
export const probeClientIdCheck: DoctorCheck = {
  ...META,
  family: 'probe',
  async run(ctx): Promise<CheckResult[]> {
    return [buildResult(META, { durationMs: 0 }, clientIdOutcome(ctx.target, ctx.credentials.cert?.leaf.subject))];
  },
};
