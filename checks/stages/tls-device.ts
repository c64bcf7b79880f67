/**
 * The device's own TLS stack in the `tls` stage (`--tls-version`, `--ciphers`, `--max-record`, `--no-sni`,
 * `--no-alpn`): the handshake options that imitate it, the sizes measured on the wire (every route reports them so
 * buffers can be sized: field-notes §3.3, §3.4), the `--max-record` verdict, and, when the device's handshake fails,
 * the comparison handshakes that tell which device setting is the cause (a modern client, each version alone, each
 * AWS TLS 1.2 suite alone, with SNI). AWS's reaction to a refused version or cipher (alert 70/40 or a bare close) is
 * unconfirmed (field-notes §3.2), so the verdict rests on the comparisons, not on the alert alone.
 */
import type { Socket } from 'node:net';
import { connectTcp } from '../../src/probes/tcp.js';
import { proxyConnect } from '../../src/probes/proxy-connect.js';
import {
  acceptedCiphers,
  describeDeviceTls,
  deviceTlsOptions,
  isDeviceTlsSet,
  tryHandshake,
  type DeviceTls,
} from '../../src/probes/device-tls.js';
import type { TlsOptions } from '../../src/probes/tls.js';
import type { TlsWireSizes } from '../../src/probes/tls-records.js';
import { TOOL_VERSION } from '../../src/version.js';
import type { RouteRun, StageOutcome } from '../route-stage.js';
import { proxyDestination } from '../route-transport-proxy.js';
import { stepMs } from '../../src/runner/deadline.js';

/** The device's TLS settings of the run (`MODERN` when no flag is given). */
export function deviceOf(run: RouteRun): DeviceTls {
  return run.ctx.target.deviceTls ?? { sni: true, alpn: true };
}

/** The ALPN protocol this route offers: the kind's, unless the device offers none (`--no-alpn`). */
export function offeredAlpn(run: RouteRun): string | null {
  return deviceOf(run).alpn ? run.spec.alpn : null;
}

/** The handshake options of `tlsHandshake` that make it the device's: SNI, ALPN, versions and ciphers. */
export function deviceHandshake(run: RouteRun): Pick<TlsOptions, 'servername' | 'sendSni' | 'alpn' | 'limits'> {
  const device = deviceOf(run);
  return {
    servername: run.dest.name,
    sendSni: device.sni,
    alpn: offeredAlpn(run),
    limits: deviceTlsOptions(device),
  };
}

/** The wire sizes as cell evidence (bytes). */
export function wireEvidence(wire: TlsWireSizes): Record<string, number | null> {
  return {
    largestRecordBytes: wire.largestRecordBytes,
    certificateMessageBytes: wire.certificateMessageBytes,
    serverFlightBytes: wire.serverFlightBytes,
  };
}

/** The input buffer the device needs: the largest record, and the whole Certificate message when it was seen. */
export function bytesNeeded(wire: TlsWireSizes): number {
  return Math.max(wire.largestRecordBytes, wire.certificateMessageBytes ?? 0);
}

/** TLS_RECORD_TOO_LARGE when the server sent more than `--max-record` in one record or Certificate message. */
export function recordLimitOutcome(run: RouteRun, wire: TlsWireSizes, durationMs: number): StageOutcome | null {
  const max = deviceOf(run).maxRecord;
  const needed = bytesNeeded(wire);
  if (max === undefined || needed <= max) return null;
  const what =
    wire.certificateMessageBytes !== null && wire.certificateMessageBytes > max
      ? `a Certificate message of ${wire.certificateMessageBytes} bytes`
      : `a TLS record of ${wire.largestRecordBytes} bytes`;
  return {
    stage: 'tls',
    status: 'fail',
    code: 'TLS_RECORD_TOO_LARGE',
    durationMs,
    summary: `the server sent ${what}; the device's TLS input buffer (--max-record ${max}) holds ${max}: it needs at least ${needed}`,
    evidence: { ...wireEvidence(wire), maxRecord: max, bytesNeeded: needed },
  };
}

/** A fresh connection to the endpoint made the way this route made its own (direct, or through the proxy). */
async function reopen(run: RouteRun): Promise<Socket | null> {
  const { target } = run.ctx;
  const peer = run.peer;
  if (!peer) return null;
  const tcp = await connectTcp(peer.address, peer.port, stepMs(run.ctx));
  if (!tcp.ok) return null;
  if (run.spec.transport !== 'proxy' || !target.proxy) return tcp.socket;
  const tunnel = await proxyConnect(tcp.socket, target.proxy, proxyDestination(run), {
    timeoutMs: stepMs(run.ctx),
    userAgent: `iot-doctor/${TOOL_VERSION}`,
  });
  return tunnel.ok ? tcp.socket : null;
}

/** One bare handshake over a fresh connection; 'ok', or how it failed. */
async function attempt(run: RouteRun, sni: boolean, options: Parameters<typeof tryHandshake>[2]): Promise<string> {
  const socket = await reopen(run);
  if (!socket) return 'no connection';
  const servername = sni ? run.dest.name : null;
  const alpn = run.spec.alpn ? { ALPNProtocols: [run.spec.alpn] } : {};
  const result = await tryHandshake(socket, servername, { ...options, ...alpn }, stepMs(run.ctx), run.dest.name);
  if (result.ok) return result.nameMatches ? 'ok' : 'certificate for another name';
  return result.alert ? `alert ${result.alert.name} (${result.alert.number})` : result.message;
}

/**
 * After the device's handshake failed (or got a certificate for another name): what a modern client gets over the
 * same path, and, for the settings the device changed, what the endpoint accepts instead. Only runs when a device
 * flag is set. Returns evidence for the `tls` cell.
 */
export async function compareWithDevice(run: RouteRun): Promise<Record<string, unknown>> {
  const device = deviceOf(run);
  if (!isDeviceTlsSet(device)) return {};
  const out: Record<string, unknown> = {
    flags: describeDeviceTls(device),
    ...(device.version ? { version: device.version } : {}),
    ...(device.ciphers ? { ciphers: device.ciphers.split(':') } : {}),
    modernHandshake: await attempt(run, true, { minVersion: 'TLSv1.2' }),
  };
  if (!device.sni) out['withSni'] = await attempt(run, true, deviceTlsOptions({ ...device, sni: true }));
  if (device.version !== undefined) {
    const versions: string[] = [];
    for (const v of ['1.2', '1.3'] as const) {
      const tag = v === '1.2' ? 'TLSv1.2' : 'TLSv1.3';
      if ((await attempt(run, device.sni, { minVersion: tag, maxVersion: tag })) === 'ok') versions.push(v);
    }
    out['acceptedVersions'] = versions;
  }
  if (device.ciphers !== undefined) {
    out['acceptedCiphers'] = await acceptedCiphers(
      () => reopen(run),
      device.sni ? run.dest.name : null,
      stepMs(run.ctx),
    );
  }
  return out;
}
