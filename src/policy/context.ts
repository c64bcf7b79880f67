/**
 * Looking up policy variables and condition keys in the evaluation context (facts §7): `iot:ClientId`,
 * `iot:Connection.Thing.*`, `iot:Certificate.Subject.*` / `.Issuer.*`, `aws:SourceIp` and the rest, case-insensitively.
 */
import type { EvalContext } from './types.js';

type ContextValue = string | string[] | undefined;

export const THING_PREFIX = 'iot:connection.thing.';
const SUBJECT_PREFIX = 'iot:certificate.subject.';
const ISSUER_PREFIX = 'iot:certificate.issuer.';

const CANONICAL_KEYS: Record<string, string> = {
  'iot:clientid': 'iot:ClientId',
  'iot:connection.thing.thingname': 'iot:Connection.Thing.ThingName',
  'iot:connection.thing.thingtypename': 'iot:Connection.Thing.ThingTypeName',
  'iot:connection.thing.isattached': 'iot:Connection.Thing.IsAttached',
  'iot:certificateid': 'iot:CertificateId',
  'iot:certificate.subject.availablekeys': 'iot:Certificate.Subject.AvailableKeys',
  'iot:certificate.issuer.availablekeys': 'iot:Certificate.Issuer.AvailableKeys',
  'aws:sourceip': 'aws:SourceIp',
};

/** The key as reported in missingContextValues: AWS's spelling for known keys, otherwise as written. */
export function canonicalKey(name: string): string {
  const lower = name.toLowerCase();
  const known = CANONICAL_KEYS[lower];
  if (known) return known;
  const attr = /^iot:connection\.thing\.attributes\[(.*)\]$/s.exec(name.toLowerCase());
  if (attr) return `iot:Connection.Thing.Attributes[${name.slice(name.indexOf('[') + 1, -1)}]`;
  if (lower.startsWith(SUBJECT_PREFIX)) return `iot:Certificate.Subject.${name.slice(SUBJECT_PREFIX.length)}`;
  if (lower.startsWith(ISSUER_PREFIX)) return `iot:Certificate.Issuer.${name.slice(ISSUER_PREFIX.length)}`;
  return name;
}

function lookupField(record: Record<string, string> | undefined, field: string): string | undefined {
  if (!record) return undefined;
  if (Object.prototype.hasOwnProperty.call(record, field)) return record[field];
  const lower = field.toLowerCase();
  for (const [k, v] of Object.entries(record)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * The value of a policy variable or condition key in the context (facts §7), by case-insensitive key name (thing
 * attribute names stay case-sensitive): a string, a list (e.g. `iot:Certificate.Subject.AvailableKeys`), or undefined
 * when the context does not have it. Never throws.
 */
export function lookup(ctx: EvalContext, name: string): ContextValue {
  const lower = name.toLowerCase();
  switch (lower) {
    case 'iot:clientid':
      return ctx.clientId;
    case 'iot:connection.thing.thingname':
      return ctx.thingName;
    case 'iot:connection.thing.thingtypename':
      return ctx.thingTypeName;
    case 'iot:connection.thing.isattached': {
      const attached = ctx.isAttached ?? (ctx.thingName !== undefined ? true : undefined);
      return attached === undefined ? undefined : String(attached);
    }
    case 'iot:certificateid':
      return ctx.certificateId;
    case 'iot:certificate.subject.availablekeys':
      return ctx.certificateSubject ? Object.keys(ctx.certificateSubject) : undefined;
    case 'iot:certificate.issuer.availablekeys':
      return ctx.certificateIssuer ? Object.keys(ctx.certificateIssuer) : undefined;
    case 'aws:sourceip':
      return ctx.sourceIp;
    default:
      break;
  }
  if (lower.startsWith(`${THING_PREFIX}attributes[`) && lower.endsWith(']')) {
    const attrName = name.slice(name.indexOf('[') + 1, -1);
    const attrs = ctx.thingAttributes;
    // Attribute names are case-sensitive in AWS IoT.
    return attrs && Object.prototype.hasOwnProperty.call(attrs, attrName) ? attrs[attrName] : undefined;
  }
  if (lower.startsWith(SUBJECT_PREFIX)) {
    const hit = lookupField(ctx.certificateSubject, name.slice(SUBJECT_PREFIX.length));
    if (hit !== undefined) return hit;
  } else if (lower.startsWith(ISSUER_PREFIX)) {
    const hit = lookupField(ctx.certificateIssuer, name.slice(ISSUER_PREFIX.length));
    if (hit !== undefined) return hit;
  }
  if (ctx.extra) {
    if (Object.prototype.hasOwnProperty.call(ctx.extra, name)) return ctx.extra[name];
    for (const [k, v] of Object.entries(ctx.extra)) if (k.toLowerCase() === lower) return v;
  }
  return undefined;
}

/** Keys this tool models in `EvalContext` fields: their absence from a context means absent at AWS too. */
const MODELLED = ['iot:clientid', THING_PREFIX, 'iot:certificateid', 'iot:certificate.', 'aws:sourceip'];

/**
 * True when the absence of `name` from `ctx` is known to be real absence (facts §7: IAM's absent-key rules then
 * apply): the context is complete (the lab), or the key is one the tool models, or `extra` could have held it and the
 * caller said so by giving it. False for keys the tool never receives from the device (`iot:ConnectAttributes`,
 * `iot:LastWillTopic`, `iot:DomainName`, ...): their value at AWS is unknown here. Never throws.
 */
export function absenceIsKnown(ctx: EvalContext, name: string): boolean {
  if (ctx.complete) return true;
  const lower = name.toLowerCase();
  return MODELLED.some((m) => (m.endsWith('.') ? lower.startsWith(m) : lower === m));
}

/** Certificate fields holding one of these are not substituted by AWS IoT (cert-policy-variables, "Limitations"). */
const CERT_WILDCARDS = /[*$+?#]/;
const CERT_VARIABLE = /^iot:certificate\./i;

/**
 * True when AWS IoT leaves `${name}` unsubstituted for this value: a certificate policy variable whose value holds a
 * wildcard character `* $ + ? #` stays in the policy as its literal `${...}` text. Source:
 * https://docs.aws.amazon.com/iot/latest/developerguide/cert-policy-variables.html (limitations).
 */
export function leftUnsubstituted(name: string, value: string): boolean {
  return CERT_VARIABLE.test(name.trim()) && CERT_WILDCARDS.test(value);
}
