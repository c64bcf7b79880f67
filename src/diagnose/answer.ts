/**
 * ANSWER_NOT_AWS_IOT: a route's server answered after TLS, but not with the MQTT or HTTP AWS IoT speaks (bytes that
 * are no MQTT packet or no HTTP response, or a packet or header far above AWS's limits: facts §3.1, §3.2). A
 * middlebox or another service is on the path; no certificate or policy can cause it, so no such advice is given.
 */
import type { Finding } from '../model/index.js';
import type { ResultCode } from './codes.js';
import { finding, ids, list, routeSeverity, type Facts } from './facts.js';

/** Route cell codes that say the answer was not AWS IoT's protocol. */
export const NOT_AWS_ANSWER_CODES: readonly ResultCode[] = [
  'MQTT_NOT_MQTT',
  'MQTT_PACKET_TOO_LARGE',
  'HTTP_NOT_HTTP',
  'HTTP_RESPONSE_TOO_LARGE',
];

/** ANSWER_NOT_AWS_IOT, from the route cells with a NOT_AWS_ANSWER_CODES code; certain: the bytes are in evidence. */
export function answerNotAwsIot(facts: Facts): Finding[] {
  const cells = facts.routeCells(NOT_AWS_ANSWER_CODES);
  if (cells.length === 0) return [];
  const routes = [...new Set(cells.map((c) => c.route!))];
  const what = cells.map((c) => `${c.route}: ${c.summary}`);
  return [
    finding('ANSWER_NOT_AWS_IOT', {
      severity: routeSeverity(facts),
      confidence: 'certain',
      title: `Something other than AWS IoT answers on ${list(routes)}`,
      explanation:
        `TLS completed, but what came back is not the protocol AWS IoT speaks (${what.join('; ')}). A proxy, ` +
        'captive portal or other middlebox in the path, or another service on that address and port, answers ' +
        'instead of AWS IoT. No certificate, key or policy makes AWS IoT answer like this.',
      remediation: [
        'Find what answers: the bytes it sent are in the summary (an HTTP status line means a web proxy or portal).',
        'Bypass it (another network, the proxy settings of the device), or use a route that works.',
        'Check the endpoint name (aws iot describe-endpoint --endpoint-type iot:Data-ATS) and any --connect-to rule.',
      ],
      params: { routes, codes: [...new Set(cells.map((c) => c.code))] },
      evidence: ids(cells),
    }),
  ];
}

/**
 * TLS_HANDSHAKE_TOO_LARGE, from the tls cells with that code: the server sent more than 64 KB without completing the
 * handshake, where AWS IoT's default chain is about 5 KB and a custom domain's at most 16 KB (field-notes §3.3).
 * Certain: the byte count is measured on the wire. No certificate advice: what answers is not AWS IoT.
 */
export function tlsHandshakeTooLarge(facts: Facts): Finding[] {
  const cells = facts.routeCells(['TLS_HANDSHAKE_TOO_LARGE'], 'tls');
  if (cells.length === 0) return [];
  const routes = [...new Set(cells.map((c) => c.route!))];
  return [
    finding('TLS_HANDSHAKE_TOO_LARGE', {
      severity: routeSeverity(facts),
      confidence: 'certain',
      title: `The server's TLS handshake on ${list(routes)} is far larger than AWS IoT's`,
      explanation:
        `The server sent more than 64 KB without completing the handshake (${cells.map((c) => `${c.route}: ${c.summary}`).join('; ')}). ` +
        "AWS IoT's whole certificate chain is a few KB (a custom domain's at most 16 KB): something else answers on " +
        'that address and port, a middlebox or another service. The handshake was cut there, before any verdict on ' +
        'certificates.',
      remediation: [
        'Find what answers on that address and port: openssl s_client shows the certificates it sends.',
        'Bypass it (another network, the proxy settings of the device), or use a route that works.',
        'Check the endpoint name (aws iot describe-endpoint --endpoint-type iot:Data-ATS) and any --connect-to rule.',
      ],
      params: { routes },
      evidence: ids(cells),
    }),
  ];
}
