/**
 * The lab: a local endpoint that behaves like AWS IoT Core on every point that matters for diagnosis (ports and
 * ALPN routing, SNI, mTLS against a registry of certificates, policies enforced the AWS way, HTTPS publish, and a
 * control-plane API for the real AWS SDK), with one fault switched on per scenario.
 *
 * Everything listens on loopback by default, on ephemeral ports; the PKI is generated in memory at start.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ALPN_HTTP, ALPN_MQTT } from '../model/index.js';
import { Authorizer } from './authz.js';
import { startBroker, type LabBroker } from './broker.js';
import { ControlPlane } from './control-plane.js';
import { DataPlane, type ListenerName } from './data-plane.js';
import { createLabPki, type LabPki } from './lab-pki.js';
import { checkBindAddress, hostForUrl, SocketTracker, TimerSet } from './net-util.js';
import { LabRegistry } from './registry.js';
import { LAB_DEVICE_NAME, scenarioDefinition, type ScenarioInfo } from './scenarios.js';

export { SCENARIOS, LAB_DEVICE_NAME, LAB_PROBE_TOPIC_PREFIX, LAB_DEVICE_POLICY } from './scenarios.js';
export type { ScenarioInfo } from './scenarios.js';
export { LabRegistry } from './registry.js';
export type {
  CertificateRecord,
  CertificateStatus,
  CaCertificateRecord,
  PolicyRecord,
  ThingRecord,
  ThingGroupRecord,
} from './registry.js';
export { createLabPki } from './lab-pki.js';
export type { LabPki } from './lab-pki.js';

export const LAB_ACCOUNT_ID = '123456789012';

export interface LabOptions {
  /** Default 'healthy'. */
  scenario?: string;
  /** Key type of the PKI generated at start; RSA by default. Ignored when `pki` is given. */
  keyType?: 'rsa' | 'ec';
  /** Default 127.0.0.1. Anything that is not loopback is refused unless `allowNonLoopback`. */
  bind?: string;
  /** Only for tests that run the lab inside a network namespace they created. */
  allowNonLoopback?: boolean;
  /** 0 or absent: a free ephemeral port. */
  ports?: { mqtt8883?: number; tls443?: number; https8443?: number; control?: number };
  /** Refuse a ClientHello without SNI or with another name (default true). */
  requireSni?: boolean;
  /** Default 'eu-west-1'. */
  region?: string;
  /** 'auto' (default): MQTT 5 through mosquitto when the binary exists. */
  mqtt5?: 'auto' | 'off';
  /** Reuse keys across labs (tests): see `createLabPki`. */
  pki?: LabPki;
  /** One line per notable event (refusals, denials, API calls). Never contains key material. */
  log?: (message: string) => void;
}

export interface Lab {
  /** '<14 lowercase alnum>-ats.iot.<region>.amazonaws.com' */
  endpoint: string;
  region: string;
  accountId: string;
  bind: string;
  ports: { mqtt8883: number; tls443: number; https8443: number; control: number };
  /** curl-style overrides: '<endpoint>:8883:<bind>:<port>', '<endpoint>:443:...', '<endpoint>:8443:...' */
  connectTo: string[];
  /** 'http://<bind>:<control>' for AWS_ENDPOINT_URL_IOT or the SDK `endpoint` option. */
  apiEndpoint: string;
  /** The lab root CA that signed the server certificate chain: the device's trust anchor. */
  caPem: string;
  device: { certPem: string; keyPem: string; certificateId: string; clientId: string; thingName: string };
  /** Mutable; shared by the data plane and the control plane. */
  registry: LabRegistry;
  scenario: ScenarioInfo;
  mqtt5Available: boolean;
  stats: { tlsHandshakes: Record<ListenerName, number>; connections: number };
  faults: { api: { accessDenied: Set<string>; throttleOnce: Set<string> } };
  /**
   * Writes the trust anchor, the device certificate and its key (mode 0600) into `dir` (a temporary folder removed
   * by `close()` when omitted) and returns their paths and an iot-doctor command line that checks the lab.
   */
  writeFiles(dir?: string): Promise<{ ca: string; cert: string; key: string; checkCommand: string }>;
  /** Closes every socket, server, timer and child process. */
  close(): Promise<void>;
}

function randomPrefix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(14);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  const bind = checkBindAddress(opts.bind, opts.allowNonLoopback ?? false);
  const def = scenarioDefinition(opts.scenario ?? 'healthy');
  const region = opts.region ?? 'eu-west-1';
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new Error(`invalid AWS region "${region}"`);
  const log = opts.log ?? (() => {});
  const pki = opts.pki ?? createLabPki(opts.keyType ?? 'rsa');

  const endpoint = `${randomPrefix()}-ats.iot.${region}.amazonaws.com`;
  const otherAccountEndpoint = `${randomPrefix()}-ats.iot.${region}.amazonaws.com`;
  const registry = new LabRegistry(region, LAB_ACCOUNT_ID);
  def.seed(registry, pki);
  const authorizer = new Authorizer(registry);

  const leaf =
    def.behaviour.serverCert === 'intercepted'
      ? pki.interceptedServerCertificate(endpoint, region)
      : pki.serverCertificate(endpoint, region, { expired: def.behaviour.serverCert === 'expired' });
  const chain = def.behaviour.serverCert === 'intercepted' ? leaf.certPem : leaf.certPem + pki.serverCa.certPem;

  const tracker = new SocketTracker();
  const timers = new TimerSet();
  const stats = { tlsHandshakes: { mqtt8883: 0, tls443: 0, https8443: 0 }, connections: 0 };
  const faults = { api: { accessDenied: new Set<string>(), throttleOnce: new Set<string>() } };
  const tempDirs: string[] = [];

  let broker: LabBroker | undefined;
  let dataPlane: DataPlane | undefined;
  let controlPlane: ControlPlane | undefined;
  let closing: Promise<void> | undefined;

  const close = (): Promise<void> => {
    closing ??= (async () => {
      await dataPlane?.close();
      tracker.destroyAll();
      await controlPlane?.close();
      await broker?.close();
      timers.clearAll();
      await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
      log('lab closed');
    })();
    return closing;
  };

  try {
    broker = await startBroker({ authorizer, mqtt5: opts.mqtt5 ?? 'auto', log });
    dataPlane = new DataPlane({
      bind,
      ports: { mqtt8883: opts.ports?.mqtt8883 ?? 0, tls443: opts.ports?.tls443 ?? 0, https8443: opts.ports?.https8443 ?? 0 },
      endpoint,
      requireSni: opts.requireSni ?? true,
      behaviour: def.behaviour,
      server: { certChainPem: chain, keyPem: leaf.keyPem },
      authorizer,
      broker,
      tracker,
      timers,
      stats,
      log,
    });
    await dataPlane.start();
    controlPlane = new ControlPlane({
      bind,
      port: opts.ports?.control ?? 0,
      registry,
      authorizer,
      faults: faults.api,
      dataAtsEndpoint: () => (def.behaviour.describeEndpoint === 'other-account' ? otherAccountEndpoint : endpoint),
      endpoint,
      log,
    });
    await controlPlane.start();
  } catch (err) {
    await close();
    throw err;
  }

  const host = hostForUrl(bind);
  const ports = { ...dataPlane.ports, control: controlPlane.port };
  const device = {
    certPem: pki.device.certPem,
    keyPem: pki.device.keyPem,
    certificateId: pki.device.certificateId,
    clientId: LAB_DEVICE_NAME,
    thingName: LAB_DEVICE_NAME,
  };
  const lab: Lab = {
    endpoint,
    region,
    accountId: LAB_ACCOUNT_ID,
    bind,
    ports,
    connectTo: [
      `${endpoint}:8883:${host}:${ports.mqtt8883}`,
      `${endpoint}:443:${host}:${ports.tls443}`,
      `${endpoint}:8443:${host}:${ports.https8443}`,
    ],
    apiEndpoint: `http://${host}:${ports.control}`,
    caPem: pki.rootCa.certPem,
    device,
    registry,
    scenario: { name: def.name, description: def.description },
    mqtt5Available: broker.mqtt5Port !== undefined,
    stats,
    faults,
    async writeFiles(dir?: string) {
      let target: string;
      if (dir) {
        target = resolve(dir);
        await mkdir(target, { recursive: true });
      } else {
        target = await mkdtemp(join(tmpdir(), 'iot-doctor-lab-'));
        tempDirs.push(target);
      }
      const files = {
        ca: join(target, 'ca.pem'),
        cert: join(target, 'device.pem.crt'),
        key: join(target, 'private.pem.key'),
      };
      await writeFile(files.ca, lab.caPem);
      await writeFile(files.cert, device.certPem);
      await writeFile(files.key, device.keyPem, { mode: 0o600 });
      await chmod(files.key, 0o600);
      const checkCommand = [
        `AWS_ENDPOINT_URL_IOT=${lab.apiEndpoint}`,
        'AWS_ACCESS_KEY_ID=AKIDLAB',
        'AWS_SECRET_ACCESS_KEY=lab',
        'iot-doctor check',
        `--endpoint ${endpoint}`,
        `--cert ${shellQuote(files.cert)}`,
        `--key ${shellQuote(files.key)}`,
        `--ca ${shellQuote(files.ca)}`,
        `--region ${region}`,
        ...lab.connectTo.map((c) => `--connect-to ${c}`),
      ].join(' ');
      return { ...files, checkCommand };
    },
    close,
  };
  log(`lab started: scenario ${def.name}, endpoint ${endpoint}`);
  return lab;
}

/** Multi-line human description of a running lab. */
export function describeLab(lab: Lab): string {
  const host = hostForUrl(lab.bind);
  const lines = [
    `iot-doctor lab, scenario "${lab.scenario.name}": ${lab.scenario.description}`,
    `  endpoint          ${lab.endpoint}`,
    `  region / account  ${lab.region} / ${lab.accountId}`,
    `  MQTT 8883         ${host}:${lab.ports.mqtt8883}`,
    `  443 (ALPN)        ${host}:${lab.ports.tls443}   MQTT with ALPN ${ALPN_MQTT}, HTTPS with ALPN ${ALPN_HTTP}`,
    `  HTTPS 8443        ${host}:${lab.ports.https8443}`,
    `  API endpoint      ${lab.apiEndpoint}   (AWS_ENDPOINT_URL_IOT; any credentials)`,
    `  device            client id / thing ${lab.device.clientId}, certificate ${lab.device.certificateId}`,
    `  MQTT 5            ${lab.mqtt5Available ? 'available (mosquitto)' : 'unavailable (MQTT 5 CONNECT gets CONNACK 0x80)'}`,
    `  connect-to        ${lab.connectTo.join('\n                    ')}`,
  ];
  return lines.join('\n');
}
