/**
 * What the lab's data plane records about its MQTT connections, as AWS IoT does (field notes §7–8):
 *
 * - **One connection per client id** across MQTT 3.1.1 and 5: a new accepted CONNECT closes the older connection
 *   with the same client id; an MQTT 5 one first gets DISCONNECT 0x8E (Session taken over) (facts §3, §3.2; field
 *   notes §8). The displaced connection's disconnect reason is `DUPLICATE_CLIENTID` (field notes §7.3).
 * - **1 CONNECT per second per client id** (facts §3.1): a second CONNECT within 1000 ms is throttled.
 * - **Connectivity data** per client id (`GetThingConnectivityData`, field notes §7.2): connected, since when, the
 *   last disconnect reason and the socket details.
 * - **AWS IoT logs** (`AWSIotLogsV2`, field notes §7.6): one JSON entry per Connect / Disconnect / Publish-In /
 *   Subscribe with status and reason, written only when logging is on at a level that includes the entry. Failures
 *   are logged at ERROR (documented); successes at INFO (AWS's level for them is unconfirmed).
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';

/** AWS IoT v2 logging levels (field notes §7.6), most verbose first. */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'DISABLED'] as const;
/** One AWS IoT v2 logging level. */
export type LabLogLevel = (typeof LOG_LEVELS)[number];

/** The account's logging options, as `GetV2LoggingOptions` answers them (facts §6, field notes §7.6). */
export interface LabLogging {
  /** Default log level; `DISABLED` writes nothing. */
  defaultLogLevel: LabLogLevel;
  /** `SetV2LoggingOptions` disableAllLogs. */
  disableAllLogs: boolean;
  /** The role AWS IoT writes logs with; absent when logging was never set up. */
  roleArn?: string;
}

/**
 * The CloudWatch Logs wording of a disconnect by session takeover; which one AWS writes today is unconfirmed
 * (field notes §8: `DUPLICATE_CLIENT_ID` in the older text form, `SESSION_TAKEN_OVER` seen with MQTT 5).
 */
export type TakeoverLogReason = 'DUPLICATE_CLIENT_ID' | 'SESSION_TAKEN_OVER';

/** The log group AWS IoT writes to (field notes §7.6). */
export const LAB_LOG_GROUP = 'AWSIotLogsV2';
/** Entries kept; the oldest are dropped beyond this (a client in a loop must not grow the lab without bound). */
const MAX_LOG_ENTRIES = 10_000;
/** Minimum spacing of CONNECTs per client id (facts §3.1: 1 CONNECT per second per client id). */
export const CONNECT_INTERVAL_MS = 1_000;

/** One log entry: when it was ingested (ms epoch) and its JSON message. */
export interface LabLogEntry {
  timestamp: number;
  logStreamName: string;
  eventId: string;
  message: string;
}

/** The connectivity record of one client id (field notes §7.2). */
export interface ConnectivityRecord {
  clientId: string;
  connected: boolean;
  /** ms epoch of the last change. */
  timestamp: number;
  /** `NONE` while connected (field notes §7.2), else the last reason (§7.3). */
  disconnectReason: string;
  sourceIp?: string;
  sourcePort?: number;
  targetIp?: string;
  targetPort?: number;
  keepAliveDuration?: number;
  cleanSession?: boolean;
}

/** One accepted MQTT connection, as the session table holds it. */
export interface LabSession {
  clientId: string;
  /** MQTT protocol level: 4 (3.1.1) or 5. */
  version: 4 | 5;
  socket: Socket;
  principalId: string;
  keepAlive?: number;
  cleanSession?: boolean;
  /** Closes the connection without a word (the lab's hang-up). */
  hangUp: (socket: Socket) => void;
  /** Writes DISCONNECT with `reasonCode` to an MQTT 5 client (unused for 3.1.1). */
  sendDisconnect: (reasonCode: number) => void;
}

/** MQTT 5 DISCONNECT reason: Session taken over (facts §3.2). */
const SESSION_TAKEN_OVER = 0x8e;

interface SessionState extends LabSession {
  /** Why the lab closes it, when the lab does; else decided at close. */
  reason?: string;
  clientDisconnected?: boolean;
}

/** Fields of a log entry beyond the ones every entry carries. */
export type LogFields = Record<string, string | number | undefined>;

/**
 * The lab's records (see the file comment). `now` is injectable for tests (ms epoch). Never throws on a network
 * event; every collection is bounded (log entries capped at 10,000; the maps hold one row per client id seen).
 */
export class LabRecords {
  private readonly sessions = new Map<string, SessionState>();
  private readonly bySocket = new WeakMap<Socket, SessionState>();
  private readonly lastConnect = new Map<string, number>();
  private readonly connectivity = new Map<string, ConnectivityRecord>();
  private readonly entries: LabLogEntry[] = [];
  private readonly stream = `lab-${randomUUID()}`;

  /**
   * @param accountId the account written into every log entry.
   * @param logging the account's logging options; mutable (a test may switch logging on or off).
   * @param takeoverReason the log wording of a takeover disconnect (unconfirmed, see `TakeoverLogReason`).
   */
  constructor(
    readonly accountId: string,
    public logging: LabLogging,
    readonly takeoverReason: TakeoverLogReason = 'DUPLICATE_CLIENT_ID',
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Whether a CONNECT for `clientId` arriving now is throttled (facts §3.1: 1 CONNECT/s per client id). A CONNECT
   * that is not throttled starts a new 1 s window; a throttled one does not.
   */
  throttled(clientId: string): boolean {
    const t = this.now();
    const last = this.lastConnect.get(clientId);
    if (last !== undefined && t - last < CONNECT_INTERVAL_MS) return true;
    this.lastConnect.set(clientId, t);
    return false;
  }

  /**
   * Registers an accepted connection. An older connection with the same client id (either MQTT version) is closed:
   * MQTT 5 after DISCONNECT 0x8E; its disconnect reason becomes `DUPLICATE_CLIENTID`. Records the Connect (Success)
   * entry and the connectivity row; the close of `session.socket` is recorded when it happens.
   */
  connected(session: LabSession, peer: { ip?: string; port?: number; localIp?: string; localPort?: number }): void {
    const older = this.sessions.get(session.clientId);
    if (older && older.socket !== session.socket) this.takeOver(older);
    const state: SessionState = { ...session };
    this.sessions.set(session.clientId, state);
    this.bySocket.set(session.socket, state);
    const row: ConnectivityRecord = {
      clientId: session.clientId,
      connected: true,
      timestamp: this.now(),
      disconnectReason: 'NONE',
    };
    if (peer.ip) row.sourceIp = peer.ip;
    if (peer.port !== undefined) row.sourcePort = peer.port;
    if (peer.localIp) row.targetIp = peer.localIp;
    if (peer.localPort !== undefined) row.targetPort = peer.localPort;
    if (session.keepAlive !== undefined) row.keepAliveDuration = session.keepAlive;
    if (session.cleanSession !== undefined) row.cleanSession = session.cleanSession;
    this.connectivity.set(session.clientId, row);
    this.log('INFO', 'Success', 'Connect', this.brokerFields(state));
    session.socket.once('close', () => this.closed(state));
  }

  private takeOver(older: SessionState): void {
    older.reason = 'DUPLICATE_CLIENTID';
    if (older.version === 5) older.sendDisconnect(SESSION_TAKEN_OVER);
    older.hangUp(older.socket);
  }

  /**
   * The connection on `socket` sent DISCONNECT: its close is client-initiated, and its session is over now (MQTT
   * 3.1.1 §3.14.4: the server discards it and closes the connection), so a CONNECT with the same client id that
   * arrives before the connection has finished closing is a new session, not a takeover.
   */
  clientDisconnect(socket: Socket): void {
    const s = this.bySocket.get(socket);
    if (!s) return;
    s.clientDisconnected = true;
    if (this.sessions.get(s.clientId) !== s) return;
    this.sessions.delete(s.clientId);
    const row = this.connectivity.get(s.clientId);
    if (row)
      Object.assign(row, { connected: false, timestamp: this.now(), disconnectReason: 'CLIENT_INITIATED_DISCONNECT' });
  }

  /** The lab is closing the connection on `socket` for `reason` (a lifecycle disconnect reason, §7.3). */
  closing(socket: Socket, reason: string): void {
    const s = this.bySocket.get(socket);
    if (s && !s.reason) s.reason = reason;
  }

  private closed(s: SessionState): void {
    const reason = s.reason ?? (s.clientDisconnected ? 'CLIENT_INITIATED_DISCONNECT' : 'CONNECTION_LOST');
    if (this.sessions.get(s.clientId) === s) {
      this.sessions.delete(s.clientId);
      const row = this.connectivity.get(s.clientId);
      if (row) Object.assign(row, { connected: false, timestamp: this.now(), disconnectReason: reason });
    }
    const logged = reason === 'DUPLICATE_CLIENTID' ? this.takeoverReason : reason;
    const fields = { ...this.brokerFields(s), disconnectReason: logged };
    if (reason === 'CLIENT_INITIATED_DISCONNECT') this.log('INFO', 'Success', 'Disconnect', fields);
    else this.log('ERROR', 'Failure', 'Disconnect', fields);
  }

  /**
   * A refused CONNECT (facts §3 table: CloudWatch `Connect` event `"reason":"AUTHORIZATION_FAILURE"`), written at
   * ERROR. `principalId` is absent when the certificate is unknown to the account.
   */
  connectFailed(x: { clientId: string; principalId?: string; socket: Socket; reason: string; details: string }): void {
    const fields: LogFields = {
      ...this.socketFields(x.socket),
      clientId: x.clientId,
      principalId: x.principalId,
      reason: x.reason,
      details: x.details,
    };
    this.log('ERROR', 'Failure', 'Connect', fields);
  }

  /** A refused PUBLISH or SUBSCRIBE on `socket`'s connection (`eventType` Publish-In / Subscribe), at ERROR. */
  operationFailed(socket: Socket, eventType: 'Publish-In' | 'Subscribe', topicName: string, details: string): void {
    const s = this.bySocket.get(socket);
    const base: LogFields = s ? this.brokerFields(s) : this.socketFields(socket);
    const fields = { ...base, topicName, reason: 'AUTHORIZATION_FAILURE', details };
    this.log('ERROR', 'Failure', eventType, fields);
  }

  /** The connectivity row of `clientId` (a copy), or undefined when it never connected. */
  connectivityOf(clientId: string): ConnectivityRecord | undefined {
    const row = this.connectivity.get(clientId);
    return row ? { ...row } : undefined;
  }

  /** The log group's entries (copies) in ingestion order; empty when nothing was ever written. */
  logEntries(): LabLogEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  /** Whether the log group exists: logging was on and an entry was written (field notes §7.6). */
  logGroupExists(): boolean {
    return this.entries.length > 0;
  }

  private brokerFields(s: LabSession): LogFields {
    return { ...this.socketFields(s.socket), clientId: s.clientId, principalId: s.principalId };
  }

  private socketFields(socket: Socket): LogFields {
    return { protocol: 'MQTT', sourceIp: socket.remoteAddress, sourcePort: socket.remotePort };
  }

  /** Writes one entry when logging is on at `level` or more verbose (field notes §7.6 entry fields). */
  private log(level: LabLogLevel, status: 'Success' | 'Failure', eventType: string, fields: LogFields): void {
    const { defaultLogLevel, disableAllLogs } = this.logging;
    if (disableAllLogs || defaultLogLevel === 'DISABLED') return;
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(defaultLogLevel)) return;
    const t = this.now();
    const entry: Record<string, unknown> = {
      timestamp: new Date(t).toISOString().replace('T', ' ').replace('Z', ''),
      logLevel: level,
      traceId: randomUUID(),
      accountId: this.accountId,
      status,
      eventType,
    };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) entry[k] = v;
    this.entries.push({
      timestamp: t,
      logStreamName: this.stream,
      eventId: randomUUID(),
      message: JSON.stringify(entry),
    });
    if (this.entries.length > MAX_LOG_ENTRIES) this.entries.splice(0, this.entries.length - MAX_LOG_ENTRIES);
  }
}
