/**
 * What the lab records, read with the real AWS SDK clients (field notes §7–8): one connection per client id across
 * MQTT 3.1.1 and 5 (the older one closed, MQTT 5 with DISCONNECT 0x8E), 1 CONNECT per second per client id,
 * GetThingConnectivityData, GetV2LoggingOptions, and FilterLogEvents over the entries the data plane wrote.
 */
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetThingConnectivityDataCommand, GetV2LoggingOptionsCommand, IoTClient } from '@aws-sdk/client-iot';
import { TestAuthorizationCommand } from '@aws-sdk/client-iot';
import type { IDisconnectPacket } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMosquitto } from '../../src/lab/broker.js';
import { createLabPki, startLab, type Lab, type LabPki } from '../../src/lab/index.js';
import { endClient, mqttAttempt } from '../helpers/lab-clients.js';

const hasMosquitto = findMosquitto() !== undefined;
const credentials = { accessKeyId: 'AKIDLAB', secretAccessKey: 'lab' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let pki: LabPki;
const labs: Lab[] = [];

async function lab(scenario = 'healthy'): Promise<Lab> {
  const l = await startLab({ pki, scenario });
  labs.push(l);
  return l;
}

const iot = (l: Lab): IoTClient => new IoTClient({ region: l.region, endpoint: l.apiEndpoint, credentials });
const logs = (l: Lab): CloudWatchLogsClient =>
  new CloudWatchLogsClient({ region: l.region, endpoint: l.apiEndpoint, credentials, maxAttempts: 1 });

async function logEntries(l: Lab, clientId: string): Promise<Record<string, unknown>[]> {
  const out = await logs(l).send(
    new FilterLogEventsCommand({
      logGroupName: 'AWSIotLogsV2',
      startTime: Date.now() - 60_000,
      endTime: Date.now() + 1_000,
      filterPattern: `{ $.clientId = "${clientId}" }`,
    }),
  );
  return (out.events ?? []).map((e) => JSON.parse(e.message ?? '{}') as Record<string, unknown>);
}

beforeAll(() => {
  pki = createLabPki('ec');
});

afterAll(async () => {
  await Promise.all(labs.map((l) => l.close()));
});

describe.skipIf(!hasMosquitto)('lab records: session takeover across MQTT versions', () => {
  it('a second CONNECT with the same client id closes the older connection, MQTT 5 with DISCONNECT 0x8E', async () => {
    const l = await lab();
    const clientId = l.device.thingName;
    const first = await mqttAttempt(l, { version: 5, clientId });
    expect(first.kind).toBe('connack');
    if (first.kind !== 'connack') return;
    const disconnect = new Promise<number | undefined>((resolve) => {
      first.client.on('disconnect', (p: IDisconnectPacket) => resolve(p.reasonCode));
      first.client.on('close', () => resolve(undefined));
    });
    await sleep(1_100); // facts §3.1: 1 CONNECT per second per client id
    const second = await mqttAttempt(l, { version: 4, clientId });
    expect(second.kind).toBe('connack');
    expect(await disconnect).toBe(0x8e);

    const data = await iot(l).send(new GetThingConnectivityDataCommand({ thingName: clientId }));
    expect(data.connected).toBe(true);
    expect(data.disconnectReason).toBe('NONE');

    // And the other way round: a 3.1.1 connection taken over by MQTT 5 is closed.
    if (second.kind !== 'connack') return;
    const closed = new Promise<void>((resolve) => second.client.on('close', () => resolve()));
    await sleep(1_100);
    const third = await mqttAttempt(l, { version: 5, clientId });
    expect(third.kind).toBe('connack');
    await closed;
    if (third.kind === 'connack') await third.client.endAsync(); // sends DISCONNECT
    await sleep(200);
    const after = await iot(l).send(
      new GetThingConnectivityDataCommand({ thingName: clientId, includeSocketInformation: true }),
    );
    expect(after.connected).toBe(false);
    expect(after.disconnectReason).toBe('CLIENT_INITIATED_DISCONNECT');
    expect(after.sourceIp).toBe('127.0.0.1');

    // Logging is on at ERROR: the takeovers are recorded, the successful connects are not.
    const entries = await logEntries(l, clientId);
    const takeovers = entries.filter((e) => e['eventType'] === 'Disconnect' && e['status'] === 'Failure');
    expect(takeovers.map((e) => e['disconnectReason'])).toEqual(['DUPLICATE_CLIENT_ID', 'DUPLICATE_CLIENT_ID']);
    expect(takeovers[0]).toMatchObject({ logLevel: 'ERROR', protocol: 'MQTT', clientId, accountId: l.accountId });
    expect(entries.some((e) => e['status'] === 'Success')).toBe(false);
  });

  it('a second CONNECT within one second for one client id is throttled (3.1.1: closed; 5: CONNACK 0x97)', async () => {
    const l = await lab();
    const clientId = 'throttle-test';
    const first = await mqttAttempt(l, { version: 4, clientId });
    expect(first.kind).toBe('connack');
    const again = await mqttAttempt(l, { version: 4, clientId });
    expect(again.kind).toBe('closed');
    const v5 = await mqttAttempt(l, { version: 5, clientId });
    expect(v5.kind === 'refused' && v5.reasonCode).toBe(0x97);
    if (first.kind === 'connack') await endClient(first.client);
  });
});

describe('lab records: connect denied, logging on and off', () => {
  it('connect-denied-logged: the refused CONNECT is in the logs; TestAuthorization is denied to the caller', async () => {
    const l = await lab('connect-denied-logged');
    const refused = await mqttAttempt(l, { version: 4, clientId: l.device.clientId });
    expect(refused.kind).toBe('closed');
    const entries = await logEntries(l, l.device.clientId);
    expect(entries).toEqual([
      expect.objectContaining({
        eventType: 'Connect',
        status: 'Failure',
        logLevel: 'ERROR',
        reason: 'AUTHORIZATION_FAILURE',
        principalId: l.device.certificateId,
      }),
    ]);
    const test = iot(l).send(
      new TestAuthorizationCommand({
        principal: `arn:aws:iot:${l.region}:${l.accountId}:cert/${l.device.certificateId}`,
        authInfos: [{ actionType: 'CONNECT', resources: ['*'] }],
      }),
    );
    await expect(test).rejects.toMatchObject({ name: 'AccessDeniedException' });
    const options = await iot(l).send(new GetV2LoggingOptionsCommand({}));
    expect(options).toMatchObject({ defaultLogLevel: 'ERROR', disableAllLogs: false });
  });

  it('logging-off: GetV2LoggingOptions says DISABLED and the log group does not exist', async () => {
    const l = await lab('logging-off');
    const refused = await mqttAttempt(l, { version: 4, clientId: l.device.clientId });
    expect(refused.kind).toBe('closed');
    const options = await iot(l).send(new GetV2LoggingOptionsCommand({}));
    expect(options.defaultLogLevel).toBe('DISABLED');
    await expect(logEntries(l, l.device.clientId)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('FilterLogEvents denied to the caller answers AccessDeniedException naming logs:FilterLogEvents', async () => {
    const l = await lab('connect-denied-logged');
    l.faults.api.accessDenied.add('logs:FilterLogEvents');
    const err = await logEntries(l, 'x').catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ name: 'AccessDeniedException' });
    expect((err as Error).message).toContain('logs:FilterLogEvents');
  });

  it('a never-connected thing: connected false, UNKNOWN', async () => {
    const l = await lab();
    const data = await iot(l).send(new GetThingConnectivityDataCommand({ thingName: l.device.thingName }));
    expect(data).toMatchObject({ connected: false, disconnectReason: 'UNKNOWN' });
  });
});
