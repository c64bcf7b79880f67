/**
 * Lifecycle events (facts §3.3, field notes §7.5; https://docs.aws.amazon.com/iot/latest/developerguide/life-cycle-events.html):
 * `$aws/events/presence/connected|disconnected|connect_failed/<clientId>`, published by the broker on every accepted
 * CONNECT, every close of an accepted connection and every CONNECT refused for authorization (including a Last Will
 * the client may not publish). Client ids containing `#` or `+` get no events.
 */
import { randomUUID } from 'node:crypto';

/** The lifecycle event topic prefix (field notes §7.5). */
export const PRESENCE_PREFIX = '$aws/events/presence/';

/** Publishes one event on both brokers (QoS 0, not retained). */
export type PresencePublisher = (topic: string, payload: Buffer) => void;

/** Values of `disconnectReason` the lab produces (facts §3.3). */
export type DisconnectReason = 'CLIENT_INITIATED_DISCONNECT' | 'CONNECTION_LOST' | 'AUTH_ERROR' | 'CLIENT_ERROR';

/** One accepted connection's session, from its `connected` event to its `disconnected` event. */
export interface PresenceSession {
  /** Publishes `disconnected` once; later calls do nothing. */
  disconnected(reason: DisconnectReason): void;
}

/** What an event says about the connection. */
export interface PresenceSubject {
  clientId: string;
  /** Certificate id of the mTLS principal (facts §5). */
  principalIdentifier: string;
  ipAddress?: string;
}

/**
 * The lab's lifecycle event source: `connected()` at an accepted CONNECT returns the session whose
 * `disconnected()` ends it; `connectFailed()` at a CONNECT refused for authorization. Version numbers grow per
 * client id. Never throws.
 */
export class Presence {
  private readonly versions = new Map<string, number>();

  /** @param publish sends one event; errors are the publisher's to swallow. */
  constructor(private readonly publish: PresencePublisher) {}

  /** `connected` event; the returned session publishes `disconnected` with the same version number. */
  connected(subject: PresenceSubject): PresenceSession {
    const sessionIdentifier = randomUUID();
    const versionNumber = (this.versions.get(subject.clientId) ?? 0) + 1;
    this.versions.set(subject.clientId, versionNumber);
    this.emit('connected', subject, { sessionIdentifier, versionNumber, ...ip(subject) });
    let done = false;
    return {
      disconnected: (reason) => {
        if (done) return;
        done = true;
        const clientInitiatedDisconnect = reason === 'CLIENT_INITIATED_DISCONNECT';
        const extra = { sessionIdentifier, versionNumber, clientInitiatedDisconnect, disconnectReason: reason };
        this.emit('disconnected', subject, extra);
      },
    };
  }

  /** `connect_failed` event with `connectFailureReason: AUTHORIZATION_FAILED` (field notes §7.5). */
  connectFailed(subject: PresenceSubject): void {
    const extra = { sessionIdentifier: randomUUID(), connectFailureReason: 'AUTHORIZATION_FAILED', ...ip(subject) };
    this.emit('connect_failed', subject, extra);
  }

  private emit(eventType: string, subject: PresenceSubject, extra: Record<string, unknown>): void {
    if (/[#+]/.test(subject.clientId)) return;
    const event = {
      clientId: subject.clientId,
      timestamp: Date.now(),
      eventType,
      principalIdentifier: subject.principalIdentifier,
      ...extra,
    };
    this.publish(`${PRESENCE_PREFIX}${eventType}/${subject.clientId}`, Buffer.from(JSON.stringify(event)));
  }
}

function ip(subject: PresenceSubject): { ipAddress?: string } {
  return subject.ipAddress ? { ipAddress: subject.ipAddress.replace(/^::ffff:/, '') } : {};
}
