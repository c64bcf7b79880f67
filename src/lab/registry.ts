/**
 * The lab account: certificates, CA certificates, things, thing groups, policies and their attachments. One
 * registry is shared by the data plane (which authorizes every CONNECT / PUBLISH / SUBSCRIBE / RECEIVE and HTTPS
 * publish against it) and the control plane (which answers the AWS IoT API from it), so a change made by a test
 * shows on both at once. Unlike AWS there is no policy cache: a change applies to the next packet.
 */
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { certificateNameFields, parsePolicy } from '../policy/index.js';

export const CERTIFICATE_STATUSES = [
  'ACTIVE',
  'INACTIVE',
  'REVOKED',
  'PENDING_TRANSFER',
  'REGISTER_INACTIVE',
  'PENDING_ACTIVATION',
] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];
export type CertificateMode = 'DEFAULT' | 'SNI_ONLY';

export interface CertificateRecord {
  certificateId: string;
  certificateArn: string;
  certificatePem: string;
  status: CertificateStatus;
  caCertificateId?: string;
  certificateMode: CertificateMode;
  ownedBy: string;
  creationDate: Date;
  lastModifiedDate: Date;
  customerVersion: number;
  generationId: string;
  validity: { notBefore: Date; notAfter: Date };
  /** Subject / issuer fields by AWS policy-variable name (CommonName, Organization, ...). */
  subject: Record<string, string>;
  issuer: Record<string, string>;
  serialNumber: string;
}

export interface CaCertificateRecord {
  certificateId: string;
  certificateArn: string;
  certificatePem: string;
  status: 'ACTIVE' | 'INACTIVE';
  autoRegistrationStatus: 'ENABLE' | 'DISABLE';
  certificateMode: CertificateMode;
  ownedBy: string;
  creationDate: Date;
  lastModifiedDate: Date;
  customerVersion: number;
  generationId: string;
  validity: { notBefore: Date; notAfter: Date };
}

export interface PolicyVersionRecord {
  versionId: string;
  document: string;
  createDate: Date;
}

export interface PolicyRecord {
  policyName: string;
  policyArn: string;
  /** The default version's document (JSON text, as AWS returns it). */
  document: string;
  defaultVersionId: string;
  versions: PolicyVersionRecord[];
  creationDate: Date;
  lastModifiedDate: Date;
  generationId: string;
}

export interface ThingRecord {
  thingName: string;
  thingArn: string;
  thingId: string;
  thingTypeName?: string;
  attributes: Record<string, string>;
  version: number;
}

export interface ThingGroupRecord {
  groupName: string;
  groupArn: string;
  things: Set<string>;
}

/** Thrown by registry methods for unknown resources; the control plane maps it to ResourceNotFoundException. */
export class RegistryNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryNotFoundError';
  }
}

/** Thrown for invalid input; the control plane maps it to InvalidRequestException. */
export class RegistryInvalidError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryInvalidError';
  }
}

/** AWS certificate id: lowercase hex SHA-256 of the DER encoding. */
export function certificateIdOf(certPemOrDer: string | Buffer): string {
  const der = typeof certPemOrDer === 'string' ? new X509Certificate(certPemOrDer).raw : certPemOrDer;
  return createHash('sha256').update(der).digest('hex');
}

const CERT_ID_RE = /^(?:0x)?[0-9a-fA-F]{64}$/;

/**
 * The lab account's IoT registry, in memory: certificates (by id, facts §5), CA certificates, policies with
 * versions, things, thing groups and their attachments. Shared live by the data plane and the control plane.
 * Mutators throw `RegistryNotFoundError` / `RegistryInvalidError`, which the API answers 404 / 400.
 */
export class LabRegistry {
  readonly region: string;
  readonly accountId: string;
  private readonly certificates = new Map<string, CertificateRecord>();
  private readonly caCertificates = new Map<string, CaCertificateRecord>();
  private readonly policies = new Map<string, PolicyRecord>();
  private readonly things = new Map<string, ThingRecord>();
  private readonly thingGroups = new Map<string, ThingGroupRecord>();
  /** principal ARN (cert or thing group) -> policy names, in attachment order. */
  private readonly policyAttachments = new Map<string, string[]>();
  /** thing name -> principal ARNs. */
  private readonly thingPrincipals = new Map<string, Set<string>>();

  constructor(region: string, accountId: string) {
    this.region = region;
    this.accountId = accountId;
  }

  // ---- ARNs ---------------------------------------------------------------------------------------------------

  arn(kind: string, name: string): string {
    return `arn:aws:iot:${this.region}:${this.accountId}:${kind}/${name}`;
  }
  certificateArn(certificateId: string): string {
    return this.arn('cert', certificateId);
  }
  caCertificateArn(certificateId: string): string {
    return this.arn('cacert', certificateId);
  }
  policyArn(policyName: string): string {
    return this.arn('policy', policyName);
  }
  thingArn(thingName: string): string {
    return this.arn('thing', thingName);
  }
  thingGroupArn(groupName: string): string {
    return this.arn('thinggroup', groupName);
  }

  // ---- certificates -------------------------------------------------------------------------------------------

  registerCertificate(
    certificatePem: string,
    opts: { status?: CertificateStatus; caCertificateId?: string; certificateMode?: CertificateMode } = {},
  ): CertificateRecord {
    const x509 = new X509Certificate(certificatePem);
    const certificateId = certificateIdOf(x509.raw);
    const now = new Date();
    const record: CertificateRecord = {
      certificateId,
      certificateArn: this.certificateArn(certificateId),
      certificatePem: x509.toString(),
      status: opts.status ?? 'ACTIVE',
      certificateMode: opts.certificateMode ?? (opts.caCertificateId ? 'DEFAULT' : 'SNI_ONLY'),
      ownedBy: this.accountId,
      creationDate: now,
      lastModifiedDate: now,
      customerVersion: 1,
      generationId: randomUUID(),
      validity: { notBefore: new Date(x509.validFrom), notAfter: new Date(x509.validTo) },
      subject: certificateNameFields(x509.subject),
      issuer: certificateNameFields(x509.issuer),
      serialNumber: x509.serialNumber,
    };
    if (opts.caCertificateId) record.caCertificateId = opts.caCertificateId;
    this.certificates.set(certificateId, record);
    return record;
  }

  /** Accepts a certificate id (with or without 0x) or a certificate ARN. */
  getCertificate(idOrArn: string): CertificateRecord | undefined {
    const id = this.certificateIdFrom(idOrArn);
    return id ? this.certificates.get(id) : undefined;
  }

  findCertificateByDer(der: Buffer): CertificateRecord | undefined {
    return this.certificates.get(certificateIdOf(der));
  }

  listCertificates(): CertificateRecord[] {
    return [...this.certificates.values()];
  }

  setCertificateStatus(idOrArn: string, status: CertificateStatus): CertificateRecord {
    const cert = this.requireCertificate(idOrArn);
    cert.status = status;
    cert.lastModifiedDate = new Date();
    cert.customerVersion += 1;
    cert.generationId = randomUUID();
    return cert;
  }

  setCertificateMode(idOrArn: string, mode: CertificateMode): CertificateRecord {
    const cert = this.requireCertificate(idOrArn);
    cert.certificateMode = mode;
    return cert;
  }

  deleteCertificate(idOrArn: string): void {
    const cert = this.requireCertificate(idOrArn);
    this.certificates.delete(cert.certificateId);
    this.policyAttachments.delete(cert.certificateArn);
    for (const principals of this.thingPrincipals.values()) principals.delete(cert.certificateArn);
  }

  // ---- CA certificates ----------------------------------------------------------------------------------------

  registerCACertificate(
    certificatePem: string,
    opts: {
      status?: 'ACTIVE' | 'INACTIVE';
      autoRegistrationStatus?: 'ENABLE' | 'DISABLE';
      certificateMode?: CertificateMode;
    } = {},
  ): CaCertificateRecord {
    const x509 = new X509Certificate(certificatePem);
    if (!x509.ca) throw new RegistryInvalidError('The certificate is not a CA certificate');
    const certificateId = certificateIdOf(x509.raw);
    const now = new Date();
    const record: CaCertificateRecord = {
      certificateId,
      certificateArn: this.caCertificateArn(certificateId),
      certificatePem: x509.toString(),
      status: opts.status ?? 'ACTIVE',
      autoRegistrationStatus: opts.autoRegistrationStatus ?? 'DISABLE',
      certificateMode: opts.certificateMode ?? 'DEFAULT',
      ownedBy: this.accountId,
      creationDate: now,
      lastModifiedDate: now,
      customerVersion: 1,
      generationId: randomUUID(),
      validity: { notBefore: new Date(x509.validFrom), notAfter: new Date(x509.validTo) },
    };
    this.caCertificates.set(certificateId, record);
    return record;
  }

  getCACertificate(idOrArn: string): CaCertificateRecord | undefined {
    const id = this.certificateIdFrom(idOrArn);
    return id ? this.caCertificates.get(id) : undefined;
  }

  setCACertificateStatus(idOrArn: string, status: 'ACTIVE' | 'INACTIVE'): CaCertificateRecord {
    const ca = this.getCACertificate(idOrArn);
    if (!ca) throw new RegistryNotFoundError(`CA certificate ${idOrArn} does not exist`);
    ca.status = status;
    ca.lastModifiedDate = new Date();
    ca.customerVersion += 1;
    return ca;
  }

  setAutoRegistrationStatus(idOrArn: string, value: 'ENABLE' | 'DISABLE'): CaCertificateRecord {
    const ca = this.getCACertificate(idOrArn);
    if (!ca) throw new RegistryNotFoundError(`CA certificate ${idOrArn} does not exist`);
    ca.autoRegistrationStatus = value;
    ca.lastModifiedDate = new Date();
    return ca;
  }

  // ---- policies -----------------------------------------------------------------------------------------------

  /** Creates a policy (version 1). The document is validated with the shared policy parser, as AWS does. */
  createPolicy(policyName: string, document: string | object): PolicyRecord {
    if (this.policies.has(policyName)) throw new RegistryInvalidError(`Policy ${policyName} already exists`);
    const text = this.policyText(policyName, document);
    const now = new Date();
    const record: PolicyRecord = {
      policyName,
      policyArn: this.policyArn(policyName),
      document: text,
      defaultVersionId: '1',
      versions: [{ versionId: '1', document: text, createDate: now }],
      creationDate: now,
      lastModifiedDate: now,
      generationId: randomUUID(),
    };
    this.policies.set(policyName, record);
    return record;
  }

  /** Adds a version; by default it becomes the default version (what the policy enforces). */
  createPolicyVersion(policyName: string, document: string | object, setAsDefault = true): PolicyVersionRecord {
    const policy = this.requirePolicy(policyName);
    const text = this.policyText(policyName, document);
    const last = policy.versions.at(-1);
    const versionId = String(Number(last?.versionId ?? '0') + 1);
    const version: PolicyVersionRecord = { versionId, document: text, createDate: new Date() };
    policy.versions.push(version);
    if (setAsDefault) {
      policy.defaultVersionId = versionId;
      policy.document = text;
    }
    policy.lastModifiedDate = new Date();
    policy.generationId = randomUUID();
    return version;
  }

  getPolicy(policyName: string): PolicyRecord | undefined {
    return this.policies.get(policyName);
  }

  listPolicies(): PolicyRecord[] {
    return [...this.policies.values()];
  }

  deletePolicy(policyName: string): void {
    this.requirePolicy(policyName);
    for (const names of this.policyAttachments.values()) {
      const i = names.indexOf(policyName);
      if (i >= 0) names.splice(i, 1);
    }
    this.policies.delete(policyName);
  }

  /**
   * Attach a policy to a target: a certificate ARN, a certificate id, or a thing group ARN (as AWS AttachPolicy).
   */
  attachPolicy(policyName: string, target: string): void {
    this.requirePolicy(policyName);
    const key = this.principalKey(target);
    const list = this.policyAttachments.get(key) ?? [];
    if (!list.includes(policyName)) list.push(policyName);
    this.policyAttachments.set(key, list);
  }

  detachPolicy(policyName: string, target: string): void {
    const key = this.principalKey(target);
    const list = this.policyAttachments.get(key);
    if (!list) return;
    const i = list.indexOf(policyName);
    if (i >= 0) list.splice(i, 1);
  }

  /** Policies attached directly to the target (certificate or thing group), in attachment order. */
  listAttachedPolicies(target: string): PolicyRecord[] {
    const key = this.principalKey(target);
    return (this.policyAttachments.get(key) ?? [])
      .map((n) => this.policies.get(n))
      .filter((p): p is PolicyRecord => !!p);
  }

  /** Targets (principal or thing-group ARNs) a policy is attached to. */
  listTargetsForPolicy(policyName: string): string[] {
    const out: string[] = [];
    for (const [target, names] of this.policyAttachments) if (names.includes(policyName)) out.push(target);
    return out;
  }

  // ---- things and thing groups --------------------------------------------------------------------------------

  createThing(
    thingName: string,
    opts: { thingTypeName?: string; attributes?: Record<string, string> } = {},
  ): ThingRecord {
    const existing = this.things.get(thingName);
    if (existing) return existing;
    const record: ThingRecord = {
      thingName,
      thingArn: this.thingArn(thingName),
      thingId: randomUUID(),
      attributes: { ...(opts.attributes ?? {}) },
      version: 1,
    };
    if (opts.thingTypeName) record.thingTypeName = opts.thingTypeName;
    this.things.set(thingName, record);
    return record;
  }

  getThing(thingName: string): ThingRecord | undefined {
    return this.things.get(thingName);
  }

  deleteThing(thingName: string): void {
    this.things.delete(thingName);
    this.thingPrincipals.delete(thingName);
    for (const g of this.thingGroups.values()) g.things.delete(thingName);
  }

  /** `principal`: certificate ARN or id. */
  attachThingPrincipal(thingName: string, principal: string): void {
    if (!this.things.has(thingName)) throw new RegistryNotFoundError(`Thing ${thingName} does not exist`);
    const key = this.principalKey(principal);
    const set = this.thingPrincipals.get(thingName) ?? new Set<string>();
    set.add(key);
    this.thingPrincipals.set(thingName, set);
  }

  detachThingPrincipal(thingName: string, principal: string): void {
    this.thingPrincipals.get(thingName)?.delete(this.principalKey(principal));
  }

  listPrincipalThings(principal: string): string[] {
    const key = this.principalKey(principal);
    const out: string[] = [];
    for (const [thing, principals] of this.thingPrincipals) if (principals.has(key)) out.push(thing);
    return out;
  }

  listThingPrincipals(thingName: string): string[] {
    return [...(this.thingPrincipals.get(thingName) ?? [])];
  }

  createThingGroup(groupName: string): ThingGroupRecord {
    const existing = this.thingGroups.get(groupName);
    if (existing) return existing;
    const record: ThingGroupRecord = { groupName, groupArn: this.thingGroupArn(groupName), things: new Set() };
    this.thingGroups.set(groupName, record);
    return record;
  }

  getThingGroup(groupName: string): ThingGroupRecord | undefined {
    return this.thingGroups.get(groupName);
  }

  addThingToGroup(thingName: string, groupName: string): void {
    if (!this.things.has(thingName)) throw new RegistryNotFoundError(`Thing ${thingName} does not exist`);
    this.createThingGroup(groupName).things.add(thingName);
  }

  removeThingFromGroup(thingName: string, groupName: string): void {
    this.thingGroups.get(groupName)?.things.delete(thingName);
  }

  listThingGroupsForThing(thingName: string): ThingGroupRecord[] {
    return [...this.thingGroups.values()].filter((g) => g.things.has(thingName));
  }

  attachPolicyToGroup(policyName: string, groupName: string): void {
    this.createThingGroup(groupName);
    this.attachPolicy(policyName, this.thingGroupArn(groupName));
  }

  // ---- helpers ------------------------------------------------------------------------------------------------

  /** Normalizes a certificate id / ARN or thing-group ARN to the key used for attachments. */
  principalKey(target: string): string {
    const t = target.trim();
    if (CERT_ID_RE.test(t)) return this.certificateArn(t.replace(/^0x/, '').toLowerCase());
    if (t.startsWith('arn:')) return t;
    throw new RegistryInvalidError(
      `Invalid target ${target}: expected a certificate ARN, certificate id or thing group ARN`,
    );
  }

  certificateIdFrom(idOrArn: string): string | undefined {
    const t = idOrArn.trim();
    if (CERT_ID_RE.test(t)) return t.replace(/^0x/, '').toLowerCase();
    const m = /^arn:aws[\w-]*:iot:[^:]*:[^:]*:(?:cert|cacert)\/([0-9a-fA-F]{64})$/.exec(t);
    return m?.[1]?.toLowerCase();
  }

  private requireCertificate(idOrArn: string): CertificateRecord {
    const cert = this.getCertificate(idOrArn);
    if (!cert) throw new RegistryNotFoundError(`Certificate ${idOrArn} does not exist`);
    return cert;
  }

  private requirePolicy(policyName: string): PolicyRecord {
    const p = this.policies.get(policyName);
    if (!p) throw new RegistryNotFoundError(`Policy ${policyName} does not exist`);
    return p;
  }

  private policyText(policyName: string, document: string | object): string {
    const text = typeof document === 'string' ? document : JSON.stringify(document, null, 2);
    try {
      parsePolicy(text, policyName);
    } catch (err) {
      throw new RegistryInvalidError(err instanceof Error ? err.message : String(err));
    }
    return text;
  }
}
