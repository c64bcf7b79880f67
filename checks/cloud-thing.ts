import type { Evidence } from '../src/model/index.js';
import { policyUsesThingVariables, policyVariables } from '../src/policy/index.js';
import { buildResult } from '../src/model/result.js';
import type { CloudSession } from '../src/probes/iot-api.js';
import { principalCheck, CLOUD_COMMON_CODES } from './cloud-check-util.js';
import { awsIot } from './cloud-cli-util.js';
import { probeClientIds } from './cloud-context-util.js';
import { failureOutcome } from './cloud-failure-util.js';
import { directDocuments, inventoryFor } from './cloud-inventory-util.js';
import type { Principal } from './cloud-principal-util.js';
import type { CheckContext, DoctorCheck } from './types.js';

const META = { id: 'cloud.thing', title: 'Certificate is attached to the thing its policy expects' };

/** Every code cloud.thing reports. */
export const CLOUD_THING_CODES = [
  'THING_OK',
  'NO_THING_NEEDED',
  'THING_NOT_ATTACHED_FOR_POLICY',
  ...CLOUD_COMMON_CODES,
] as const;

/** What to do when the certificate is not attached to the thing the client id names. */
function attachHint(
  ctx: CheckContext,
  session: CloudSession,
  principal: Principal,
  things: readonly string[],
  missing: readonly string[],
): string {
  return things.length
    ? `The client id must be the thing name: connect as ${things.length === 1 ? things[0] : `one of ${things.join(', ')}`} (--client-id ${things[0]}).` +
        (ctx.target.clientIdFromUser
          ? ''
          : ' The probe used its own client id; the device itself may work with its thing name.')
    : `Attach the certificate to a thing named like the client id: aws iot create-thing --thing-name ${missing[0]} and ${awsIot(
        ctx.target,
        session,
        'attach-thing-principal',
        [
          ['--thing-name', missing[0]!],
          ['--principal', principal.certArn],
        ],
      )}.`;
}

/**
 * cloud.thing: ListPrincipalThings. A policy attached to the certificate that uses `${iot:Connection.Thing.*}`
 * (or the iot:Connection.Thing.IsAttached condition) only matches when the certificate is attached to a thing named
 * exactly like the client id. Thing-group policies are not considered: they apply only in that case anyway.
 */
export const cloudThingCheck: DoctorCheck = principalCheck(META, async (ctx, started, { api, session }, principal) => {
  const reproduce = awsIot(ctx.target, session, 'list-principal-things', [['--principal', principal.certArn]]);
  const inv = await inventoryFor(ctx, api, session, principal);
  if (!inv.ok) return [buildResult(META, started, inv.outcome)];
  const { things, thingsFailure } = inv.value;
  if (!things)
    return [
      buildResult(
        META,
        started,
        failureOutcome(thingsFailure!, 'the things attached to the certificate', reproduce, ctx.target),
      ),
    ];

  const docs = await directDocuments(api, principal, inv.value);
  if (!docs.ok) {
    const out = failureOutcome(docs.failure, 'whether the policies use thing variables', reproduce, ctx.target);
    return [buildResult(META, started, { ...out, evidence: { ...out.evidence, things } })];
  }
  const usingThing = docs.docs.filter((d) => {
    try {
      return policyUsesThingVariables(d.policyDocument);
    } catch {
      return false;
    }
  });
  const clientIds = probeClientIds(ctx.target);
  const evidence: Evidence = { certificateArn: principal.certArn, things, clientIds };
  if (usingThing.length === 0) {
    return [
      buildResult(META, started, {
        status: 'pass',
        code: 'NO_THING_NEEDED',
        summary: `no policy on the certificate uses thing variables${things.length ? `; attached thing${things.length === 1 ? '' : 's'}: ${things.join(', ')}` : ''}`,
        evidence,
        reproduce,
      }),
    ];
  }
  const variables = [
    ...new Set(
      usingThing.flatMap((d) => safeVariables(d.policyDocument)).filter((v) => /^iot:Connection\.Thing\./i.test(v)),
    ),
  ];
  const policyNames = usingThing.map((d) => d.policyName);
  const missing = clientIds.filter((id) => !things.includes(id));
  const full: Evidence = { ...evidence, policies: policyNames, variables };
  if (missing.length === 0) {
    return [
      buildResult(META, started, {
        status: 'pass',
        code: 'THING_OK',
        summary: `${policyNames.join(', ')} use${policyNames.length === 1 ? 's' : ''} thing variables and the certificate is attached to thing ${clientIds.join(', ')} (the client id)`,
        evidence: full,
        reproduce,
      }),
    ];
  }
  const hint = attachHint(ctx, session, principal, things, missing);
  return [
    buildResult(META, started, {
      status: 'fail',
      code: 'THING_NOT_ATTACHED_FOR_POLICY',
      summary:
        `${policyNames.join(', ')} use${policyNames.length === 1 ? 's' : ''} ${variables.join(', ') || 'thing variables'}, but the certificate is not attached to a thing named ${missing.join(' / ')} (the client id used); ` +
        (things.length ? `attached: ${things.join(', ')}` : 'no thing is attached'),
      evidence: full,
      hint,
      reproduce,
    }),
  ];
});

function safeVariables(doc: string): string[] {
  try {
    return policyVariables(doc);
  } catch {
    return [];
  }
}
