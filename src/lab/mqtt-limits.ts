/**
 * AWS IoT's message-broker limits that the lab enforces on both MQTT versions (facts §3.1; AWS "message broker
 * limits" page, https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits): client id of at
 * most 128 bytes and not starting with `$`, topic names and filters of at most 256 bytes with at most 7 slashes,
 * payloads of at most 128 KB, keep-alive raised to 30 s and capped at 1200 s.
 */

/** Longest client id in bytes (facts §3.1). */
export const MAX_CLIENT_ID_BYTES = 128;
/** Longest topic name or filter in UTF-8 bytes (AWS message broker limits). */
export const MAX_TOPIC_BYTES = 256;
/** Most forward slashes in a topic name or filter (AWS message broker limits). */
export const MAX_TOPIC_SLASHES = 7;
/** Largest PUBLISH payload in bytes: 128 KB (facts §3.1, §3.2). */
export const MAX_PAYLOAD_BYTES = 128 * 1024;
/** Keep-alive bounds in seconds (facts §3.1). */
export const MIN_KEEPALIVE_S = 30;
export const MAX_KEEPALIVE_S = 1200;

/** Why a client id is refused, or undefined when AWS accepts it (facts §3.1: ≤ 128 bytes, `$` prefix reserved). */
export function clientIdProblem(clientId: string): string | undefined {
  if (Buffer.byteLength(clientId, 'utf8') > MAX_CLIENT_ID_BYTES) return `client id over ${MAX_CLIENT_ID_BYTES} bytes`;
  if (clientId.startsWith('$')) return 'client id starts with $ (reserved)';
  return undefined;
}

/** Why a topic name or filter is refused, or undefined: at most 256 bytes and 7 slashes (AWS broker limits). */
export function topicProblem(topic: string): string | undefined {
  if (Buffer.byteLength(topic, 'utf8') > MAX_TOPIC_BYTES) return `topic over ${MAX_TOPIC_BYTES} bytes`;
  if ((topic.match(/\//g)?.length ?? 0) > MAX_TOPIC_SLASHES) return `topic with more than ${MAX_TOPIC_SLASHES} slashes`;
  return undefined;
}

/**
 * The keep-alive AWS applies to a requested one, in seconds (facts §3.1): 1-29 → 30, over 1200 → 1200, 0 → 1200
 * (the 2019 limits page; whether 0 still means 1200 is unconfirmed, and no test can wait that long to tell).
 */
export function effectiveKeepalive(requested: number): number {
  if (requested === 0 || requested > MAX_KEEPALIVE_S) return MAX_KEEPALIVE_S;
  return Math.max(requested, MIN_KEEPALIVE_S);
}
