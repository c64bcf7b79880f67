/**
 * The device's own TLS stack, as the probe imitates it: the only version it speaks (`--tls-version`), the TLS 1.2
 * cipher suites it offers (`--ciphers`, OpenSSL names), its TLS input buffer (`--max-record`), whether it sends SNI
 * (`--no-sni`) and ALPN (`--no-alpn`). Without flags nothing changes: Node's TLS 1.2-1.3 with SNI and the route's ALPN.
 *
 * Sources: AWS security policies and suites (facts §2.1, field-notes §3.1); Node `minVersion`/`maxVersion`/`ciphers`
 * (field-notes §3.2); buffers (field-notes §3.4).
 */
import { checkServerIdentity, createSecureContext, connect, type ConnectionOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import { UsageError, errorMessage } from '../errors.js';
import { alertFromError, type TlsAlert } from './tls.js';

/** The device's TLS settings. `undefined` fields mean "as Node does by default". */
export interface DeviceTls {
  version?: '1.2' | '1.3';
  /** OpenSSL cipher names for TLS 1.2, joined with ':'. */
  ciphers?: string;
  /** The device's TLS input buffer in bytes: a larger record or certificate message does not fit. */
  maxRecord?: number;
  /** False: the device sends no server_name extension. */
  sni: boolean;
  /** False: the device offers no ALPN, even on 443. */
  alpn: boolean;
}

/** The defaults: what a modern client does. */
export const MODERN_TLS: DeviceTls = { sni: true, alpn: true };

/** The flags as the command line parser gives them. */
export interface DeviceTlsFlags {
  'tls-version'?: string;
  ciphers?: string;
  'max-record'?: number;
  sni?: boolean;
  alpn?: boolean;
}

/** The TLS 1.2 suites AWS IoT security policies allow, in OpenSSL names (field-notes §3.1, policies B-E). */
export const AWS_TLS12_SUITES: readonly string[] = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES128-SHA256',
  'ECDHE-RSA-AES128-SHA256',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES256-SHA384',
  'ECDHE-RSA-AES256-SHA384',
  'ECDHE-RSA-AES256-SHA',
  'ECDHE-ECDSA-AES256-SHA',
  'AES128-GCM-SHA256',
  'AES128-SHA256',
  'AES128-SHA',
  'AES256-GCM-SHA384',
  'AES256-SHA256',
  'AES256-SHA',
  'DHE-RSA-AES256-SHA',
];

/** Smallest and largest accepted `--max-record` (bytes). */
export const MAX_RECORD_RANGE = { min: 256, max: 1 << 20 } as const;

/** Validate the flags: bad input throws a UsageError with one clear line. */
export function parseDeviceTls(flags: DeviceTlsFlags): DeviceTls {
  const out: DeviceTls = { sni: flags.sni ?? true, alpn: flags.alpn ?? true };
  const version = flags['tls-version'];
  if (version !== undefined) {
    if (version !== '1.2' && version !== '1.3')
      throw new UsageError(`--tls-version must be 1.2 or 1.3, got "${version}"`);
    out.version = version;
  }
  if (flags.ciphers !== undefined) {
    const list = flags.ciphers.split(/[:,\s]+/).filter(Boolean);
    if (list.length === 0)
      throw new UsageError('--ciphers needs at least one OpenSSL cipher name, e.g. ECDHE-RSA-AES128-GCM-SHA256');
    if (version === '1.3')
      throw new UsageError('--ciphers sets the TLS 1.2 suites; it cannot be combined with --tls-version 1.3');
    for (const name of list) {
      try {
        createSecureContext({ ciphers: name, maxVersion: 'TLSv1.2' });
      } catch {
        throw new UsageError(
          `--ciphers: "${name}" is not an OpenSSL cipher name this TLS library knows (e.g. ECDHE-RSA-AES128-GCM-SHA256)`,
        );
      }
    }
    out.ciphers = list.join(':');
  }
  const max = flags['max-record'];
  if (max !== undefined) {
    if (!Number.isInteger(max) || max < MAX_RECORD_RANGE.min || max > MAX_RECORD_RANGE.max) {
      throw new UsageError(
        `--max-record must be a whole number of bytes from ${MAX_RECORD_RANGE.min} to ${MAX_RECORD_RANGE.max}, got ${max}`,
      );
    }
    out.maxRecord = max;
  }
  return out;
}

/** True when any flag changes the handshake or its verdict. */
export function isDeviceTlsSet(d: DeviceTls): boolean {
  return d.version !== undefined || d.ciphers !== undefined || d.maxRecord !== undefined || !d.sni || !d.alpn;
}

/** The `tls.connect` options that make Node's handshake look like the device's. */
export function deviceTlsOptions(d: DeviceTls): Pick<ConnectionOptions, 'minVersion' | 'maxVersion' | 'ciphers'> {
  const version = d.version === '1.2' ? 'TLSv1.2' : d.version === '1.3' ? 'TLSv1.3' : undefined;
  return {
    minVersion: version ?? 'TLSv1.2',
    ...(version ? { maxVersion: version } : {}),
    ...(d.ciphers ? { ciphers: d.ciphers } : {}),
  };
}

/** The same settings as `openssl s_client` flags (for the reproduce line). */
export function deviceTlsSClientArgs(d: DeviceTls): string[] {
  return [
    ...(d.version === '1.2' ? ['-tls1_2'] : d.version === '1.3' ? ['-tls1_3'] : []),
    ...(d.ciphers ? ['-cipher', d.ciphers] : []),
    ...(d.sni ? [] : ['-noservername']),
  ];
}

/** The flags as they would be given on the command line again (for messages and reports). */
export function describeDeviceTls(d: DeviceTls): string[] {
  return [
    ...(d.version ? [`--tls-version ${d.version}`] : []),
    ...(d.ciphers ? [`--ciphers ${d.ciphers}`] : []),
    ...(d.maxRecord !== undefined ? [`--max-record ${d.maxRecord}`] : []),
    ...(d.sni ? [] : ['--no-sni']),
    ...(d.alpn ? [] : ['--no-alpn']),
  ];
}

/** The outcome of one bare handshake attempt: completed, or the alert (or plain close) that ended it. */
export type HandshakeAttempt =
  | { ok: true; protocol: string | null; cipher: string; nameMatches: boolean }
  | { ok: false; alert?: TlsAlert; message: string };

/**
 * One TLS handshake over `socket` with the given settings and no chain verification (used to find what the endpoint
 * accepts); `nameMatches` says whether the certificate covers `expectName` (default: the SNI sent). Bounded by
 * `timeoutMs`; the socket is always destroyed afterwards.
 */
export function tryHandshake(
  socket: Duplex,
  servername: string | null,
  opts: ConnectionOptions,
  timeoutMs: number,
  expectName?: string,
): Promise<HandshakeAttempt> {
  return new Promise((resolve) => {
    let done = false;
    const tls = connect({ socket, ...(servername ? { servername } : {}), rejectUnauthorized: false, ...opts });
    const finish = (outcome: HandshakeAttempt): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      tls.destroy();
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ ok: false, message: `no handshake within ${timeoutMs} ms` }), timeoutMs);
    tls.once('secureConnect', () => {
      const cipher = tls.getCipher();
      const leaf = tls.getPeerCertificate();
      const name = expectName ?? servername;
      const nameMatches = !name || (!!leaf?.raw && checkServerIdentity(name, leaf) === undefined);
      finish({ ok: true, protocol: tls.getProtocol(), cipher: cipher?.name ?? 'unknown', nameMatches });
    });
    tls.once('error', (err) => {
      const alert = alertFromError(err);
      finish({ ok: false, message: errorMessage(err), ...(alert ? { alert } : {}) });
    });
    tls.once('close', () => finish({ ok: false, message: 'closed during the handshake' }));
  });
}

/**
 * Find the TLS 1.2 suites the endpoint accepts by offering each alone (`candidates`, default the AWS list), a few at
 * a time. `open` gives a fresh connection to the endpoint (direct or through the proxy) or null when it cannot.
 */
export async function acceptedCiphers(
  open: () => Promise<Duplex | null>,
  servername: string | null,
  timeoutMs: number,
  candidates: readonly string[] = AWS_TLS12_SUITES,
  parallel = 4,
): Promise<string[]> {
  const accepted: string[] = [];
  const queue = [...candidates];
  const worker = async (): Promise<void> => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const socket = await open();
      if (!socket) continue;
      const result = await tryHandshake(
        socket,
        servername,
        { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: name },
        timeoutMs,
      );
      if (result.ok) accepted.push(name);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, candidates.length) }, worker));
  return candidates.filter((c) => accepted.includes(c));
}
