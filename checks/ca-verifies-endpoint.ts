/**
 * ca.verifies-endpoint: does the CA file alone (not the system store) verify the chain the endpoint actually
 * presented? One result per distinct chain the routes saw (the first keeps the check id, later ones get
 * `ca.verifies-endpoint:<route>`).
 */
import { X509Certificate } from 'node:crypto';
import { ROUTES, type CheckResult, type Evidence } from '../src/model/index.js';
import { buildResult, type Outcome } from '../src/model/result.js';
import type { DeviceFiles } from '../src/probes/device-files.js';
import {
  amazonRootCertificates,
  certDetails,
  certificateIdOf,
  formatDn,
  isIssuedBy,
  isSelfSigned,
  matchKnownRoot,
  parsePemBlocks,
} from '../src/probes/pem.js';
import { hostPort, shq } from '../src/probes/shell.js';
import type { PeerCertificateInfo } from '../src/probes/tls.js';
import { isoDate, LOCAL_SKIP_CODES, skipIfMissing } from './local-util.js';
import type { DoctorCheck } from './types.js';

/** Id and title of ca.verifies-endpoint. */
export const CA_VERIFIES_ENDPOINT = {
  id: 'ca.verifies-endpoint',
  title: "CA file verifies the endpoint's server certificate chain",
} as const;

/** Every code ca.verifies-endpoint reports. */
export const CA_VERIFIES_ENDPOINT_CODES = [
  'CA_NO_PRESENTED_CHAIN',
  'CA_CHAIN_UNREADABLE',
  'CA_CHAIN_NOT_TIME_VALID',
  'CA_VERIFIES_CHAIN_PARTIAL',
  'CA_VERIFIES_CHAIN',
  'CA_DOES_NOT_VERIFY_CHAIN',
  ...LOCAL_SKIP_CODES,
] as const;
export type CaVerifiesEndpointCode = (typeof CA_VERIFIES_ENDPOINT_CODES)[number];
type CaOutcome = Outcome<CaVerifiesEndpointCode>;

const MAX_DEPTH = 10;

/** Options of `checkCaVerifiesChain`. */
export interface VerifyOptions {
  /** Time to judge validity periods at; defaults to now. */
  now?: Date;
  /** Port the chain was seen on, for the reproduce command; defaults to 8883. */
  port?: number;
  /** Address the route really connected to (--connect-to), for the reproduce command; defaults to the endpoint. */
  address?: string;
}

/** A certification path walk: verified or not, the path taken and the anchor reached. */
export interface PathResult {
  verified: boolean;
  /** Leaf first; the presented certificates used. */
  path: X509Certificate[];
  anchor?: X509Certificate;
  /** Why the walk stopped when it did not verify. */
  reason?: string;
}

/**
 * Builds a path from the presented leaf (`presented[0]`) to a certificate in `anchors`, using the other presented
 * certificates as intermediates (RFC 5280 §6 path building, simplified). Each link is checked by issuer name and
 * signature; intermediates must be CA certificates; at most 10 links. Pure; never throws.
 */
export function verifyPath(presented: readonly X509Certificate[], anchors: readonly X509Certificate[]): PathResult {
  const leaf = presented[0];
  if (!leaf) return { verified: false, path: [], reason: 'no certificate presented' };
  const anchorIds = new Set(anchors.map(certificateIdOf));
  const pool = presented.slice(1);
  const path: X509Certificate[] = [leaf];
  let current = leaf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (anchorIds.has(certificateIdOf(current))) {
      return { verified: true, path: path.slice(0, -1), anchor: current };
    }
    const anchor = anchors.find((a) => isIssuedBy(current, a));
    if (anchor) return { verified: true, path, anchor };
    const nextIndex = pool.findIndex((c) => c !== current && isIssuedBy(current, c));
    if (nextIndex < 0) {
      const selfSigned = isSelfSigned(current);
      return {
        verified: false,
        path,
        reason: selfSigned
          ? `the chain ends at the self-signed ${formatDn(current.subject)}, which is not in the CA file`
          : `nothing in the CA file issued ${formatDn(current.subject)} (issuer ${formatDn(current.issuer)})`,
      };
    }
    const next = pool.splice(nextIndex, 1)[0]!;
    if (!next.ca) {
      const reason = `${formatDn(next.subject)} signs ${formatDn(current.subject)} but is not a CA certificate`;
      return { verified: false, path, reason };
    }
    path.push(next);
    current = next;
  }
  return { verified: false, path, reason: 'the chain is longer than 10 certificates' };
}

function parsePresented(chain: readonly string[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const text of chain) {
    const blocks = parsePemBlocks(text).filter((b) => /CERTIFICATE$/.test(b.label));
    if (blocks.length === 0) {
      out.push(new X509Certificate(text));
      continue;
    }
    for (const b of blocks) {
      if (!b.der) throw new Error('a presented certificate does not decode');
      out.push(new X509Certificate(b.der));
    }
  }
  return out;
}

function describe(c: X509Certificate) {
  return { subject: formatDn(c.subject), issuer: formatDn(c.issuer), sha256: certificateIdOf(c) };
}

interface Verification {
  credentials: DeviceFiles;
  presented: X509Certificate[];
  caLabel: string;
  evidence: Evidence;
  reproduce: string;
  now: Date;
}

/**
 * ca.verifies-endpoint for one presented chain: does the CA file alone (not the system store) anchor it?
 * `presentedChainPem` is the server's chain as the TLS stage saw it, leaf first (one certificate per string, or
 * several PEM blocks in one string). Skips (`SKIP_CODES`) without a CA file; `error` CA_CHAIN_UNREADABLE when the
 * chain does not parse. Pure: no I/O.
 */
export function checkCaVerifiesChain(
  credentials: DeviceFiles,
  presentedChainPem: string[],
  endpoint: string,
  opts: VerifyOptions = {},
): CheckResult {
  const started = performance.now();
  const meta = CA_VERIFIES_ENDPOINT;
  const skip = skipIfMissing(meta, started, credentials, ['ca']);
  if (skip) return skip;
  const ca = credentials.ca!;
  const caArg = ca.path ? shq(ca.path) : 'AmazonRootCA1.pem';
  const reproduce =
    `openssl s_client -connect ${hostPort(opts.address ?? endpoint, opts.port ?? 8883)} -servername ${shq(endpoint)}` +
    ` -CAfile ${caArg} -verify_return_error -showcerts </dev/null`;

  if (presentedChainPem.length === 0) {
    return buildResult(meta, started, {
      status: 'skip',
      code: 'CA_NO_PRESENTED_CHAIN',
      summary: 'no server certificate chain to verify (the TLS handshake did not get that far)',
      evidence: { endpoint },
    } satisfies CaOutcome);
  }
  let presented: X509Certificate[];
  try {
    presented = parsePresented(presentedChainPem);
  } catch {
    return buildResult(meta, started, {
      status: 'error',
      code: 'CA_CHAIN_UNREADABLE',
      summary: 'the server certificate chain handed to this check could not be parsed',
      evidence: { endpoint, certificates: presentedChainPem.length },
    } satisfies CaOutcome);
  }
  const evidence: Evidence = {
    endpoint,
    caFile: ca.path ?? 'bundled Amazon roots',
    presented: presented.map(describe),
    caCertificates: ca.certs.map((c) => formatDn(c.subject)),
  };
  const v: Verification = {
    credentials,
    presented,
    caLabel: ca.isDefault ? 'the bundled Amazon roots' : 'the CA file',
    evidence,
    reproduce,
    now: opts.now ?? new Date(),
  };
  const path = verifyPath(presented, ca.certs);
  return buildResult(meta, started, path.verified ? verifiedOutcome(v, path) : notVerifiedOutcome(v, path));
}

/** The chain verified: pass, or a warning when a certificate on it is out of its validity period or the anchor is no root. */
function verifiedOutcome(v: Verification, result: PathResult): CaOutcome {
  const { caLabel, now, reproduce } = v;
  const anchor = result.anchor!;
  const root = matchKnownRoot(anchor);
  const anchorName = root ? root.name : formatDn(anchor.subject);
  const outOfTime = [...result.path, anchor].find((c) => {
    const d = certDetails(c);
    return now < d.notBefore || now > d.notAfter;
  });
  const evidence = {
    ...v.evidence,
    verifiedPath: result.path.map((c) => formatDn(c.subject)),
    anchor: anchorName,
    anchorSha256: certificateIdOf(anchor),
  };
  if (outOfTime) {
    const d = certDetails(outOfTime);
    const when = now > d.notAfter ? `expired since ${isoDate(d.notAfter)}` : `not valid until ${isoDate(d.notBefore)}`;
    return {
      status: 'warn',
      code: 'CA_CHAIN_NOT_TIME_VALID',
      summary: `${caLabel} anchors the server chain (${anchorName}), but ${formatDn(outOfTime.subject)} is ${when} at ${isoDate(now)}`,
      evidence: { ...evidence, now: isoDate(now) },
      hint:
        'either the server presents an expired certificate (or something in the path intercepts TLS), ' +
        "or this machine's clock is wrong: compare date -u with a trusted time source",
      reproduce,
    };
  }
  if (!isSelfSigned(anchor)) {
    return {
      status: 'warn',
      code: 'CA_VERIFIES_CHAIN_PARTIAL',
      summary:
        `${caLabel} verifies the server chain only up to ${anchorName}, which is not a root: ` +
        'OpenSSL-based clients (and Node) need the root itself',
      evidence,
      hint: 'add the root that issued it (for AWS IoT: AmazonRootCA1.pem / AmazonRootCA3.pem) to the CA file',
      reproduce,
    };
  }
  const names = [...result.path, anchor].map((c) => formatDn(c.subject).replace(/^.*CN=/, ''));
  return {
    status: 'pass',
    code: 'CA_VERIFIES_CHAIN',
    summary: `${caLabel} verifies the server chain: ${names.join(' <- ')}`,
    evidence,
    reproduce,
  };
}

/** The chain did not verify: fail, with a hint saying what would have worked (the Amazon root it chains to, if any). */
function notVerifiedOutcome(v: Verification, result: PathResult): CaOutcome {
  const { credentials, presented, evidence } = v;
  const ca = credentials.ca!;
  let hint: string;
  const amazon = ca.isDefault ? undefined : verifyPath(presented, amazonRootCertificates());
  const leaf = presented[0]!;
  const device = credentials.cert;
  const deviceIssuer = device
    ? ca.certs.some((c) => [device.leaf, ...device.chain].some((d) => isIssuedBy(d, c)))
    : false;
  if (amazon?.verified) {
    const name = matchKnownRoot(amazon.anchor!)?.name ?? formatDn(amazon.anchor!.subject);
    hint =
      `the endpoint chains to ${name}, which the CA file lacks` +
      `${deviceIssuer ? ' (it holds the CA that issued the device certificate instead)' : ''}: ` +
      'use AmazonRootCA1.pem and AmazonRootCA3.pem from https://www.amazontrust.com/repository/';
    evidence.wouldVerifyWith = name;
  } else {
    const top = result.path[result.path.length - 1] ?? leaf;
    hint =
      `the server's chain leads to ${formatDn(top.issuer)}, which is not an Amazon root: a TLS-inspecting proxy, ` +
      'a wrong endpoint or --connect-to target, or a custom domain with its own certificate may be in the path';
  }
  return {
    status: 'fail',
    code: 'CA_DOES_NOT_VERIFY_CHAIN',
    summary: `${v.caLabel} does not verify the server chain: ${result.reason}`,
    evidence: { ...evidence, verifiedPath: result.path.map((c) => formatDn(c.subject)) },
    hint,
    reproduce: v.reproduce,
  };
}

/**
 * The ca.verifies-endpoint check: waits for every route, then verifies each distinct presented chain (by leaf
 * SHA-256 fingerprint) against the CA file; a skip `CA_NO_PRESENTED_CHAIN` when no route completed TLS.
 */
export const caVerifiesEndpointCheck: DoctorCheck = {
  id: CA_VERIFIES_ENDPOINT.id,
  title: CA_VERIFIES_ENDPOINT.title,
  family: 'ca',
  // Every route to the data endpoint presents its chain: the four mTLS routes, and the WebSocket and custom-auth
  // routes on 443 (server-authenticated TLS to the same name); not the credential provider's, another host.
  needs: Object.entries(ROUTES)
    .filter(([, spec]) => spec.host !== 'credentials')
    .map(([id]) => `route.${id}`),
  async run(ctx, deps): Promise<CheckResult[]> {
    const seen = new Map<string, string>();
    const results: CheckResult[] = [];
    for (const [checkId, list] of deps) {
      const tls = list.find((r) => r.stage === 'tls');
      const chain = (tls?.evidence.chain as PeerCertificateInfo[] | undefined) ?? [];
      const leaf = chain[0];
      if (!tls?.route || !leaf || seen.has(leaf.fingerprint256)) continue;
      seen.set(leaf.fingerprint256, checkId);
      const port = (tls.evidence.port as number | undefined) ?? undefined;
      const address = tls.evidence.address as string | undefined;
      const pems = chain.map((c) => c.pem);
      const result = checkCaVerifiesChain(ctx.credentials, pems, ctx.target.endpoint, {
        now: ctx.now(),
        ...(port ? { port } : {}),
        ...(address ? { address } : {}),
      });
      const first = results.length === 0;
      results.push({
        ...result,
        id: first ? result.id : `${result.id}:${tls.route}`,
        evidence: { ...result.evidence, route: tls.route, leafFingerprint256: leaf.fingerprint256 },
      });
    }
    if (results.length === 0) {
      results.push(
        buildResult(CA_VERIFIES_ENDPOINT, { durationMs: 0 }, {
          status: 'skip',
          code: 'CA_NO_PRESENTED_CHAIN',
          summary: 'no route completed a TLS handshake, so there is no presented chain to verify',
        } satisfies CaOutcome),
      );
    }
    return results;
  },
};
