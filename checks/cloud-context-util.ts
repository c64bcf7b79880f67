/**
 * The probe's identity as the policy evaluator sees it: the client ids the MQTT routes use and the certificate's
 * policy variables (iot:Certificate.*).
 */
import { X509Certificate } from 'node:crypto';
import { routeSpecOf } from '../src/model/index.js';
import { certificateNameFields, type EvalContext } from '../src/policy/index.js';
import type { Target } from '../src/target.js';
import type { Principal } from './cloud-principal-util.js';
import { routeClientId } from './route-protocol.js';
import type { CheckContext } from './types.js';

/** The client ids the MQTT routes of this run really use (deduped); the Target's id when no MQTT route is selected. */
export function probeClientIds(target: Target): string[] {
  const ids = target.routes
    .filter((r) => routeSpecOf(r)?.protocol === 'mqtt')
    .map((r) => routeClientId(target, routeSpecOf(r)!));
  const unique = [...new Set(ids)];
  return unique.length > 0 ? unique : [target.clientId];
}

/** Certificate part of the policy context, from the local file or from the PEM AWS returned. */
export function certificateContext(ctx: CheckContext, principal: Principal): EvalContext {
  const out: EvalContext = { certificateId: principal.certificateId };
  let leaf: X509Certificate | undefined = ctx.credentials.cert?.leaf;
  if (!leaf && principal.certificate?.certificatePem) {
    try {
      leaf = new X509Certificate(principal.certificate.certificatePem);
    } catch {
      leaf = undefined;
    }
  }
  if (leaf) {
    out.certificateSubject = certificateNameFields(leaf.subject);
    out.certificateIssuer = certificateNameFields(leaf.issuer);
    out.extra = { 'iot:Certificate.SerialNumber': leaf.serialNumber };
  }
  return out;
}
