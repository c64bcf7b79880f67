/**
 * ca.contents: which certificates the CA file (the server trust anchors) holds, and whether they are the Amazon roots
 * AWS IoT ATS endpoints chain to (facts §2.3).
 */
import type { X509Certificate } from 'node:crypto';
import type { DependencyResults } from '../src/model/check.js';
import type { Evidence } from '../src/model/index.js';
import { buildResult, type Outcome } from '../src/model/result.js';
import type { DeviceFiles } from '../src/probes/device-files.js';
import { certificateIdOf, formatDn, isIssuedBy, matchKnownRoot } from '../src/probes/pem.js';
import { shq, credentialCheck, type LocalCheck, LOCAL_SKIP_CODES, verifyDeviceCmd } from './local-util.js';

const META = { id: 'ca.contents', title: 'CA file holds the Amazon roots that anchor AWS IoT endpoints' };

/** Every code ca.contents reports. */
export const CA_CONTENTS_CODES = [
  'CA_NO_CA_CERT',
  'CA_HAS_AMAZON_ROOTS',
  'CA_ONLY_RESERVED_AMAZON_ROOTS',
  'CA_IS_DEVICE_ISSUER',
  'CA_LEGACY_VERISIGN_ROOT',
  'CA_CUSTOM_ROOT_VERIFIES_ENDPOINT',
  'CA_NO_AMAZON_ROOT',
  ...LOCAL_SKIP_CODES,
] as const;

type CaContentsCode = (typeof CA_CONTENTS_CODES)[number];

const GET_ROOTS =
  'use AmazonRootCA1.pem (RSA) and AmazonRootCA3.pem (EC) from https://www.amazontrust.com/repository/, ' +
  'in one file if your stack takes a bundle';
/** Roots AWS IoT ATS endpoints chain to today; Root CA 2 and 4 are reserved. Starfield G2 cross-signs them. */
const ROOTS_IN_USE = new Set([
  'Amazon Root CA 1',
  'Amazon Root CA 3',
  'Starfield Services Root Certificate Authority - G2',
]);
const LEGACY_VERISIGN = /VeriSign Class 3 Public Primary Certification Authority - G5/;

/** What the CA file holds, read once for the decision. */
interface CaFileFacts {
  ca: NonNullable<DeviceFiles['ca']>;
  device: DeviceFiles['cert'];
  caCerts: X509Certificate[];
  roots: { name: string; label: string }[];
  issuers: X509Certificate[];
  evidence: Evidence;
  reproduce: string | undefined;
}

function caFileFacts(files: DeviceFiles): CaFileFacts {
  const ca = files.ca!;
  const reproduce = ca.path
    ? `openssl crl2pkcs7 -nocrl -certfile ${shq(ca.path)} | openssl pkcs7 -print_certs -noout`
    : undefined;
  const caCerts = ca.certs.filter((c) => c.ca);
  const roots = ca.certs.flatMap((c) => {
    const m = matchKnownRoot(c);
    return m ? [{ ...m, label: m.exact ? m.name : `${m.name} (cross-signed)` }] : [];
  });
  const device = files.cert;
  const deviceCerts: X509Certificate[] = device ? [device.leaf, ...device.chain] : [];
  const issuers = ca.certs.filter((c) => deviceCerts.some((d) => isIssuedBy(d, c)));
  const evidence = {
    path: ca.path ?? null,
    isDefault: ca.isDefault,
    certificates: ca.certs.map((c) => ({ subject: formatDn(c.subject), ca: c.ca, sha256: certificateIdOf(c) })),
    amazonRoots: roots.map((r) => r.label),
    ...(issuers.length > 0 ? { issuesDeviceCertificate: issuers.map((c) => formatDn(c.subject)) } : {}),
  };
  return { ca, device, caCerts, roots, issuers, evidence, reproduce };
}

/** The CA file has Amazon roots (or none at all, or no CA certificate): the verdict, or undefined to look further. */
function rootsOutcome(f: CaFileFacts): Outcome<CaContentsCode> | undefined {
  const { ca, device, caCerts, roots, evidence, reproduce } = f;
  if (caCerts.length === 0) {
    const holdsDevice = device && ca.certs.some((c) => certificateIdOf(c) === device.certificateId);
    const n = ca.certs.length;
    return {
      status: 'fail',
      code: 'CA_NO_CA_CERT',
      summary: holdsDevice
        ? 'the CA file holds the device certificate, not a CA certificate: are --cert and --ca swapped?'
        : `the CA file holds ${n} certificate${n === 1 ? '' : 's'} and none is a CA certificate`,
      evidence,
      hint: GET_ROOTS,
      reproduce,
    };
  }
  const labels = roots.map((r) => r.label).join(', ');
  if (roots.some((r) => ROOTS_IN_USE.has(r.name))) {
    const summary = ca.isDefault ? `no --ca given: the bundled ${labels}` : `holds ${labels}`;
    return { status: 'pass', code: 'CA_HAS_AMAZON_ROOTS', summary, evidence, reproduce };
  }
  if (roots.length > 0) {
    return {
      status: 'warn',
      code: 'CA_ONLY_RESERVED_AMAZON_ROOTS',
      summary: `holds only ${labels}; AWS IoT endpoints chain to Amazon Root CA 1 (RSA) or 3 (EC) today`,
      evidence,
      hint: GET_ROOTS,
      reproduce,
    };
  }
  return undefined;
}

/** No Amazon root: the device's issuer, the legacy VeriSign root, a custom root that works, or just no Amazon root. */
function otherRootsOutcome(f: CaFileFacts, deps: DependencyResults | undefined): Outcome<CaContentsCode> {
  const { ca, device, caCerts, issuers, evidence, reproduce } = f;
  const names = caCerts
    .map((c) => formatDn(c.subject))
    .slice(0, 3)
    .join('; ');
  if (issuers.length > 0) {
    return {
      status: 'warn',
      code: 'CA_IS_DEVICE_ISSUER',
      summary:
        `the CA file holds the CA that issued the device certificate (${formatDn(issuers[0]!.subject)}), ` +
        'not a server root: the device uses --ca to verify AWS IoT, which chains to Amazon Root CA 1 or 3',
      evidence,
      hint: GET_ROOTS,
      reproduce:
        ca.path && device
          ? verifyDeviceCmd(ca.path, device, { partialChain: !issuers.some((c) => isIssuedBy(c, c)) })
          : reproduce,
    };
  }
  if (ca.certs.some((c) => LEGACY_VERISIGN.test(c.subject))) {
    return {
      status: 'warn',
      code: 'CA_LEGACY_VERISIGN_ROOT',
      summary:
        'the CA file holds the legacy VeriSign Class 3 G5 root (for old non-ATS endpoints); ' +
        '-ats endpoints chain to Amazon Root CA 1 or 3',
      evidence,
      hint: `${GET_ROOTS}; and use the -ats endpoint (aws iot describe-endpoint --endpoint-type iot:Data-ATS)`,
      reproduce,
    };
  }
  if (deps?.get('ca.verifies-endpoint')?.some((r) => r.code === 'CA_VERIFIES_CHAIN')) {
    return {
      status: 'pass',
      code: 'CA_CUSTOM_ROOT_VERIFIES_ENDPOINT',
      summary:
        `no Amazon root in the CA file, but it verifies the chain this endpoint presented (${names}): ` +
        'a custom domain or a test endpoint',
      evidence,
    };
  }
  const n = caCerts.length;
  return {
    status: 'warn',
    code: 'CA_NO_AMAZON_ROOT',
    summary: `the CA file holds ${n} CA certificate${n === 1 ? '' : 's'} and none is an Amazon root (${names})`,
    evidence,
    hint: `unless the endpoint is a custom domain with its own server certificate, ${GET_ROOTS}`,
    reproduce,
  };
}

/**
 * ca.contents: the CA file (the server trust anchors) holds at least one CA certificate and names which Amazon roots
 * are in it. Warns when it looks like the device's own issuing CA was given instead of a server root. It reads
 * ca.verifies-endpoint when that ran (only in `check`): a custom root that verifies the real endpoint passes.
 */
export const caContentsCheck: LocalCheck = credentialCheck(
  META,
  ['ca'],
  (ctx, started, deps) => {
    const f = caFileFacts(ctx.credentials);
    return [buildResult(META, started, rootsOutcome(f) ?? otherRootsOutcome(f, deps))];
  },
  ['files.cert', 'ca.verifies-endpoint'],
);
