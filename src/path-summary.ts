/**
 * The report's account of the field path (issue 12): which proxy the run used and why (or why none), which address
 * families the direct routes probed and why one is absent, and the device's TLS settings. Built from the planned
 * Target; the proxy appears as its URL without credentials (never the user name or password).
 */
import { isIP } from 'node:net';
import type { TargetSummary } from './model/index.js';
import type { Target } from './target.js';

type PathSummary = Pick<TargetSummary, 'proxy' | 'families' | 'deviceTls'>;

function proxyPart(target: Target): PathSummary['proxy'] {
  if (target.proxyReason === undefined) return undefined;
  const p = target.proxy;
  if (!p) return { reason: target.proxyReason };
  const host = isIP(p.host) === 6 ? `[${p.host}]` : p.host;
  return {
    url: `${p.kind}://${host}:${p.port}`,
    source: p.source,
    credentials: p.user !== undefined,
    reason: target.proxyReason,
  };
}

/**
 * The `proxy`, `families` and `deviceTls` fields of a report's target: each only when the run decided it (a
 * `check` run: proxy flags read, routes planned, device TLS parsed). Shapes: `proxy` {url?, source?, credentials?,
 * reason}; `families` {probed: [4|6…], reason}; `deviceTls` {tlsVersion?, ciphers?, maxRecord? (bytes), sni, alpn}.
 */
export function pathSummary(target: Target): PathSummary {
  const proxy = proxyPart(target);
  const d = target.deviceTls;
  return {
    ...(proxy ? { proxy } : {}),
    ...(target.plannedFamilies && target.familiesReason
      ? { families: { probed: target.plannedFamilies, reason: target.familiesReason } }
      : {}),
    ...(d
      ? {
          deviceTls: {
            ...(d.version ? { tlsVersion: d.version } : {}),
            ...(d.ciphers ? { ciphers: d.ciphers } : {}),
            ...(d.maxRecord !== undefined ? { maxRecord: d.maxRecord } : {}),
            sni: d.sni,
            alpn: d.alpn,
          },
        }
      : {}),
  };
}
