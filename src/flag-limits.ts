/**
 * The limits AWS IoT puts on what the probe sends, checked on the flags before any network step, so that a value
 * AWS would refuse is one line and exit 2 instead of a run that fails in a confusing way. Sources: AWS IoT Core
 * message broker limits (https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits, facts
 * §3.1): client id ≤ 128 bytes, topic ≤ 256 bytes of UTF-8 with at most 7 slashes (not counting the `$aws/rules/
 * <rule>/` prefix of Basic Ingest), keep-alive 30–1200 s; MQTT 3.1.1 §4.7 (no wildcards in a topic name) and §1.5.3
 * (no U+0000).
 */
import { UsageError } from './errors.js';

/** Where the limits come from, as messages name it. */
export const BROKER_LIMITS_SOURCE = 'AWS IoT message broker limits, facts §3.1';
/** Longest topic AWS IoT accepts, in bytes of UTF-8. */
export const TOPIC_MAX_BYTES = 256;
/** Most slashes in a topic, after the optional `$aws/rules/<rule>/` prefix. */
export const TOPIC_MAX_SLASHES = 7;
/** Keep-alive range AWS IoT honours, seconds (facts §3.1). */
export const KEEPALIVE_MIN_S = 30;
export const KEEPALIVE_MAX_S = 1200;
/**
 * Smallest `--timeout`, ms: TCP's initial retransmission timeout is 1 s (RFC 6298 §2.1), so below it one lost SYN
 * already fails a healthy path; the value is in milliseconds, and `--timeout 1.5` meant seconds.
 */
export const TIMEOUT_FLOOR_MS = 1000;

/** `value` for a message: at most `max` characters, the middle replaced by `…` with the full length named. */
export function shorten(value: string, max = 60): string {
  if (value.length <= max) return value;
  const keep = Math.floor((max - 1) / 2);
  return `${value.slice(0, keep)}…${value.slice(-keep)} (${value.length} characters)`;
}

/**
 * `--topic`: a topic name AWS IoT accepts for PUBLISH and as a SUBSCRIBE filter without wildcards: non-empty, no
 * `#` or `+`, no U+0000, ≤ TOPIC_MAX_BYTES of UTF-8, ≤ TOPIC_MAX_SLASHES slashes after an optional
 * `$aws/rules/<rule>/`. Returns the topic.
 * @throws UsageError naming the limit and its source.
 */
export function parseTopic(topic: string): string {
  const bad = (why: string): UsageError => new UsageError(`--topic "${shorten(topic)}" ${why}`);
  if (topic === '') throw bad('is empty: a topic name has at least one character (MQTT 3.1.1 §4.7.3)');
  if (/[#+]/.test(topic)) {
    throw bad('holds a wildcard (# or +): the probe publishes to it, and a topic name has none (MQTT 3.1.1 §4.7.1)');
  }
  if (topic.includes('\u0000')) throw bad('holds U+0000, which MQTT forbids in strings (MQTT 3.1.1 §1.5.3)');
  const bytes = Buffer.byteLength(topic, 'utf8');
  if (bytes > TOPIC_MAX_BYTES) {
    throw bad(`is ${bytes} bytes of UTF-8; AWS IoT accepts at most ${TOPIC_MAX_BYTES} (${BROKER_LIMITS_SOURCE})`);
  }
  const rest = topic.replace(/^\$aws\/rules\/[^/]+\//, '');
  const slashes = rest.split('/').length - 1;
  if (slashes > TOPIC_MAX_SLASHES) {
    throw bad(
      `has ${slashes} slashes; AWS IoT accepts at most ${TOPIC_MAX_SLASHES} (after an optional $aws/rules/<rule>/: ` +
        `${BROKER_LIMITS_SOURCE})`,
    );
  }
  return topic;
}

/**
 * `--keepalive` in seconds: an integer from KEEPALIVE_MIN_S to KEEPALIVE_MAX_S (AWS IoT turns other values into
 * 30 or 1200 s: facts §3.1, so the run would not test what was asked). Default 30.
 * @throws UsageError naming the range and its source.
 */
export function parseKeepalive(value: number | undefined): number {
  if (value === undefined) return KEEPALIVE_MIN_S;
  if (!Number.isInteger(value) || value < KEEPALIVE_MIN_S || value > KEEPALIVE_MAX_S) {
    throw new UsageError(
      `--keepalive ${value} is outside ${KEEPALIVE_MIN_S}-${KEEPALIVE_MAX_S} seconds, the range AWS IoT honours ` +
        `(${BROKER_LIMITS_SOURCE})`,
    );
  }
  return value;
}

/** Whether a client id can stand in a topic: MQTT wildcards (`#`, `+`) cannot (MQTT 3.1.1 §4.7.1). */
export function clientIdFitsTopic(clientId: string): boolean {
  return !/[#+]/.test(clientId);
}

/**
 * The probe's default topic for a client id: `iot-doctor/<client id>/probe`, or, when the id holds `#` or `+`
 * (legal in a client id, impossible in a topic; AWS IoT also sends no lifecycle events for it: facts §3.3),
 * the same with each wildcard replaced by `_` (`dev#1` → `iot-doctor/dev_1/probe`).
 */
export function defaultTopicFor(clientId: string): string {
  return clientIdFitsTopic(clientId)
    ? `iot-doctor/${clientId}/probe`
    : `iot-doctor/${clientId.replace(/[#+]/g, '_')}/probe`;
}
