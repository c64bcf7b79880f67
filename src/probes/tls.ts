import type { Socket } from 'node:net';
import {
  checkServerIdentity,
  connect,
  createSecureContext,
  type ConnectionOptions,
  type SecureContext,
  type DetailedPeerCertificate,
  type TLSSocket,
} from 'node:tls';
import { errorCode, errorMessage } from '../errors.js';
import { MAX_HANDSHAKE_FLIGHT_BYTES, TlsRecordMeter, meteredStream, type TlsWireSizes } from './tls-records.js';

/** TLS alert descriptions (RFC 8446 §6, RFC 5246 §7.2) by number. */
export const TLS_ALERTS: Readonly<Record<number, string>> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  22: 'record_overflow',
  40: 'handshake_failure',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  109: 'missing_extension',
  110: 'unsupported_extension',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

/** Alerts a server sends when it does not accept the client's certificate. */
export const CLIENT_CERT_ALERTS = new Set([42, 43, 44, 45, 46, 48, 49, 116]);

/** A TLS alert by number and name (RFC 8446 §6). */
export interface TlsAlert {
  number: number;
  name: string;
}

/** Find the alert a peer sent in a Node/OpenSSL error ("... SSL alert number 48"). */
export function alertFromError(err: unknown): TlsAlert | undefined {
  const match = /alert number (\d+)/i.exec(errorMessage(err));
  if (match) {
    const number = Number(match[1]);
    return { number, name: TLS_ALERTS[number] ?? `alert_${number}` };
  }
  const code = errorCode(err) ?? '';
  if (code === 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME') return { number: 112, name: 'unrecognized_name' };
  const named = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_(\w+)$/.exec(code);
  if (named) {
    const name = named[1]!.toLowerCase();
    const entry = Object.entries(TLS_ALERTS).find(([, n]) => n === name);
    return { number: entry ? Number(entry[0]) : -1, name };
  }
  return undefined;
}

/** One certificate the server presented, as evidence (times as ISO 8601, fingerprint SHA-256 hex). */
export interface PeerCertificateInfo {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  fingerprint256: string;
  serialNumber: string;
  subjectAltName?: string;
  pem: string;
}

/** What became of the connection after the handshake: stages that wait (for another route, for a lock) read it. */
export class ConnectionFate {
  error: Error | undefined;
  closed = false;
  private waiters: (() => void)[] = [];

  /** @param socket the TLS socket of a completed handshake; listened to for error, end and close from now on. */
  constructor(socket: TLSSocket) {
    // Always listened to, so a reset while nothing else listens can never be an unhandled 'error'.
    socket.on('error', (err) => {
      this.error ??= err;
      this.settle();
    });
    socket.on('end', () => this.settle());
    socket.on('close', () => this.settle());
  }

  private settle(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when the server closes or resets the connection. */
  whenClosed(): Promise<void> {
    return this.closed ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  /** One phrase for a summary: the alert, a reset, or a plain close. */
  describe(): string {
    const alert = this.error ? alertFromError(this.error) : undefined;
    if (alert) return `the server sent TLS alert ${alert.name} (${alert.number}) and closed the connection`;
    if (this.error && errorCode(this.error) === 'ECONNRESET') return 'the server reset the connection';
    return 'the server closed the connection';
  }
}

/** A completed handshake; the caller owns `socket`. `durationMs` in milliseconds. */
export interface TlsSuccess {
  ok: true;
  socket: TLSSocket;
  fate: ConnectionFate;
  durationMs: number;
  protocol: string | null;
  cipher: string;
  alpn: string | false;
  /** Chain as presented by the server, leaf first. */
  chain: PeerCertificateInfo[];
  /** Verification of the chain against the CA file (Node's own verifier), `null` when trusted. */
  chainError: string | null;
  /** Hostname check of the leaf against the endpoint name, `null` when it matches. */
  hostnameError: string | null;
  sniSent: string | null;
  /** What the server sent, measured on the wire (records, Certificate message, flight). */
  wire: TlsWireSizes;
}

/** Failure codes of a handshake (all are route codes of the tls stage). */
export type TlsFailureCode =
  | 'TLS_STALLED'
  | 'TLS_RESET'
  | 'TLS_CLOSED'
  | 'TLS_ALERT'
  | 'TLS_NOT_TLS'
  | 'TLS_HANDSHAKE_TOO_LARGE'
  | 'TLS_CLIENT_CREDENTIALS_UNUSABLE'
  | 'TLS_ERROR';

/** A failed handshake (both sockets destroyed). */
export interface TlsFailure {
  ok: false;
  code: TlsFailureCode;
  message: string;
  durationMs: number;
  alert?: TlsAlert;
  /** Bytes the server sent before the failure (0 with TLS_STALLED means no ServerHello at all). */
  bytesFromServer: number;
  systemCode?: string;
  /** What the server sent before the failure, measured on the wire. */
  wire: TlsWireSizes;
}

/** What the client offers: SNI, ALPN, client credentials (PEM), trust anchors; `timeoutMs` in milliseconds. */
export interface TlsOptions {
  /** The endpoint name: checked against the certificate, and sent as SNI unless `sendSni` is false. */
  servername: string;
  /** False: send no server_name extension (a device whose TLS library sends none; facts §2.2). Default true. */
  sendSni?: boolean;
  alpn: string | null;
  /** Version and cipher limits of the device's TLS stack (`--tls-version`, `--ciphers`); default TLS 1.2-1.3. */
  limits?: Pick<ConnectionOptions, 'minVersion' | 'maxVersion' | 'ciphers'>;
  cert?: string;
  key?: string;
  /** Trust anchors; an empty list trusts nothing. */
  ca?: string | string[];
  timeoutMs: number;
}

function describeName(name: unknown): string {
  if (!name || typeof name !== 'object') return '';
  return Object.entries(name as Record<string, string | string[]>)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(', ');
}

function toPem(raw: Buffer): string {
  const b64 = raw
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** The chain the server presented, leaf first, as evidence (PEM text included; no private material exists here). */
export function presentedChain(socket: TLSSocket): PeerCertificateInfo[] {
  const chain: PeerCertificateInfo[] = [];
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push({
      subject: describeName(cert.subject),
      issuer: describeName(cert.issuer),
      validFrom: new Date(cert.valid_from).toISOString(),
      validTo: new Date(cert.valid_to).toISOString(),
      fingerprint256: cert.fingerprint256,
      serialNumber: cert.serialNumber,
      ...(cert.subjectaltname ? { subjectAltName: cert.subjectaltname } : {}),
      pem: toPem(cert.raw),
    });
    cert = cert.issuerCertificate;
  }
  return chain;
}

const contexts = new Map<string, SecureContext>();

/**
 * The TLS context for these credentials, trust anchors and limits, built once per process: the routes of a run
 * connect at the same moment, and parsing the key, the certificate and the CA bundle four times over would hold up
 * each other's handshakes. Throws as `tls.connect` would when the TLS library refuses the credentials (nothing is
 * cached then). Node never resumes a client session by itself, so sharing the context changes nothing on the wire.
 */
function sharedContext(opts: TlsOptions): SecureContext {
  const key = JSON.stringify([opts.cert ?? null, opts.key ?? null, opts.ca ?? null, opts.limits ?? null]);
  let context = contexts.get(key);
  if (!context) {
    context = createSecureContext({
      ...(opts.cert ? { cert: opts.cert } : {}),
      ...(opts.key ? { key: opts.key } : {}),
      ...(opts.ca ? { ca: opts.ca } : {}),
      minVersion: 'TLSv1.2',
      ...(opts.limits ?? {}),
    });
    if (contexts.size >= 16) contexts.clear();
    contexts.set(key, context);
  }
  return context;
}

function tlsConnectOptions(
  tcp: Socket,
  opts: TlsOptions,
  meter: TlsRecordMeter,
  onOverCap: () => void,
): ConnectionOptions {
  return {
    socket: meteredStream(tcp, meter, onOverCap),
    // Node sends SNI only when servername is set (facts §2.2).
    ...(opts.sendSni === false ? {} : { servername: opts.servername }),
    ...(opts.alpn ? { ALPNProtocols: [opts.alpn] } : {}),
    secureContext: sharedContext(opts),
    rejectUnauthorized: false,
  };
}

/** The local TLS context refused our own credentials (key does not match the certificate, unusable key). */
function credentialsUnusable(err: unknown, durationMs: number, wire: TlsWireSizes): TlsFailure {
  const systemCode = errorCode(err);
  return {
    ok: false,
    code: 'TLS_CLIENT_CREDENTIALS_UNUSABLE',
    message: `the TLS library refused the client certificate and key before connecting: ${errorMessage(err)}`,
    durationMs,
    bytesFromServer: 0,
    ...(systemCode ? { systemCode } : {}),
    wire,
  };
}

const NOT_TLS_ERRORS = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_RECORD_LAYER_FAILURE',
  'ERR_SSL_UNEXPECTED_RECORD',
  'ERR_SSL_HTTP_REQUEST',
]);

function closedMessage(bytesRead: number): string {
  return `the server closed the connection during the handshake (${bytesRead} bytes received)`;
}

/** The failure code and message of a handshake error (before any alert in it is looked at). */
function classifyHandshakeError(
  err: Error,
  bytesRead: number,
  finReceived: boolean,
): { code: TlsFailureCode; message: string } {
  const systemCode = errorCode(err);
  if (finReceived && (systemCode === 'ECONNRESET' || systemCode === 'ERR_SSL_UNEXPECTED_EOF_WHILE_READING')) {
    // Node reports a FIN before the handshake completed as ECONNRESET ("socket disconnected before secure TLS
    // connection was established"); the TCP stream says it was an orderly close.
    return { code: 'TLS_CLOSED', message: closedMessage(bytesRead) };
  }
  if (systemCode === 'ERR_SSL_EXCESSIVE_MESSAGE_SIZE') {
    return {
      code: 'TLS_HANDSHAKE_TOO_LARGE',
      message: `the server announced a handshake message larger than the TLS library accepts (${errorMessage(err)})`,
    };
  }
  if (systemCode === 'ECONNRESET' || systemCode === 'EPIPE') {
    return {
      code: 'TLS_RESET',
      message: `connection reset by the server during the handshake (${bytesRead} bytes received)`,
    };
  }
  if (systemCode && NOT_TLS_ERRORS.has(systemCode)) {
    return {
      code: 'TLS_NOT_TLS',
      message: `the server answered with something that is not TLS (${errorMessage(err)})`,
    };
  }
  return { code: 'TLS_ERROR', message: errorMessage(err) };
}

/** What the completed handshake shows: protocol, cipher, ALPN, the presented chain and both verifications. */
function handshakeSuccess(socket: TLSSocket, opts: TlsOptions, durationMs: number, meter: TlsRecordMeter): TlsSuccess {
  meter.finishHandshake();
  socket.removeAllListeners('error');
  socket.removeAllListeners('close');
  const fate = new ConnectionFate(socket);
  const chain = presentedChain(socket);
  const leaf = socket.getPeerCertificate();
  const identityError =
    leaf && leaf.raw ? checkServerIdentity(opts.servername, leaf) : new Error('no server certificate');
  const cipher = socket.getCipher();
  return {
    ok: true,
    socket,
    fate,
    durationMs,
    protocol: socket.getProtocol(),
    cipher: cipher?.standardName ?? cipher?.name ?? 'unknown',
    alpn: socket.alpnProtocol ?? false,
    chain,
    chainError: socket.authorized ? null : String(socket.authorizationError ?? 'unverified'),
    hostnameError: identityError ? identityError.message : null,
    sniSent: opts.sendSni === false ? null : opts.servername,
    wire: meter.sizes,
  };
}

/**
 * Run a TLS handshake over an open TCP socket or a proxy tunnel over one (`tcp`, which the TLS socket takes over),
 * within `opts.timeoutMs` milliseconds. The server's records are measured on the way in (`wire`). The chain and the name are checked here (not by Node's rejectUnauthorized) so that every failure can
 * be named precisely; the caller decides what a failure means. Never rejects: a failure (TLS_STALLED, TLS_RESET,
 * TLS_CLOSED, TLS_ALERT with the alert of RFC 8446 §6, TLS_NOT_TLS, TLS_CLIENT_CREDENTIALS_UNUSABLE, TLS_ERROR,
 * TLS_HANDSHAKE_TOO_LARGE past MAX_HANDSHAKE_FLIGHT_BYTES of server flight) has destroyed both sockets; on success the caller owns `socket`.
 */
export function tlsHandshake(tcp: Socket, opts: TlsOptions): Promise<TlsSuccess | TlsFailure> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const meter = new TlsRecordMeter();
  let overCap = (): void => undefined;
  let socket: TLSSocket;
  try {
    socket = connect(tlsConnectOptions(tcp, opts, meter, () => overCap()));
  } catch (err) {
    // Nothing was sent to the server.
    tcp.destroy();
    return Promise.resolve(credentialsUnusable(err, elapsed(), meter.sizes));
  }
  return new Promise((resolve) => {
    let settled = false;
    const fail = (code: TlsFailureCode, message: string, err?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const alert = err === undefined ? undefined : alertFromError(err);
      const systemCode = err === undefined ? undefined : errorCode(err);
      socket.destroy();
      tcp.destroy();
      resolve({
        ok: false,
        code: alert ? 'TLS_ALERT' : code,
        message,
        durationMs: elapsed(),
        bytesFromServer: tcp.bytesRead,
        ...(alert ? { alert } : {}),
        ...(systemCode ? { systemCode } : {}),
        wire: meter.sizes,
      });
    };
    const timer = setTimeout(() => {
      const got = tcp.bytesRead;
      fail(
        'TLS_STALLED',
        got === 0
          ? `no ServerHello within ${opts.timeoutMs} ms (the server accepted TCP but never answered the ClientHello)`
          : `handshake stalled after ${got} bytes from the server (no completion within ${opts.timeoutMs} ms)`,
      );
    }, opts.timeoutMs);
    overCap = () =>
      fail(
        'TLS_HANDSHAKE_TOO_LARGE',
        `the server sent more than ${MAX_HANDSHAKE_FLIGHT_BYTES} bytes without completing the handshake ` +
          `(${meter.sizes.records} records); AWS IoT's whole chain is a few KB`,
      );
    socket.once('secureConnect', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(handshakeSuccess(socket, opts, elapsed(), meter));
    });
    let finReceived = false;
    tcp.once('end', () => (finReceived = true));
    socket.once('error', (err) => {
      const { code, message } = classifyHandshakeError(err, tcp.bytesRead, finReceived);
      fail(code, message, err);
    });
    socket.once('close', () => fail('TLS_CLOSED', closedMessage(tcp.bytesRead)));
  });
}
