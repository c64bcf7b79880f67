/**
 * A subset of the AWS IoT control-plane API (REST-JSON), enough for the real `@aws-sdk/client-iot` pointed at the
 * lab with `endpoint` / `AWS_ENDPOINT_URL_IOT`. Paths, query names, headers and JSON shapes follow the service
 * model; errors carry `x-amzn-ErrorType` so the SDK raises its typed exceptions (ResourceNotFoundException,
 * InvalidRequestException, ThrottlingException, and AccessDeniedException as a service exception by name).
 *
 * Requests must be SigV4-signed (any credentials are accepted: the signature is not verified).
 * Faults: `faults.accessDenied` holds IAM action names (`iot:TestAuthorization`) answered with 403
 * AccessDeniedException; `faults.throttleOnce` holds operation names (`DescribeCertificate`) whose next call is
 * answered with ThrottlingException once, so the SDK's retry succeeds.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { TEST_AUTHORIZATION_ACTIONS, evaluate, type Decision } from '../policy/index.js';
import type { Authorizer } from './authz.js';
import { closeServer, listen } from './net-util.js';
import {
  CERTIFICATE_STATUSES,
  RegistryInvalidError,
  RegistryNotFoundError,
  type CertificateRecord,
  type CertificateStatus,
  type LabRegistry,
  type PolicyRecord,
} from './registry.js';

export interface ApiFaults {
  accessDenied: Set<string>;
  throttleOnce: Set<string>;
}

export interface ControlPlaneOptions {
  bind: string;
  port: number;
  registry: LabRegistry;
  authorizer: Authorizer;
  faults: ApiFaults;
  /** Answer to DescribeEndpoint(iot:Data-ATS). */
  dataAtsEndpoint: () => string;
  /** The data endpoint the lab serves (for DescribeDomainConfiguration). */
  endpoint: string;
  log: (message: string) => void;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const notFound = (message: string): ApiError => new ApiError(404, 'ResourceNotFoundException', message);
const invalid = (message: string): ApiError => new ApiError(400, 'InvalidRequestException', message);

interface ApiRequest {
  params: string[];
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

interface Operation {
  name: string;
  method: string;
  path: RegExp;
  /** IAM action checked against `faults.accessDenied`. */
  action: string;
  /** Resource named in the AccessDenied message. */
  resource: (req: ApiRequest) => string;
  handle: (req: ApiRequest) => unknown;
}

const epoch = (d: Date): number => d.getTime() / 1000;
const LAB_USER = 'lab-user';

export class ControlPlane {
  port = 0;
  private readonly server: Server;
  private readonly operations: Operation[];

  constructor(private readonly opts: ControlPlaneOptions) {
    this.operations = this.buildOperations();
    this.server = createServer((req, res) => {
      this.dispatch(req, res).catch((err: unknown) => {
        this.sendError(res, new ApiError(500, 'InternalFailureException', err instanceof Error ? err.message : String(err)));
      });
    });
    this.server.keepAliveTimeout = 2_000;
  }

  async start(): Promise<void> {
    this.port = await listen(this.server, this.opts.port, this.opts.bind);
  }

  async close(): Promise<void> {
    const done = closeServer(this.server);
    this.server.closeAllConnections();
    await done;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://lab.invalid');
    const raw = await readBody(req);
    const op = this.operations.find((o) => o.method === req.method && o.path.test(url.pathname));
    if (!op) {
      this.sendError(res, new ApiError(404, 'UnknownOperationException', `No lab operation for ${req.method} ${url.pathname}`));
      return;
    }
    const auth = req.headers['authorization'];
    if (typeof auth !== 'string' || !auth.startsWith('AWS4-HMAC-SHA256')) {
      this.sendError(res, new ApiError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token'));
      return;
    }
    let body: Record<string, unknown> = {};
    if (raw.length > 0) {
      try {
        const parsed: unknown = JSON.parse(raw.toString('utf8'));
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
      } catch {
        this.sendError(res, new ApiError(400, 'SerializationException', 'Request body is not valid JSON'));
        return;
      }
    }
    const match = op.path.exec(url.pathname) ?? [];
    const params = match.slice(1).map((p) => decodeURIComponent(p ?? ''));
    const apiReq: ApiRequest = { params, query: url.searchParams, headers: req.headers, body };

    const { faults } = this.opts;
    if (faults.accessDenied.has(op.action)) {
      this.opts.log(`api: ${op.name}: AccessDeniedException (fault)`);
      this.sendError(
        res,
        new ApiError(
          403,
          'AccessDeniedException',
          `User: arn:aws:iam::${this.opts.registry.accountId}:user/${LAB_USER} is not authorized to perform: ${op.action} on resource: ${op.resource(apiReq)} because no identity-based policy allows the ${op.action} action`,
        ),
      );
      return;
    }
    if (faults.throttleOnce.has(op.name)) {
      faults.throttleOnce.delete(op.name);
      this.opts.log(`api: ${op.name}: ThrottlingException (fault, once)`);
      this.sendError(res, new ApiError(400, 'ThrottlingException', 'Rate exceeded'));
      return;
    }
    try {
      const out = op.handle(apiReq);
      this.opts.log(`api: ${op.name}: 200`);
      this.send(res, 200, out === undefined ? undefined : JSON.stringify(out));
    } catch (err) {
      const apiErr =
        err instanceof ApiError
          ? err
          : err instanceof RegistryNotFoundError
            ? notFound(err.message)
            : err instanceof RegistryInvalidError
              ? invalid(err.message)
              : new ApiError(500, 'InternalFailureException', err instanceof Error ? err.message : String(err));
      this.opts.log(`api: ${op.name}: ${apiErr.type}`);
      this.sendError(res, apiErr);
    }
  }

  private send(res: ServerResponse, status: number, text: string | undefined, headers: Record<string, string> = {}): void {
    const body = text ?? '';
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'x-amzn-RequestId': randomUUID(),
      ...headers,
    });
    res.end(body);
  }

  private sendError(res: ServerResponse, err: ApiError): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    this.send(res, err.status, JSON.stringify({ message: err.message }), { 'x-amzn-ErrorType': err.type });
  }

  // ---------------------------------------------------------------------------------------------------------------

  private buildOperations(): Operation[] {
    const { registry } = this.opts;
    const certArn = (req: ApiRequest): string => registry.certificateArn(req.params[0] ?? '');
    const principalArn = (value: unknown): string => (typeof value === 'string' && value ? value : '*');
    return [
      {
        name: 'DescribeEndpoint',
        method: 'GET',
        path: /^\/endpoint$/,
        action: 'iot:DescribeEndpoint',
        resource: () => '*',
        handle: (req) => ({ endpointAddress: this.describeEndpoint(req.query.get('endpointType')) }),
      },
      {
        name: 'DescribeCertificate',
        method: 'GET',
        path: /^\/certificates\/([^/]+)$/,
        action: 'iot:DescribeCertificate',
        resource: certArn,
        handle: (req) => ({ certificateDescription: this.certificateDescription(this.requireCertificate(req.params[0])) }),
      },
      {
        name: 'UpdateCertificate',
        method: 'PUT',
        path: /^\/certificates\/([^/]+)$/,
        action: 'iot:UpdateCertificate',
        resource: certArn,
        handle: (req) => {
          const cert = this.requireCertificate(req.params[0]);
          const status = req.query.get('newStatus') ?? '';
          if (!(CERTIFICATE_STATUSES as readonly string[]).includes(status)) throw invalid(`Invalid newStatus ${status}`);
          registry.setCertificateStatus(cert.certificateId, status as CertificateStatus);
          return undefined;
        },
      },
      {
        name: 'ListCertificates',
        method: 'GET',
        path: /^\/certificates$/,
        action: 'iot:ListCertificates',
        resource: () => '*',
        handle: (req) => {
          const { items, nextMarker } = page(registry.listCertificates(), req.query.get('marker'), req.query.get('pageSize'));
          return {
            certificates: items.map((c) => ({
              certificateArn: c.certificateArn,
              certificateId: c.certificateId,
              status: c.status,
              certificateMode: c.certificateMode,
              creationDate: epoch(c.creationDate),
            })),
            ...(nextMarker ? { nextMarker } : {}),
          };
        },
      },
      {
        name: 'DescribeCACertificate',
        method: 'GET',
        path: /^\/cacertificate\/([^/]+)$/,
        action: 'iot:DescribeCACertificate',
        resource: (req) => registry.caCertificateArn(req.params[0] ?? ''),
        handle: (req) => {
          const id = req.params[0] ?? '';
          if (!/^(0x)?[0-9a-fA-F]{64}$/.test(id)) throw invalid(`Invalid certificate id ${id}`);
          const ca = registry.getCACertificate(id);
          if (!ca) throw notFound(`The CA certificate ${id} does not exist`);
          return {
            certificateDescription: {
              certificateArn: ca.certificateArn,
              certificateId: ca.certificateId,
              status: ca.status,
              certificatePem: ca.certificatePem,
              ownedBy: ca.ownedBy,
              creationDate: epoch(ca.creationDate),
              autoRegistrationStatus: ca.autoRegistrationStatus,
              lastModifiedDate: epoch(ca.lastModifiedDate),
              customerVersion: ca.customerVersion,
              generationId: ca.generationId,
              validity: { notBefore: epoch(ca.validity.notBefore), notAfter: epoch(ca.validity.notAfter) },
              certificateMode: ca.certificateMode,
            },
          };
        },
      },
      {
        name: 'ListAttachedPolicies',
        method: 'POST',
        path: /^\/attached-policies\/([^/]+)$/,
        action: 'iot:ListAttachedPolicies',
        resource: (req) => req.params[0] ?? '*',
        handle: (req) => {
          const target = req.params[0] ?? '';
          this.requireTarget(target);
          const { items, nextMarker } = page(
            registry.listAttachedPolicies(target),
            req.query.get('marker'),
            req.query.get('pageSize'),
          );
          return { policies: items.map(policyRef), ...(nextMarker ? { nextMarker } : {}) };
        },
      },
      {
        name: 'ListPrincipalPolicies',
        method: 'GET',
        path: /^\/principal-policies$/,
        action: 'iot:ListPrincipalPolicies',
        resource: (req) => principalArn(req.headers['x-amzn-iot-principal']),
        handle: (req) => {
          const principal = header(req, 'x-amzn-iot-principal');
          this.requireTarget(principal);
          const { items, nextMarker } = page(
            registry.listAttachedPolicies(principal),
            req.query.get('marker'),
            req.query.get('pageSize'),
          );
          return { policies: items.map(policyRef), ...(nextMarker ? { nextMarker } : {}) };
        },
      },
      {
        name: 'ListPolicies',
        method: 'GET',
        path: /^\/policies$/,
        action: 'iot:ListPolicies',
        resource: () => '*',
        handle: (req) => {
          const { items, nextMarker } = page(registry.listPolicies(), req.query.get('marker'), req.query.get('pageSize'));
          return { policies: items.map(policyRef), ...(nextMarker ? { nextMarker } : {}) };
        },
      },
      {
        name: 'GetPolicy',
        method: 'GET',
        path: /^\/policies\/([^/]+)$/,
        action: 'iot:GetPolicy',
        resource: (req) => registry.policyArn(req.params[0] ?? ''),
        handle: (req) => {
          const p = this.requirePolicy(req.params[0]);
          return {
            policyName: p.policyName,
            policyArn: p.policyArn,
            policyDocument: p.document,
            defaultVersionId: p.defaultVersionId,
            creationDate: epoch(p.creationDate),
            lastModifiedDate: epoch(p.lastModifiedDate),
            generationId: p.generationId,
          };
        },
      },
      {
        name: 'GetPolicyVersion',
        method: 'GET',
        path: /^\/policies\/([^/]+)\/version\/([^/]+)$/,
        action: 'iot:GetPolicyVersion',
        resource: (req) => registry.policyArn(req.params[0] ?? ''),
        handle: (req) => {
          const p = this.requirePolicy(req.params[0]);
          const v = p.versions.find((x) => x.versionId === req.params[1]);
          if (!v) throw notFound(`Policy version ${req.params[1]} of ${p.policyName} does not exist`);
          return {
            policyArn: p.policyArn,
            policyName: p.policyName,
            policyDocument: v.document,
            policyVersionId: v.versionId,
            isDefaultVersion: v.versionId === p.defaultVersionId,
            creationDate: epoch(v.createDate),
            lastModifiedDate: epoch(p.lastModifiedDate),
            generationId: p.generationId,
          };
        },
      },
      {
        name: 'ListTargetsForPolicy',
        method: 'POST',
        path: /^\/policy-targets\/([^/]+)$/,
        action: 'iot:ListTargetsForPolicy',
        resource: (req) => registry.policyArn(req.params[0] ?? ''),
        handle: (req) => {
          const p = this.requirePolicy(req.params[0]);
          const { items, nextMarker } = page(
            registry.listTargetsForPolicy(p.policyName),
            req.query.get('marker'),
            req.query.get('pageSize'),
          );
          return { targets: items, ...(nextMarker ? { nextMarker } : {}) };
        },
      },
      {
        name: 'GetEffectivePolicies',
        method: 'POST',
        path: /^\/effective-policies$/,
        action: 'iot:GetEffectivePolicies',
        resource: (req) => principalArn(req.body['principal']),
        handle: (req) => {
          const principal = req.body['principal'];
          const thingName = req.query.get('thingName') ?? undefined;
          const policies: PolicyRecord[] = [];
          const add = (p: PolicyRecord): void => {
            if (!policies.some((x) => x.policyName === p.policyName)) policies.push(p);
          };
          if (typeof principal === 'string' && principal) {
            this.requireTarget(principal);
            registry.listAttachedPolicies(principal).forEach(add);
          } else if (!thingName) {
            throw invalid('principal or thingName is required');
          }
          if (thingName) {
            if (!registry.getThing(thingName)) throw notFound(`Thing ${thingName} does not exist`);
            for (const g of registry.listThingGroupsForThing(thingName)) registry.listAttachedPolicies(g.groupArn).forEach(add);
          }
          return {
            effectivePolicies: policies.map((p) => ({ policyName: p.policyName, policyArn: p.policyArn, policyDocument: p.document })),
          };
        },
      },
      {
        name: 'ListPrincipalThings',
        method: 'GET',
        path: /^\/principals\/things$/,
        action: 'iot:ListPrincipalThings',
        resource: (req) => principalArn(req.headers['x-amzn-principal']),
        handle: (req) => {
          const principal = header(req, 'x-amzn-principal');
          this.requireTarget(principal);
          const { items, nextMarker } = page(
            registry.listPrincipalThings(principal),
            req.query.get('nextToken'),
            req.query.get('maxResults'),
          );
          return { things: items, ...(nextMarker ? { nextToken: nextMarker } : {}) };
        },
      },
      {
        name: 'DescribeThing',
        method: 'GET',
        path: /^\/things\/([^/]+)$/,
        action: 'iot:DescribeThing',
        resource: (req) => registry.thingArn(req.params[0] ?? ''),
        handle: (req) => {
          const t = registry.getThing(req.params[0] ?? '');
          if (!t) throw notFound(`Thing ${req.params[0]} cannot be found.`);
          return {
            defaultClientId: t.thingName,
            thingName: t.thingName,
            thingId: t.thingId,
            thingArn: t.thingArn,
            ...(t.thingTypeName ? { thingTypeName: t.thingTypeName } : {}),
            attributes: t.attributes,
            version: t.version,
          };
        },
      },
      {
        name: 'ListThingPrincipals',
        method: 'GET',
        path: /^\/things\/([^/]+)\/principals$/,
        action: 'iot:ListThingPrincipals',
        resource: (req) => registry.thingArn(req.params[0] ?? ''),
        handle: (req) => {
          const name = req.params[0] ?? '';
          if (!registry.getThing(name)) throw notFound(`Thing ${name} cannot be found.`);
          const { items, nextMarker } = page(registry.listThingPrincipals(name), req.query.get('nextToken'), req.query.get('maxResults'));
          return { principals: items, ...(nextMarker ? { nextToken: nextMarker } : {}) };
        },
      },
      {
        name: 'ListThingGroupsForThing',
        method: 'GET',
        path: /^\/things\/([^/]+)\/thing-groups$/,
        action: 'iot:ListThingGroupsForThing',
        resource: (req) => registry.thingArn(req.params[0] ?? ''),
        handle: (req) => {
          const name = req.params[0] ?? '';
          if (!registry.getThing(name)) throw notFound(`Thing ${name} cannot be found.`);
          return {
            thingGroups: registry.listThingGroupsForThing(name).map((g) => ({ groupName: g.groupName, groupArn: g.groupArn })),
          };
        },
      },
      {
        name: 'DescribeDomainConfiguration',
        method: 'GET',
        path: /^\/domainConfigurations\/([^/]+)$/,
        action: 'iot:DescribeDomainConfiguration',
        resource: (req) => registry.arn('domainconfiguration', req.params[0] ?? ''),
        handle: (req) => {
          const name = req.params[0] ?? '';
          if (name !== 'iot:Data-ATS') throw notFound(`Domain configuration ${name} does not exist`);
          return {
            domainConfigurationName: name,
            domainConfigurationArn: registry.arn('domainconfiguration', name),
            domainName: this.opts.endpoint,
            serverCertificates: [],
            domainConfigurationStatus: 'ENABLED',
            serviceType: 'DATA',
            domainType: 'AWS_MANAGED',
            tlsConfig: { securityPolicy: 'IoTSecurityPolicy_TLS13_1_2_2022_10' },
            authenticationType: 'DEFAULT',
            applicationProtocol: 'DEFAULT',
          };
        },
      },
      {
        name: 'TestAuthorization',
        method: 'POST',
        path: /^\/test-authorization$/,
        action: 'iot:TestAuthorization',
        resource: (req) => principalArn(req.body['principal']),
        handle: (req) => this.testAuthorization(req),
      },
    ];
  }

  private describeEndpoint(type: string | null): string {
    const ats = this.opts.dataAtsEndpoint();
    const prefix = ats.split('-ats.')[0] ?? ats;
    const region = this.opts.registry.region;
    switch (type ?? 'iot:Data') {
      case 'iot:Data-ATS':
        return ats;
      case 'iot:Data':
        return `${prefix}.iot.${region}.amazonaws.com`;
      case 'iot:CredentialProvider':
        return `${prefix}.credentials.iot.${region}.amazonaws.com`;
      case 'iot:Jobs':
        return `${prefix}.jobs.iot.${region}.amazonaws.com`;
      default:
        throw invalid(`Endpoint type ${type} is not valid`);
    }
  }

  private certificateDescription(c: CertificateRecord): Record<string, unknown> {
    return {
      certificateArn: c.certificateArn,
      certificateId: c.certificateId,
      ...(c.caCertificateId ? { caCertificateId: c.caCertificateId } : {}),
      status: c.status,
      certificatePem: c.certificatePem,
      ownedBy: c.ownedBy,
      creationDate: epoch(c.creationDate),
      lastModifiedDate: epoch(c.lastModifiedDate),
      customerVersion: c.customerVersion,
      generationId: c.generationId,
      validity: { notBefore: epoch(c.validity.notBefore), notAfter: epoch(c.validity.notAfter) },
      certificateMode: c.certificateMode,
    };
  }

  private requireCertificate(idOrArn: string | undefined): CertificateRecord {
    const id = idOrArn ?? '';
    if (!/^(0x)?[0-9a-fA-F]{64}$/.test(id) && !id.startsWith('arn:')) {
      throw invalid(`1 validation error detected: Value '${id}' at 'certificateId' failed to satisfy constraint: Member must satisfy regular expression pattern: (0x)?[a-fA-F0-9]+`);
    }
    const cert = this.opts.registry.getCertificate(id);
    if (!cert) throw notFound(`The certificate ${id} does not exist`);
    return cert;
  }

  private requirePolicy(name: string | undefined): PolicyRecord {
    const p = this.opts.registry.getPolicy(name ?? '');
    if (!p) throw notFound(`Policy not found: ${name}`);
    return p;
  }

  /** A certificate ARN / id or a thing-group ARN that must exist. */
  private requireTarget(target: string): void {
    const { registry } = this.opts;
    if (!target) throw invalid('principal is required');
    const certId = registry.certificateIdFrom(target);
    if (certId) {
      if (!registry.getCertificate(certId)) throw notFound(`The certificate ${certId} does not exist`);
      return;
    }
    const group = /^arn:aws[\w-]*:iot:[^:]*:[^:]*:thinggroup\/(.+)$/.exec(target);
    if (group) {
      if (!registry.getThingGroup(group[1] ?? '')) throw notFound(`Thing group ${group[1]} does not exist`);
      return;
    }
    throw invalid(`Invalid principal or target ${target}`);
  }

  private testAuthorization(req: ApiRequest): unknown {
    const { registry, authorizer } = this.opts;
    const principal = req.body['principal'];
    if (typeof principal !== 'string' || !principal) throw invalid('principal is required in the lab');
    const cert = registry.getCertificate(principal);
    if (!cert) throw notFound(`The certificate ${principal} does not exist`);
    const authInfos = req.body['authInfos'];
    if (!Array.isArray(authInfos) || authInfos.length < 1 || authInfos.length > 10) {
      throw invalid('authInfos must contain between 1 and 10 items');
    }
    const names = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    const add = names(req.body['policyNamesToAdd']);
    const skip = names(req.body['policyNamesToSkip']);
    for (const n of add) if (!registry.getPolicy(n)) throw notFound(`Policy not found: ${n}`);
    const clientId = req.query.get('clientId') ?? undefined;
    const { policies, ctx } = authorizer.resolve(cert, clientId, { add, skip });
    const ref = (name: string): { policyName: string; policyArn: string } => ({ policyName: name, policyArn: registry.policyArn(name) });

    const authResults = authInfos.map((info: unknown) => {
      const i = (info ?? {}) as { actionType?: unknown; resources?: unknown };
      const actionType = typeof i.actionType === 'string' ? i.actionType : '';
      const mapping = TEST_AUTHORIZATION_ACTIONS[actionType as keyof typeof TEST_AUTHORIZATION_ACTIONS];
      if (!mapping) throw invalid(`Invalid actionType ${actionType}`);
      const resources = names(i.resources);
      if (resources.length === 0) throw invalid('resources must not be empty');
      for (const r of resources) if (!r.startsWith('arn:')) throw invalid(`Invalid resource ${r}: expected an ARN`);
      const decisions: Decision[] = resources.map((r) => evaluate(policies, mapping.action, r, ctx));
      const union = (pick: (d: Decision) => string[]): string[] => [...new Set(decisions.flatMap(pick))];
      const explicit = union((d) => d.deniedBy);
      const allowedBy = union((d) => d.allowedBy);
      const decision = decisions.some((d) => d.decision === 'EXPLICIT_DENY')
        ? 'EXPLICIT_DENY'
        : decisions.every((d) => d.decision === 'ALLOWED')
          ? 'ALLOWED'
          : 'IMPLICIT_DENY';
      const implicit = decision === 'ALLOWED' ? [] : union((d) => d.implicitDenyPolicies);
      return {
        authInfo: { actionType, resources },
        allowed: { policies: decision === 'ALLOWED' ? allowedBy.map(ref) : [] },
        denied: {
          implicitDeny: { policies: decision === 'IMPLICIT_DENY' ? implicit.map(ref) : [] },
          explicitDeny: { policies: explicit.map(ref) },
        },
        authDecision: decision,
        missingContextValues: union((d) => d.missingContextValues),
      };
    });
    return { authResults };
  }
}

function policyRef(p: PolicyRecord): { policyName: string; policyArn: string } {
  return { policyName: p.policyName, policyArn: p.policyArn };
}

function header(req: ApiRequest, name: string): string {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) throw invalid(`${name} header is required`);
  return s;
}

/** AWS-style paging with an opaque marker; page size 1-250, default 25. */
function page<T>(all: T[], marker: string | null, pageSize: string | null): { items: T[]; nextMarker?: string } {
  const size = pageSize === null ? 25 : Number(pageSize);
  if (!Number.isInteger(size) || size < 1 || size > 250) throw invalid(`Invalid page size ${pageSize}: must be 1-250`);
  let offset = 0;
  if (marker) {
    const m = /^lab:(\d+)$/.exec(Buffer.from(marker, 'base64').toString('utf8'));
    if (!m) throw invalid('Invalid marker');
    offset = Number(m[1]);
  }
  const items = all.slice(offset, offset + size);
  const next = offset + size;
  return next < all.length ? { items, nextMarker: Buffer.from(`lab:${next}`).toString('base64') } : { items };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 1024 * 1024) chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
