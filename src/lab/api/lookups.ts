/**
 * Registry look-ups shared by the control-plane operations, each throwing the error AWS answers when the resource
 * is missing or the identifier is malformed (facts §5 certificate id, §6 error shapes).
 */
import type { CertificateRecord, LabRegistry, PolicyRecord } from '../registry.js';
import { invalid, notFound } from './operation.js';

/** A certificate id as the service model accepts it: 64 hex digits, optionally `0x`-prefixed (facts §5). */
export const CERTIFICATE_ID_PATTERN = /^(0x)?[0-9a-fA-F]{64}$/;

/**
 * The certificate named by a 64-hex id: the service model's `CertificateId` (pattern `(0x)?[a-fA-F0-9]+`, length 64,
 * facts §5/§6), so an ARN is refused as AWS refuses it. Throws `InvalidRequestException` with the service model's
 * validation message on a malformed id and `ResourceNotFoundException` when it is not registered.
 */
export function requireCertificate(registry: LabRegistry, idOrArn: string | undefined): CertificateRecord {
  const id = idOrArn ?? '';
  if (!CERTIFICATE_ID_PATTERN.test(id)) {
    throw invalid(
      `1 validation error detected: Value '${id}' at 'certificateId' failed to satisfy constraint: ` +
        'Member must satisfy regular expression pattern: (0x)?[a-fA-F0-9]+',
    );
  }
  const cert = registry.getCertificate(id);
  if (!cert) throw notFound(`The certificate ${id} does not exist`);
  return cert;
}

/** The policy named `name`; throws `ResourceNotFoundException` when there is none. */
export function requirePolicy(registry: LabRegistry, name: string | undefined): PolicyRecord {
  const p = registry.getPolicy(name ?? '');
  if (!p) throw notFound(`Policy not found: ${name}`);
  return p;
}

/**
 * Checks a policy target (facts §6 ListAttachedPolicies): a certificate ARN / id or a thing-group ARN that must
 * exist. Throws `InvalidRequestException` when empty or of another kind, `ResourceNotFoundException` when missing.
 */
export function requireTarget(registry: LabRegistry, target: string): void {
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

/** The `{ policyName, policyArn }` reference the list operations return. */
export function policyRef(p: PolicyRecord): { policyName: string; policyArn: string } {
  return { policyName: p.policyName, policyArn: p.policyArn };
}
