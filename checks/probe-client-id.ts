/**
 * AWS IoT allows one connection per client id: when the probe connects with a device's real id, AWS closes the
 * device's own connection. Our default id is unique; a user-given id that does not look like ours probably is a
 * device's, and the technician should know before the probe runs.
 */
import type { CheckResult } from '../src/model/index.js';
import type { DoctorCheck } from './types.js';

const META = { id: 'probe.client-id', title: 'Probe client id does not take over a live device' };

export const probeClientIdCheck: DoctorCheck = {
  ...META,
  family: 'route',
  async run(ctx): Promise<CheckResult[]> {
    const { target } = ctx;
    const base = { ...META, route: null, stage: null, durationMs: 0 };
    const commonName = /(?:^|\n)CN=([^\n]+)/.exec(ctx.credentials.cert?.leaf.subject ?? '')?.[1];
    if (!target.clientIdFromUser) {
      return [{ ...base, status: 'pass', code: 'CLIENT_ID_UNIQUE', summary: `the probe uses its own unique client id ${target.clientId}`, evidence: { clientId: target.clientId } }];
    }
    const looksOurs = target.clientId.startsWith('iot-doctor');
    if (looksOurs) {
      return [{ ...base, status: 'pass', code: 'CLIENT_ID_UNIQUE', summary: `client id ${target.clientId} is a probe id`, evidence: { clientId: target.clientId } }];
    }
    return [{
      ...base,
      status: 'warn',
      code: 'CLIENT_ID_MAY_BE_LIVE',
      summary: `the probe connects as ${target.clientId}${commonName === target.clientId ? ' (the certificate\'s own name)' : ''}: if the device is online with this id, AWS IoT disconnects it while the probe runs`,
      evidence: { clientId: target.clientId, ...(commonName ? { certificateCommonName: commonName } : {}) },
      hint: 'That is fine for reproducing the device\'s exact policy situation, but do it when the device is offline, or leave out --client-id to probe with a unique iot-doctor-<random> id.',
    }];
  },
};
