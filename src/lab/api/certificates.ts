/**
 * Control-plane operations on certificates and CA certificates: DescribeCertificate, UpdateCertificate,
 * ListCertificates, DescribeCACertificate. Paths and response shapes per the service model (facts §6).
 */
import { CERTIFICATE_STATUSES, type CertificateRecord, type CertificateStatus } from '../registry.js';
import { CERTIFICATE_ID_PATTERN, requireCertificate } from './lookups.js';
import {
  ApiError,
  epoch,
  invalid,
  notFound,
  page,
  type ApiContext,
  type ApiRequest,
  type Operation,
} from './operation.js';

/** Statuses a customer may set with UpdateCertificate. */
const SETTABLE_STATUSES = ['ACTIVE', 'INACTIVE', 'REVOKED'] as const;

const certArn = (req: ApiRequest, ctx: ApiContext): string =>
  ctx.registry.certificateArn(req.params['certificateId'] ?? '');

/** The `certificateDescription` of DescribeCertificate (facts §6): epoch-second dates, `caCertificateId` if any. */
function certificateDescription(c: CertificateRecord): Record<string, unknown> {
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

/**
 * UpdateCertificate (facts §3 sources, service model): `PENDING_TRANSFER` and `PENDING_ACTIVATION` are for AWS's
 * internal use and `REGISTER_INACTIVE` is deprecated, so only ACTIVE, INACTIVE and REVOKED may be set; a REVOKED
 * certificate cannot be brought back (`CertificateStateException`, HTTP 406 in the service model).
 */
function updateCertificate(req: ApiRequest, { registry }: ApiContext): undefined {
  const cert = requireCertificate(registry, req.params['certificateId']);
  const status = req.query.get('newStatus') ?? '';
  if (!(CERTIFICATE_STATUSES as readonly string[]).includes(status)) throw invalid(`Invalid newStatus ${status}`);
  if (!(SETTABLE_STATUSES as readonly string[]).includes(status)) {
    throw invalid(`The certificate status ${status} cannot be set with UpdateCertificate`);
  }
  if (cert.status === 'REVOKED' && status !== 'REVOKED') {
    throw new ApiError(406, 'CertificateStateException', `The certificate ${cert.certificateId} is revoked`);
  }
  registry.setCertificateStatus(cert.certificateId, status as CertificateStatus);
  return undefined;
}

function listCertificates(req: ApiRequest, { registry }: ApiContext): unknown {
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
}

function describeCaCertificate(req: ApiRequest, { registry }: ApiContext): unknown {
  const id = req.params['caCertificateId'] ?? '';
  if (!CERTIFICATE_ID_PATTERN.test(id)) throw invalid(`Invalid certificate id ${id}`);
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
}

/** The certificate family of the operation table (facts §6 rows DescribeCertificate, DescribeCACertificate). */
export const CERTIFICATE_OPERATIONS: readonly Operation[] = [
  {
    name: 'DescribeCertificate',
    method: 'GET',
    path: '/certificates/{certificateId}',
    resource: certArn,
    handle: (req, ctx) => ({
      certificateDescription: certificateDescription(requireCertificate(ctx.registry, req.params['certificateId'])),
    }),
  },
  {
    name: 'UpdateCertificate',
    method: 'PUT',
    path: '/certificates/{certificateId}',
    resource: certArn,
    handle: updateCertificate,
  },
  { name: 'ListCertificates', method: 'GET', path: '/certificates', resource: () => '*', handle: listCertificates },
  {
    name: 'DescribeCACertificate',
    method: 'GET',
    path: '/cacertificate/{caCertificateId}',
    resource: (req, ctx) => ctx.registry.caCertificateArn(req.params['caCertificateId'] ?? ''),
    handle: describeCaCertificate,
  },
];
