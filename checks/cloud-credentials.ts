import { iotApiFor } from '../src/probes/iot-api.js';
import { buildResult } from '../src/model/result.js';
import { awsConfigureList } from './cloud-cli-util.js';
import { sessionFailureOutcome } from './cloud-failure-util.js';
import type { DoctorCheck } from './types.js';
import { CLOUD_COMMON_CODES } from './cloud-check-util.js';

const META = { id: 'cloud.credentials', title: 'AWS credentials and region are available for the cloud checks' };

/** Every code cloud.credentials reports. */
export const CLOUD_CREDENTIALS_CODES = ['CLOUD_CREDENTIALS_OK', ...CLOUD_COMMON_CODES] as const;

/**
 * cloud.credentials: the SDK's standard credential chain and the region. Reports the kind of source only (env,
 * profile:<name>, sso, instance ...), never a key. Without credentials every cloud check is a skip, not a failure.
 */
export const cloudCredentialsCheck: DoctorCheck = {
  ...META,
  family: 'cloud',
  async run(ctx) {
    const started = performance.now();
    const s = await iotApiFor(ctx).session();
    if (!s.ok) return [buildResult(META, started, sessionFailureOutcome(s, ctx.target, true))];
    const session = s.value;
    const extras = [
      session.accountId ? `account ${session.accountId}` : '',
      session.endpointUrl ? `API endpoint ${session.endpointUrl} (${session.endpointFrom})` : '',
    ].filter(Boolean);
    return [
      buildResult(META, started, {
        status: 'pass',
        code: 'CLOUD_CREDENTIALS_OK',
        summary: `AWS credentials from ${session.source}, region ${session.region}${extras.length ? `, ${extras.join(', ')}` : ''}`,
        evidence: {
          region: session.region,
          regionFrom: session.regionFrom,
          source: session.source,
          ...(session.profile ? { profile: session.profile } : {}),
          ...(session.accountId ? { accountId: session.accountId } : {}),
          ...(session.endpointUrl ? { apiEndpoint: session.endpointUrl, apiEndpointFrom: session.endpointFrom } : {}),
          ...(session.notes.length ? { notes: session.notes } : {}),
        },
        reproduce: awsConfigureList(ctx.target),
      }),
    ];
  },
};
