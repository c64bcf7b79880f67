/**
 * Control-plane operations on what AWS IoT records about connections: GetThingConnectivityData (field notes §7.2;
 * facts §6: `POST /things/{thingName}/connectivity-data`) and GetV2LoggingOptions (field notes §7.6:
 * `GET /v2LoggingOptions`). Both read the data plane's records (records.ts).
 */
import { epoch, notFound, type ApiContext, type ApiRequest, type Operation } from './operation.js';

/**
 * GetThingConnectivityData: the record of the client id equal to the thing name (field notes §7.2: the client id
 * must equal the thing name). A thing that never connected answers `connected: false`, `disconnectReason: UNKNOWN`.
 * Socket fields only with `includeSocketInformation: true`. Throws ResourceNotFoundException for an unknown thing.
 */
function getThingConnectivityData(req: ApiRequest, { registry, records }: ApiContext): unknown {
  const name = req.params['thingName'] ?? '';
  if (!registry.getThing(name)) throw notFound(`Thing ${name} cannot be found.`);
  const row = records?.connectivityOf(name);
  if (!row) return { thingName: name, connected: false, disconnectReason: 'UNKNOWN' };
  const out: Record<string, unknown> = {
    thingName: name,
    connected: row.connected,
    timestamp: epoch(new Date(row.timestamp)),
    disconnectReason: row.disconnectReason,
    clientId: row.clientId,
  };
  if (row.keepAliveDuration !== undefined) out['keepAliveDuration'] = row.keepAliveDuration;
  if (row.cleanSession !== undefined) out['cleanSession'] = row.cleanSession;
  if (req.body['includeSocketInformation'] === true) {
    for (const k of ['sourceIp', 'sourcePort', 'targetIp', 'targetPort'] as const) {
      if (row[k] !== undefined) out[k] = row[k];
    }
  }
  return out;
}

/** GetV2LoggingOptions: the account's logging role, default level and disableAllLogs (field notes §7.6). */
function getV2LoggingOptions(_req: ApiRequest, { records }: ApiContext): unknown {
  const logging = records?.logging ?? { defaultLogLevel: 'DISABLED', disableAllLogs: false };
  return {
    ...(logging.roleArn ? { roleArn: logging.roleArn } : {}),
    defaultLogLevel: logging.defaultLogLevel,
    disableAllLogs: logging.disableAllLogs,
  };
}

/** The operation rows of this family. */
export const RECORD_OPERATIONS: readonly Operation[] = [
  {
    name: 'GetThingConnectivityData',
    method: 'POST',
    path: '/things/{thingName}/connectivity-data',
    resource: (req, ctx) => ctx.registry.thingArn(req.params['thingName'] ?? ''),
    handle: getThingConnectivityData,
  },
  {
    name: 'GetV2LoggingOptions',
    method: 'GET',
    path: '/v2LoggingOptions',
    resource: () => '*',
    handle: getV2LoggingOptions,
  },
];
