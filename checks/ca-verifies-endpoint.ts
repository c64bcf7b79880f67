import { X509Certificate } from 'node:crypto';
import type { CheckResult, Evidence } from '../src/model/index.js';
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
import { isoDate, makeResult, skipIfMissing } from './cert-util.js';

export const CA_VERIFIES_ENDPOINT = {
  id: 'ca.verifies-endpoint',
  title: "CA file verifies the endpoint's server certificate chain",
} as const;

const MAX_DEPTH = 10;

export interface VerifyOptions {
  /** Time to judge validity periods at; defaults to now. */
  now?: Date;
  /** Port the chain was seen on, for the reproduce command; defaults to 8883. */
  port?: number;
  /** Address the route really connected to (--connect-to), for the reproduce command; defaults to the endpoint. */
  address?: string;
}

interface PathResult {
  verified: boolean;
  /** Leaf first; the presented certificates used. */
  path: X509Certificate[];
  anchor?: X509Certificate;
  /** Why the walk stopped when it did not verify. */
  reason?: string;
}

/**
 * Builds a path from the presented leaf to a certificate in `anchors`, using presented certificates as
 * intermediates. Each link is checked by issuer name and signature; intermediates must be CA certificates.
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
      return { verified: false, path, reason: `${formatDn(next.subject)} signs ${formatDn(current.subject)} but is not a CA certificate` };
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

/**
 * ca.verifies-endpoint: does the CA file alone (not the system store) anchor the chain the endpoint presented?
 * `presentedChainPem` is the server's chain as the TLS stage saw it, leaf first (one certificate per string, or
 * several PEM blocks in one string). Pure: no I/O.
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
  const now = opts.now ?? new Date();
  const port = opts.port ?? 8883;
  const caArg = ca.path ? shq(ca.path) : 'AmazonRootCA1.pem';
  const reproduce = `openssl s_client -connect ${hostPort(opts.address ?? endpoint, port)} -servername ${shq(endpoint)} -CAfile ${caArg} -verify_return_error -showcerts </dev/null`;

  if (presentedChainPem.length === 0) {
    return makeResult(meta, started, {
      status: 'skip',
      code: 'CA_NO_PRESENTED_CHAIN',
      summary: 'no server certificate chain to verify (the TLS handshake did not get that far)',
      evidence: { endpoint },
    });
  }
  let presented: X509Certificate[];
  try {
    presented = parsePresented(presentedChainPem);
  } catch {
    return makeResult(meta, started, {
      status: 'error',
      code: 'CA_CHAIN_UNREADABLE',
      summary: 'the server certificate chain handed to this check could not be parsed',
      evidence: { endpoint, certificates: presentedChainPem.length },
    });
  }

  const caLabel = ca.isDefault ? 'the bundled Amazon roots' : 'the CA file';
  const evidence: Evidence = {
    endpoint,
    caFile: ca.path ?? 'bundled Amazon roots',
    presented: presented.map(describe),
    caCertificates: ca.certs.map((c) => formatDn(c.subject)),
  };
  const result = verifyPath(presented, ca.certs);

  if (result.verified) {
    const anchor = result.anchor!;
    const root = matchKnownRoot(anchor);
    const anchorName = root ? root.name : formatDn(anchor.subject);
    const outOfTime = [...result.path, anchor].find((c) => {
      const d = certDetails(c);
      return now < d.notBefore || now > d.notAfter;
    });
    const verifiedEvidence = {
      ...evidence,
      verifiedPath: result.path.map((c) => formatDn(c.subject)),
      anchor: anchorName,
      anchorSha256: certificateIdOf(anchor),
    };
    if (outOfTime) {
      const d = certDetails(outOfTime);
      return makeResult(meta, started, {
        status: 'warn',
        code: 'CA_CHAIN_NOT_TIME_VALID',
        summary: `${caLabel} anchors the server chain (${anchorName}), but ${formatDn(outOfTime.subject)} is ${now > d.notAfter ? `expired since ${isoDate(d.notAfter)}` : `not valid until ${isoDate(d.notBefore)}`} at ${isoDate(now)}`,
        evidence: { ...verifiedEvidence, now: isoDate(now) },
        hint: 'either the server presents an expired certificate (or something in the path intercepts TLS), or this machine\'s clock is wrong: compare date -u with a trusted time source',
        reproduce,
      });
    }
    if (!isSelfSigned(anchor)) {
      return makeResult(meta, started, {
        status: 'warn',
        code: 'CA_VERIFIES_CHAIN_PARTIAL',
        summary: `${caLabel} verifies the server chain only up to ${anchorName}, which is not a root: OpenSSL-based clients (and Node) need the root itself`,
        evidence: verifiedEvidence,
        hint: 'add the root that issued it (for AWS IoT: AmazonRootCA1.pem / AmazonRootCA3.pem) to the CA file',
        reproduce,
      });
    }
    return makeResult(meta, started, {
      status: 'pass',
      code: 'CA_VERIFIES_CHAIN',
      summary: `${caLabel} verifies the server chain: ${[...result.path, anchor].map((c) => formatDn(c.subject).replace(/^.*CN=/, '')).join(' <- ')}`,
      evidence: verifiedEvidence,
      reproduce,
    });
  }

  // Not verified: say what would have worked.
  let hint: string;
  const amazon = ca.isDefault ? undefined : verifyPath(presented, amazonRootCertificates());
  const leaf = presented[0]!;
  const deviceIssuer = credentials.cert
    ? ca.certs.some((c) => [credentials.cert!.leaf, ...credentials.cert!.chain].some((d) => isIssuedBy(d, c)))
    : false;
  if (amazon?.verified) {
    const name = matchKnownRoot(amazon.anchor!)?.name ?? formatDn(amazon.anchor!.subject);
    hint = `the endpoint chains to ${name}, which the CA file lacks${deviceIssuer ? ' (it holds the CA that issued the device certificate instead)' : ''}: use AmazonRootCA1.pem and AmazonRootCA3.pem from https://www.amazontrust.com/repository/`;
    evidence.wouldVerifyWith = name;
  } else {
    const top = result.path[result.path.length - 1] ?? leaf;
    hint = `the server's chain leads to ${formatDn(top.issuer)}, which is not an Amazon root: a TLS-inspecting proxy, a wrong endpoint or --connect-to target, or a custom domain with its own certificate may be in the path`;
  }
  return makeResult(meta, started, {
    status: 'fail',
    code: 'CA_DOES_NOT_VERIFY_CHAIN',
    summary: `${caLabel} does not verify the server chain: ${result.reason}`,
    evidence: { ...evidence, verifiedPath: result.path.map((c) => formatDn(c.subject)) },
    hint,
    reproduce,
  });
}
