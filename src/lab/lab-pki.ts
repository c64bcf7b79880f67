/**
 * The lab's certificates, generated in memory. Key generation is the slow part (RSA: ~0.1-0.2 s per key), so a
 * `LabPki` keeps its keys and can serve several labs: each lab only signs a fresh server certificate for its own
 * endpoint name with the kept server key.
 *
 * The server side has AWS's shape (facts §2.3, field notes §3.3): an RSA and an ECC chain, each of four certificates
 * on the wire (leaf, intermediate, the root cross-signed by the services root, the services root cross-signed by the
 * class 2 root); the device trusts the self-signed roots (both, as AWS advises with Amazon Root CA 1 and 3).
 *
 *   Lab Root CA 1 (RSA, trust anchor, stands for Amazon Root CA 1)        Lab Root CA 3 (EC P-256, for Root CA 3)
 *     └─ Lab RSA 2048 M01 (intermediate, sent)                             └─ Lab ECDSA 256 M01 (sent)
 *          └─ *.iot.<region>.amazonaws.com + <endpoint>   (RSA leaf)           └─ same names (ECDSA leaf)
 *   Lab Root CA 1 / 3 cross-signed by Lab Services Root CA G2 (sent third, for Starfield's cross-sign)
 *   Lab Services Root CA G2 cross-signed by Lab Class 2 CA (sent fourth, for Starfield Services Root CA G2)
 *   Lab Device CA (registered in the lab account as a CA certificate)
 *     └─ lab-device-1 (the default device certificate)
 *   Corporate TLS Inspection CA (foreign; used by the tls-intercepted scenario)
 */
import type { KeyObject } from 'node:crypto';
import {
  createCA,
  DAY_MS,
  generateKeyPair,
  issueCertificate,
  issueDeviceCertificate,
  issueServerCertificate,
  type Issued,
} from './pki.js';

export type LabKeyType = 'rsa' | 'ec';

interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** The key type of one of the two server chains. */
export type ServerKeyType = 'rsa' | 'ec';

export interface LabPki {
  /** Key type of the device CA and the default device certificate. */
  readonly keyType: LabKeyType;
  /** RSA root CA the device must trust (the lab's "Amazon Root CA 1"). */
  readonly rootCa: Issued;
  /** ECC root CA (the lab's "Amazon Root CA 3"): the anchor of the ECC chain. */
  readonly rootCaEc: Issued;
  /** RSA intermediate that signs RSA server certificates; sent in the RSA chain. */
  readonly serverCa: Issued;
  /** ECC intermediate that signs ECDSA server certificates; sent in the ECC chain. */
  readonly serverCaEc: Issued;
  /** Both trust anchors (Root CA 1 then Root CA 3), PEM: the CA bundle AWS advises devices to carry. */
  readonly trustPem: string;
  /**
   * The certificates sent after the leaf, PEM: the intermediate, the root cross-signed by the services root and the
   * services root cross-signed by the class 2 root (field notes §3.3: four certificates on the wire).
   */
  serverChainPem(keyType: ServerKeyType): string;
  /** CA registered in the lab account; signs device certificates. */
  readonly deviceCa: Issued;
  /** Default device certificate (CN lab-device-1). */
  readonly device: Issued;
  /** A foreign root standing for a TLS-inspecting proxy. Generated on first use. */
  interceptCa(): Issued;
  /** Another device certificate signed by the device CA, memoized by common name. */
  otherDevice(commonName: string): Issued;
  /** Server certificate (leaf) for the endpoint, signed by the RSA (default) or ECC intermediate with a kept key. */
  serverCertificate(endpoint: string, region: string, opts?: { expired?: boolean; keyType?: ServerKeyType }): Issued;
  /** Server certificate for the endpoint signed by the interception CA. */
  interceptedServerCertificate(endpoint: string, region: string): Issued;
}

export const DEFAULT_DEVICE_NAME = 'lab-device-1';

/** One server chain: its self-signed root (trust anchor), intermediate, leaf key and the PEM sent after the leaf. */
interface ServerSide {
  root: Issued;
  intermediate: Issued;
  leafKey: KeyPair;
  chainPem: string;
}

const LAB_TRUST = 'iot-doctor lab trust services';
const TEN_YEARS = 3650 * DAY_MS;

/** The class 2 root and the services root it cross-signs, shared by both chains (stand-ins for Starfield's). */
let servicesRoots: { class2: Issued; services: Issued } | undefined;

function labServicesRoots(): { class2: Issued; services: Issued } {
  if (!servicesRoots) {
    const class2 = createCA('Lab Class 2 Certification Authority', { keyType: 'rsa', organization: LAB_TRUST });
    const services = issueCertificate({
      commonName: 'Lab Services Root Certificate Authority - G2',
      organization: LAB_TRUST,
      isCA: true,
      issuer: class2,
      keyType: 'rsa',
      notAfter: new Date(Date.now() + TEN_YEARS),
    });
    servicesRoots = { class2, services };
  }
  return servicesRoots;
}

/**
 * One of AWS's two server chains (facts §2.3): a self-signed root, the same root cross-signed by the services root,
 * an intermediate; `chainPem` is what follows the leaf on the wire (4 certificates in all, field notes §3.3).
 */
function serverSide(type: ServerKeyType): ServerSide {
  const rootName = type === 'rsa' ? 'Lab Root CA 1' : 'Lab Root CA 3';
  const rootKey = generateKeyPair(type);
  const root = createCA(rootName, { keyPair: rootKey, organization: 'iot-doctor lab' });
  const { services } = labServicesRoots();
  const crossSigned = issueCertificate({
    commonName: rootName,
    organization: 'iot-doctor lab',
    isCA: true,
    issuer: services,
    keyPair: rootKey,
    notAfter: new Date(Date.now() + TEN_YEARS),
  });
  const intermediate = issueCertificate({
    commonName: type === 'rsa' ? 'Lab RSA 2048 M01' : 'Lab ECDSA 256 M01',
    organization: 'iot-doctor lab',
    isCA: true,
    issuer: root,
    keyType: type,
    notAfter: new Date(Date.now() + 3000 * DAY_MS),
  });
  const chainPem = intermediate.certPem + crossSigned.certPem + services.certPem;
  return { root, intermediate, leafKey: generateKeyPair(type), chainPem };
}

/**
 * Generates the lab's PKI in memory: a root CA, a server intermediate, a device CA and the default device
 * certificate, all of `keyType` (RSA 2048 or EC P-256). Slow for RSA (key generation): tests reuse one via
 * `LabOptions.pki`. Never throws for a valid key type.
 *
 * The device certificate's subject CN is the lab thing's name unless `opts.deviceCommonName` says otherwise: AWS
 * ties neither to the other (a certificate AWS IoT issues is named "AWS IoT Certificate"; provisioning templates
 * often name the thing after the CN), so both variants exist.
 */
export function createLabPki(keyType: LabKeyType = 'rsa', opts: { deviceCommonName?: string } = {}): LabPki {
  const rsa = serverSide('rsa');
  const ec = serverSide('ec');
  const rootCa = rsa.root;
  const serverCa = rsa.intermediate;
  const deviceCa = createCA('Lab Device CA', { keyType, organization: 'Example Devices Ltd' });
  const device = issueDeviceCertificate(deviceCa, opts.deviceCommonName ?? DEFAULT_DEVICE_NAME, {
    organization: 'Example Devices Ltd',
  });
  let intercept: Issued | undefined;
  const others = new Map<string, Issued>();

  const names = (endpoint: string, region: string): string[] => [`*.iot.${region}.amazonaws.com`, endpoint];

  const sides = { rsa, ec };
  return {
    keyType,
    rootCa,
    rootCaEc: ec.root,
    serverCa,
    serverCaEc: ec.intermediate,
    trustPem: rsa.root.certPem + ec.root.certPem,
    serverChainPem: (type) => sides[type].chainPem,
    deviceCa,
    device,
    interceptCa() {
      intercept ??= createCA('Corporate TLS Inspection CA', { keyType, organization: 'Example Corp IT Security' });
      return intercept;
    },
    otherDevice(commonName) {
      let d = others.get(commonName);
      if (!d) {
        d = issueDeviceCertificate(deviceCa, commonName, { organization: 'Example Devices Ltd' });
        others.set(commonName, d);
      }
      return d;
    },
    serverCertificate(endpoint, region, opts = {}) {
      const validity = opts.expired
        ? { notBefore: new Date(Date.now() - 400 * DAY_MS), notAfter: new Date(Date.now() - 2 * DAY_MS) }
        : { notBefore: new Date(Date.now() - 30 * DAY_MS), notAfter: new Date(Date.now() + 300 * DAY_MS) };
      const side = sides[opts.keyType ?? 'rsa'];
      return issueServerCertificate(side.intermediate, names(endpoint, region), { keyPair: side.leafKey, ...validity });
    },
    interceptedServerCertificate(endpoint, region) {
      return issueServerCertificate(this.interceptCa(), names(endpoint, region), {
        keyPair: rsa.leafKey,
        organization: 'Example Corp IT Security',
      });
    },
  };
}
