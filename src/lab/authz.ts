/**
 * Authorization the AWS IoT way, on top of the registry and the shared policy evaluator: which policies reach a
 * connection (the certificate's own, plus those of the thing groups of the thing named like the client id), which
 * context the policy variables see, and the decision for one action on one resource.
 */
import { evaluate, resourceArn, type Decision, type EvalContext, type PolicyDocumentInput } from '../policy/index.js';
import type { CertificateRecord, LabRegistry } from './registry.js';

export type ResourceKind = 'client' | 'topic' | 'topicfilter' | 'thing';

export interface ConnectionIdentity {
  certificateId: string;
  /** MQTT client id; absent for HTTPS publish, which has no client id. */
  clientId?: string;
  sourceIp?: string;
  /**
   * A custom-authentication principal: the policies its authorizer returned (field notes §5.4). They are the only
   * policies of the connection; `certificateId` then holds the `principalId`.
   */
  customPolicies?: PolicyDocumentInput[];
}

export type AuthenticationResult =
  | { ok: true; cert: CertificateRecord }
  | { ok: false; reason: 'CERT_NOT_REGISTERED' | 'CERT_NOT_ACTIVE'; cert?: CertificateRecord };

export interface ResolvedPrincipal {
  policies: PolicyDocumentInput[];
  ctx: EvalContext;
}

/**
 * The lab's authorizer over a registry it reads live (status changes and attachments apply at the next packet).
 * Policy semantics are the shared evaluator's (facts §7); resources are ARNs in the registry's region and account.
 */
export class Authorizer {
  /** Reads `registry` on every call; nothing is cached. */
  constructor(private readonly registry: LabRegistry) {}

  /** Is the client certificate registered in the account and ACTIVE? */
  authenticate(der: Buffer): AuthenticationResult {
    const cert = this.registry.findCertificateByDer(der);
    if (!cert) return { ok: false, reason: 'CERT_NOT_REGISTERED' };
    if (cert.status !== 'ACTIVE') return { ok: false, reason: 'CERT_NOT_ACTIVE', cert };
    return { ok: true, cert };
  }

  /**
   * Policies and context for a certificate and an optional client id. Thing variables and thing-group policies
   * apply only when a thing named exactly like the client id is attached to the certificate.
   */
  resolve(
    cert: CertificateRecord,
    clientId: string | undefined,
    opts: { sourceIp?: string; add?: string[]; skip?: string[] } = {},
  ): ResolvedPrincipal {
    const names: string[] = this.registry.listAttachedPolicies(cert.certificateArn).map((p) => p.policyName);
    const ctx: EvalContext = {
      certificateId: cert.certificateId,
      certificateSubject: { ...cert.subject },
      certificateIssuer: { ...cert.issuer },
      extra: { 'iot:Certificate.SerialNumber': cert.serialNumber },
      // The lab plays AWS: it sees the whole request, so an absent key is really absent (IAM's absent-key rules).
      complete: true,
    };
    if (opts.sourceIp) ctx.sourceIp = opts.sourceIp;
    if (clientId !== undefined) {
      ctx.clientId = clientId;
      const thing = this.registry.listPrincipalThings(cert.certificateArn).includes(clientId)
        ? this.registry.getThing(clientId)
        : undefined;
      ctx.isAttached = !!thing;
      if (thing) {
        ctx.thingName = thing.thingName;
        if (thing.thingTypeName) ctx.thingTypeName = thing.thingTypeName;
        ctx.thingAttributes = { ...thing.attributes };
        for (const group of this.registry.listThingGroupsForThing(thing.thingName)) {
          for (const p of this.registry.listAttachedPolicies(group.groupArn)) {
            if (!names.includes(p.policyName)) names.push(p.policyName);
          }
        }
      }
    }
    for (const extra of opts.add ?? []) if (!names.includes(extra)) names.push(extra);
    const skip = new Set(opts.skip ?? []);
    const policies: PolicyDocumentInput[] = [];
    for (const name of names) {
      if (skip.has(name)) continue;
      const p = this.registry.getPolicy(name);
      if (p) policies.push({ policyName: p.policyName, document: p.document });
    }
    return { policies, ctx };
  }

  /** The resource ARN of `kind`/`name` in the lab account (facts §7 resource table). */
  arn(kind: ResourceKind, name: string): string {
    return resourceArn(kind, name, this.registry.region, this.registry.accountId);
  }

  /**
   * Decision for one data-plane action. A certificate that is no longer registered or ACTIVE is denied everything,
   * so a status change also cuts connections that are already open at their next packet.
   */
  check(identity: ConnectionIdentity, action: string, kind: ResourceKind, name: string): Decision {
    if (identity.customPolicies) {
      const ctx: EvalContext = {
        complete: true,
        ...(identity.clientId !== undefined ? { clientId: identity.clientId } : {}),
      };
      if (identity.sourceIp) ctx.sourceIp = identity.sourceIp;
      return evaluate(identity.customPolicies, action, this.arn(kind, name), ctx);
    }
    const cert = this.registry.getCertificate(identity.certificateId);
    if (!cert || cert.status !== 'ACTIVE') {
      return {
        decision: 'IMPLICIT_DENY',
        allowedBy: [],
        deniedBy: [],
        implicitDenyPolicies: [],
        missingContextValues: [],
        matchedStatements: [],
        unsupportedConditionOperators: [],
        undecidableKeys: [],
      };
    }
    const opts: { sourceIp?: string } = {};
    if (identity.sourceIp) opts.sourceIp = identity.sourceIp;
    const { policies, ctx } = this.resolve(cert, identity.clientId, opts);
    return evaluate(policies, action, this.arn(kind, name), ctx);
  }

  /** Whether `check` answers ALLOWED. */
  allowed(identity: ConnectionIdentity, action: string, kind: ResourceKind, name: string): boolean {
    return this.check(identity, action, kind, name).decision === 'ALLOWED';
  }
}
