/**
 * The lab's certificates, generated in memory. Key generation is the slow part (RSA: ~0.1-0.2 s per key), so a
 * `LabPki` keeps its keys and can serve several labs: each lab only signs a fresh server certificate for its own
 * endpoint name with the kept server key.
 *
 *   Lab Root CA 1 (trust anchor, stands for Amazon Root CA 1)
 *     └─ Lab Server CA 1A (intermediate, sent by the server)
 *          └─ *.iot.<region>.amazonaws.com + <endpoint>   (server certificate)
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

export interface LabPki {
  readonly keyType: LabKeyType;
  /** Root CA the device must trust (the lab's "Amazon Root CA"). */
  readonly rootCa: Issued;
  /** Intermediate that signs server certificates; sent in the server chain. */
  readonly serverCa: Issued;
  /** CA registered in the lab account; signs device certificates. */
  readonly deviceCa: Issued;
  /** Default device certificate (CN lab-device-1). */
  readonly device: Issued;
  /** A foreign root standing for a TLS-inspecting proxy. Generated on first use. */
  interceptCa(): Issued;
  /** Another device certificate signed by the device CA, memoized by common name. */
  otherDevice(commonName: string): Issued;
  /** Server certificate (leaf) for the endpoint, signed by the intermediate with the kept server key. */
  serverCertificate(endpoint: string, region: string, opts?: { expired?: boolean }): Issued;
  /** Server certificate for the endpoint signed by the interception CA. */
  interceptedServerCertificate(endpoint: string, region: string): Issued;
}

export const DEFAULT_DEVICE_NAME = 'lab-device-1';

/**
 * Generates the lab's PKI in memory: a root CA, a server intermediate, a device CA and the default device
 * certificate, all of `keyType` (RSA 2048 or EC P-256). Slow for RSA (key generation): tests reuse one via
 * `LabOptions.pki`. Never throws for a valid key type.
 */
export function createLabPki(keyType: LabKeyType = 'rsa'): LabPki {
  const rootCa = createCA('Lab Root CA 1', { keyType, organization: 'iot-doctor lab' });
  const serverCa = issueCertificate({
    commonName: 'Lab Server CA 1A',
    organization: 'iot-doctor lab',
    isCA: true,
    issuer: rootCa,
    keyType,
    notAfter: new Date(Date.now() + 3000 * DAY_MS),
  });
  const serverKey: KeyPair = generateKeyPair(keyType);
  const deviceCa = createCA('Lab Device CA', { keyType, organization: 'Example Devices Ltd' });
  const device = issueDeviceCertificate(deviceCa, DEFAULT_DEVICE_NAME, { organization: 'Example Devices Ltd' });
  let intercept: Issued | undefined;
  const others = new Map<string, Issued>();

  const names = (endpoint: string, region: string): string[] => [`*.iot.${region}.amazonaws.com`, endpoint];

  return {
    keyType,
    rootCa,
    serverCa,
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
      return issueServerCertificate(serverCa, names(endpoint, region), { keyPair: serverKey, ...validity });
    },
    interceptedServerCertificate(endpoint, region) {
      return issueServerCertificate(this.interceptCa(), names(endpoint, region), {
        keyPair: serverKey,
        organization: 'Example Corp IT Security',
      });
    },
  };
}
