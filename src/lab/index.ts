/**
 * The lab: a local endpoint that behaves like AWS IoT Core on every point that matters for diagnosis (ports and
 * ALPN routing, SNI, mTLS against a registry of certificates, policies enforced the AWS way, HTTPS publish, and a
 * control-plane API for the real AWS SDK), with one fault switched on per scenario.
 *
 * Everything listens on loopback by default, on ephemeral ports; the PKI is generated in memory at start.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { ALPN_CUSTOM_AUTH, ALPN_HTTP, ALPN_MQTT } from '../model/index.js';
import { Authorizer } from './authz.js';
import { startBroker, type LabBroker } from './broker.js';
import { ControlPlane } from './control-plane.js';
import { DataPlane, type ListenerName, type ServerIdentity } from './data-plane.js';
import { startFieldSite, type FieldCheckArgs, type FieldSite } from './field-scenarios.js';
import { createLabPki, type LabPki } from './lab-pki.js';
import { writeLabFiles, type LabFiles } from './lab-files.js';
import { credentialsHostFor, startCredentialProvider, type CredentialProviderServer } from './credential-provider.js';
import { DEFAULT_CUSTOM_AUTH } from './custom-auth-front.js';
import { customAuthFlags, seedCustomAuth, type LabCustomAuthDevice } from './custom-auth-scenarios.js';
import { customAuthOf } from './custom-auth.js';
import { issueCertificate, issueServerCertificate } from './pki.js';
import { checkBindAddress, hostForUrl, SocketTracker, TimerSet } from './net-util.js';
import { startOtherDevice } from './other-device.js';
import type { EarlyPacketsVariant } from './early-packets.js';
import { LabRecords, type TakeoverLogReason } from './records.js';
import { LabRegistry } from './registry.js';
import {
  LAB_DEVICE_NAME,
  LAB_LOGGING_ON,
  scenarioDefinition,
  type ScenarioDefinition,
  type ScenarioInfo,
} from './scenarios.js';

export { SCENARIOS, LAB_DEVICE_NAME, LAB_PROBE_TOPIC_PREFIX, LAB_DEVICE_POLICY, LAB_FLEET_GROUP } from './scenarios.js';
export type { ScenarioInfo } from './scenarios.js';
export { EARLY_PACKETS_VARIANTS, type EarlyPacketsVariant } from './early-packets.js';
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
export type { LabFiles } from './lab-files.js';

export const LAB_ACCOUNT_ID = '123456789012';

export interface LabOptions {
  /** Default 'healthy'. */
  scenario?: string;
  /**
   * Key type of the device CA and certificate generated at start; RSA by default. Ignored when `pki` is given. The
   * server always has both an RSA and an ECC chain (facts §2.3).
   */
  keyType?: 'rsa' | 'ec';
  /** Default 127.0.0.1. Anything that is not loopback is refused unless `allowNonLoopback`. */
  bind?: string;
  /** Only for tests that run the lab inside a network namespace they created. */
  allowNonLoopback?: boolean;
  /** 0 or absent: a free ephemeral port. */
  ports?: { mqtt8883?: number; tls443?: number; https8443?: number; control?: number };
  /**
   * Refuse a ClientHello without SNI with alert 40, as for SNI-only certificates or a custom domain (default false:
   * AWS does not require SNI for certificates in DEFAULT mode, facts §2.2). A wrong SNI is answered per scenario.
   */
  requireSni?: boolean;
  /** Default 'eu-west-1'. */
  region?: string;
  /** 'auto' (default): MQTT 5 through mosquitto when the binary exists. */
  mqtt5?: 'auto' | 'off';
  /** Reuse keys across labs (tests): see `createLabPki`. */
  pki?: LabPki;
  /** One line per notable event (refusals, denials, API calls). Never contains key material. */
  log?: (message: string) => void;
  /** How the AWS IoT logs word a takeover disconnect (unconfirmed, field notes §8); default DUPLICATE_CLIENT_ID. */
  takeoverLogReason?: TakeoverLogReason;
  /**
   * What the MQTT front does with packets a client sends before the CONNACK (unconfirmed for AWS IoT,
   * early-packets.ts): `in-order` (default, MQTT 3.1.1 §3.1.4), `close`, `discard` or `late-subscription`.
   */
  earlyPackets?: EarlyPacketsVariant;
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
  /** The credential-provider host (`<prefix>.credentials.iot.<region>.amazonaws.com`); `connectTo` maps its 443. */
  credentialsEndpoint: string;
  /** More check flags of a field scenario (proxy, --resolve, the device's TLS settings); empty otherwise. */
  checkArgs: Omit<FieldCheckArgs, 'connect-to'>;
  /** 'http://<bind>:<control>' for AWS_ENDPOINT_URL_IOT or the SDK `endpoint` option. */
  apiEndpoint: string;
  /** The lab's two root CAs (stand-ins for Amazon Root CA 1 and 3), PEM: the device's trust anchors. */
  caPem: string;
  device: { certPem: string; keyPem: string; certificateId: string; clientId: string; thingName: string };
  /** Mutable; shared by the data plane and the control plane. */
  registry: LabRegistry;
  scenario: ScenarioInfo;
  mqtt5Available: boolean;
  stats: { tlsHandshakes: Record<ListenerName, number>; connections: number };
  faults: { api: { accessDenied: Set<string>; throttleOnce: Set<string> } };
  /** What the data plane recorded: sessions, connectivity data, AWS IoT logs (mutable `logging`). */
  records: LabRecords;
  /** The custom-authentication device of the scenario (authorizer, token, signature, signing key): secrets. */
  customAuth?: LabCustomAuthDevice;
  /**
   * Writes the trust anchor, the device certificate and its key (mode 0600), and the scenario's secrets (proxy URL,
   * custom-auth token; mode 0600) into `dir` (a temporary folder removed by `close()` when omitted) and returns their
   * paths and a command line that checks the lab's scenario (lab-files.ts), starting with `program` (default
   * `iot-doctor`; e.g. `node dist/src/bin.js` from a clone).
   */
  writeFiles(dir?: string, program?: string): Promise<LabFiles>;
  /** Closes every socket, server, timer and child process. */
  close(): Promise<void>;
}

/** 14 random lowercase alphanumerics: the account prefix of an ATS endpoint (facts §2.3). */
function randomPrefix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(14);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/**
 * The server chains (PEM) and keys the data plane presents, as the scenario wants them: AWS's RSA and ECC chains
 * (facts §2.3), both expired in server-cert-expired, one foreign certificate for both in tls-intercepted.
 */
function serverIdentity(def: ScenarioDefinition, pki: LabPki, endpoint: string, region: string): ServerIdentity {
  if (def.field?.longChain) return longChainIdentity(pki, endpoint, region, def.field.longChain);
  if (def.behaviour.serverCert === 'intercepted') {
    const leaf = pki.interceptedServerCertificate(endpoint, region);
    const only = { certChainPem: leaf.certPem, keyPem: leaf.keyPem };
    return { rsa: only, ec: only };
  }
  const expired = def.behaviour.serverCert === 'expired';
  const chain = (keyType: 'rsa' | 'ec'): ServerIdentity['rsa'] => {
    const leaf = pki.serverCertificate(endpoint, region, { expired, keyType });
    return { certChainPem: leaf.certPem + pki.serverChainPem(keyType), keyPem: leaf.keyPem };
  };
  return { rsa: chain('rsa'), ec: chain('ec') };
}

/**
 * A server certificate under `depth` more intermediates below the RSA server intermediate: a long chain, as a custom
 * domain may send (field-notes §3.3: up to 16 KB); the same chain for RSA and ECDSA ClientHellos.
 */
function longChainIdentity(pki: LabPki, endpoint: string, region: string, depth: number): ServerIdentity {
  let issuer = pki.serverCa;
  const chain: string[] = [];
  for (let i = 1; i <= depth; i++) {
    issuer = issueCertificate({
      commonName: `Lab Custom Domain Intermediate ${i} of ${depth}, a deliberately long name`,
      organization: 'iot-doctor lab',
      isCA: true,
      issuer,
      keyType: pki.keyType,
    });
    chain.unshift(issuer.certPem);
  }
  const leaf = issueServerCertificate(issuer, [`*.iot.${region}.amazonaws.com`, endpoint]);
  const only = { certChainPem: leaf.certPem + chain.join('') + pki.serverChainPem('rsa'), keyPem: leaf.keyPem };
  return { rsa: only, ec: only };
}

/** Everything a running lab owns, so that one `close()` can release it whatever stage start-up reached. */
interface LabParts {
  tracker: SocketTracker;
  timers: TimerSet;
  tempDirs: string[];
  broker?: LabBroker;
  dataPlane?: DataPlane;
  controlPlane?: ControlPlane;
  /** Stops the scenario's other device, when it has one. */
  stopOtherDevice?: () => Promise<void>;
  credentialProvider?: CredentialProviderServer;
  site?: FieldSite;
}

/** An idempotent close: data plane, open sockets, control plane, brokers, timers, temporary folders, in that order. */
function closer(parts: LabParts, log: (message: string) => void): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= (async () => {
      await parts.site?.close();
      await parts.stopOtherDevice?.();
      await parts.dataPlane?.close();
      await parts.credentialProvider?.close();
      parts.tracker.destroyAll();
      await parts.controlPlane?.close();
      await parts.broker?.close();
      parts.timers.clearAll();
      await Promise.all(parts.tempDirs.map((d) => rm(d, { recursive: true, force: true })));
      log('lab closed');
    })();
    return closing;
  };
}

/** The parts once every service started. */
type StartedParts = LabParts & Required<Pick<LabParts, 'broker' | 'dataPlane' | 'controlPlane' | 'credentialProvider'>>;

/** What `startServices` needs beyond the lab's parts. */
interface ServiceInputs {
  opts: LabOptions;
  bind: string;
  def: ScenarioDefinition;
  endpoint: string;
  otherAccountEndpoint: string;
  server: ServerIdentity;
  registry: LabRegistry;
  stats: Lab['stats'];
  faults: Lab['faults'];
  records: LabRecords;
  log: (message: string) => void;
  pki: LabPki;
}

/** Starts the brokers, the data plane and the control plane into `parts`; rejects when one cannot start. */
async function startServices(parts: LabParts, x: ServiceInputs): Promise<StartedParts> {
  const { opts, bind, def, endpoint, registry, records, log } = x;
  const authorizer = new Authorizer(registry);
  const broker = (parts.broker = await startBroker({ authorizer, mqtt5: opts.mqtt5 ?? 'auto', log, records }));
  const p = opts.ports ?? {};
  const dataPlane = (parts.dataPlane = new DataPlane({
    bind,
    ports: { mqtt8883: p.mqtt8883 ?? 0, tls443: p.tls443 ?? 0, https8443: p.https8443 ?? 0 },
    endpoint,
    requireSni: opts.requireSni ?? false,
    behaviour: def.behaviour,
    server: x.server,
    authorizer,
    broker,
    tracker: parts.tracker,
    timers: parts.timers,
    stats: x.stats,
    log,
    records,
    customAuth: { store: customAuthOf(registry), behaviour: { ...DEFAULT_CUSTOM_AUTH, ...def.customAuth?.behaviour } },
    wss: { region: registry.region, iam: def.wssIam ?? 'allow' },
    ...(opts.earlyPackets ? { earlyPackets: opts.earlyPackets } : {}),
  }));
  await dataPlane.start();
  const controlPlane = (parts.controlPlane = new ControlPlane({
    bind,
    port: p.control ?? 0,
    registry,
    authorizer,
    faults: x.faults.api,
    dataAtsEndpoint: () => (def.behaviour.describeEndpoint === 'other-account' ? x.otherAccountEndpoint : endpoint),
    endpoint,
    log,
    records,
    region: registry.region,
    iamAllowsConnect: (def.wssIam ?? 'allow') === 'allow',
  }));
  await controlPlane.start();
  const credentialProvider = (parts.credentialProvider = await startCredentialProvider({
    ...{ bind, port: 0, host: credentialsHostFor(endpoint, registry.region), region: registry.region },
    ...{ pki: x.pki, registry, authorizer, tracker: parts.tracker, log },
  }));
  return { ...parts, broker, dataPlane, controlPlane, credentialProvider };
}

/**
 * Starts a lab: generates (or reuses) the PKI, seeds the registry for the scenario, starts both brokers, the data
 * plane (8883, 443 with ALPN routing, 8443; facts §1) and the control plane, all on `bind` (loopback by default).
 * Resolves to the running lab; `close()` releases everything. Rejects on an unknown scenario, an invalid region
 * (`<2 letters>-<words>-<digit>`), a non-loopback `bind` without `allowNonLoopback`, or a port that cannot be bound
 * (whatever had started is closed first).
 */
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
  const customDevice = def.customAuth ? seedCustomAuth(registry, def.customAuth) : undefined;
  const server = serverIdentity(def, pki, endpoint, region);

  const parts: LabParts = { tracker: new SocketTracker(), timers: new TimerSet(), tempDirs: [] };
  const stats = { tlsHandshakes: { mqtt8883: 0, tls443: 0, https8443: 0 }, connections: 0 };
  const faults = { api: { accessDenied: new Set<string>(def.apiAccessDenied), throttleOnce: new Set<string>() } };
  const records = new LabRecords(LAB_ACCOUNT_ID, { ...(def.logging ?? LAB_LOGGING_ON) }, opts.takeoverLogReason);
  const close = closer(parts, log);
  let started: StartedParts;
  try {
    const inputs = { opts, bind, def, endpoint, otherAccountEndpoint, server, registry, stats, faults, records };
    started = await startServices(parts, { ...inputs, log, pki });
  } catch (err) {
    await close();
    throw err;
  }

  const host = hostForUrl(bind);
  const ports = { ...started.dataPlane.ports, control: started.controlPlane.port };
  let site: FieldSite | undefined;
  try {
    const labPorts = { 8883: ports.mqtt8883, 443: ports.tls443, 8443: ports.https8443 };
    const reSigned = def.field?.proxy?.intercept ? pki.interceptedServerCertificate(endpoint, region) : undefined;
    site = def.field ? (parts.site = await startFieldSite(endpoint, bind, labPorts, def.field, reSigned)) : undefined;
  } catch (err) {
    await close();
    throw err;
  }
  const { 'connect-to': siteConnectTo, ...checkArgs } = site?.checkArgs ?? {};
  const lab: Lab = {
    endpoint,
    region,
    accountId: LAB_ACCOUNT_ID,
    bind,
    ports,
    connectTo: siteConnectTo ?? [
      `${endpoint}:8883:${host}:${ports.mqtt8883}`,
      `${endpoint}:443:${host}:${ports.tls443}`,
      `${endpoint}:8443:${host}:${ports.https8443}`,
      `${credentialsHostFor(endpoint, region)}:443:${host}:${started.credentialProvider.port}`,
    ],
    credentialsEndpoint: credentialsHostFor(endpoint, region),
    checkArgs,
    apiEndpoint: `http://${host}:${ports.control}`,
    caPem: pki.trustPem,
    device: {
      certPem: pki.device.certPem,
      keyPem: pki.device.keyPem,
      certificateId: pki.device.certificateId,
      clientId: LAB_DEVICE_NAME,
      thingName: LAB_DEVICE_NAME,
    },
    registry,
    scenario: scenarioInfo(def, customDevice),
    ...(customDevice ? { customAuth: customDevice } : {}),
    mqtt5Available: started.broker.mqtt5Port !== undefined,
    stats,
    faults,
    records,
    writeFiles: (dir?: string, program?: string) => writeLabFiles(lab, parts.tempDirs, dir, program),
    close,
  };
  if (def.otherDevice) parts.stopOtherDevice = otherDevice(lab, def.otherDevice.periodMs, pki);
  log(`lab started: scenario ${def.name}, endpoint ${endpoint}`);
  return lab;
}

/** What a running lab says about its scenario: `check` flags include the custom-auth device's, when it has one. */
function scenarioInfo(def: ScenarioDefinition, device: LabCustomAuthDevice | undefined): ScenarioInfo {
  const checkFlags = { ...def.checkFlags, ...(device ? customAuthFlags(device) : {}) };
  return {
    name: def.name,
    description: def.description,
    ...(Object.keys(checkFlags).length ? { checkFlags } : {}),
  };
}

/** Starts the scenario's other device against the lab's 8883 port (other-device.ts); returns its stop. */
function otherDevice(lab: Lab, periodMs: number, pki: LabPki): () => Promise<void> {
  const { host, port } = { host: lab.bind, port: lab.ports.mqtt8883 };
  const device = { certPem: pki.device.certPem, keyPem: pki.device.keyPem, clientId: lab.device.clientId };
  return startOtherDevice({ host, port, endpoint: lab.endpoint, caPem: lab.caPem, ...device, periodMs }).stop;
}

/** Multi-line human description of a running lab. */
export function describeLab(lab: Lab): string {
  const host = hostForUrl(lab.bind);
  const mqtt5 = lab.mqtt5Available ? 'available (mosquitto)' : 'unavailable (MQTT 5 CONNECT gets CONNACK 0x80)';
  const lines = [
    `iot-doctor lab, scenario "${lab.scenario.name}": ${lab.scenario.description}`,
    `  endpoint          ${lab.endpoint}`,
    `  region / account  ${lab.region} / ${lab.accountId}`,
    `  MQTT 8883         ${host}:${lab.ports.mqtt8883}`,
    `  443 (ALPN)        ${host}:${lab.ports.tls443}   MQTT with ALPN ${ALPN_MQTT}, HTTPS with ALPN ${ALPN_HTTP}, ` +
      `custom auth with ALPN ${ALPN_CUSTOM_AUTH}`,
    `  HTTPS 8443        ${host}:${lab.ports.https8443}`,
    `  API endpoint      ${lab.apiEndpoint}   (AWS_ENDPOINT_URL_IOT, _STS, _IAM; any key id, secret key "lab": ` +
      'the WebSocket route checks SigV4 signatures with it)',
    `  device            client id / thing ${lab.device.clientId}, certificate ${lab.device.certificateId}`,
    `  MQTT 5            ${mqtt5}`,
    `  connect-to        ${lab.connectTo.join('\n                    ')}`,
  ];
  return lines.join('\n');
}
