import type { Evidence } from '../src/model/index.js';
import { buildResult, type Outcome } from '../src/model/result.js';
import type { CloudSession } from '../src/probes/iot-api.js';
import { principalCheck, CLOUD_COMMON_CODES } from './cloud-check-util.js';
import { awsIot } from './cloud-cli-util.js';
import { probeClientIds } from './cloud-context-util.js';
import { failureOutcome } from './cloud-failure-util.js';
import { inventoryFor, type Inventory } from './cloud-inventory-util.js';
import type { Principal } from './cloud-principal-util.js';
import type { CheckContext, DoctorCheck } from './types.js';

const META = { id: 'cloud.policy-attached', title: 'An AWS IoT policy reaches the certificate' };

/** Every code cloud.policy-attached reports. */
export const CLOUD_POLICY_ATTACHED_CODES = [
  'POLICY_ATTACHED',
  'POLICY_ONLY_VIA_THING_GROUP',
  'NO_POLICY_ATTACHED',
  ...CLOUD_COMMON_CODES,
] as const;

/** No policy reaches the certificate: NO_POLICY_ATTACHED, or the API failure when thing-group policies are unknown. */
function noPolicyOutcome(
  ctx: CheckContext,
  session: CloudSession,
  principal: Principal,
  inv: Inventory,
  evidence: Evidence,
  reproduce: string,
): Outcome {
  const things = inv.things;
  // Thing-group policies may exist but be unreadable: do not claim "none" then.
  const groupsUnknown = inv.groupFailures.length > 0 || inv.thingsFailure !== undefined;
  if (groupsUnknown) {
    const failure = inv.groupFailures[0] ?? inv.thingsFailure!;
    const out = failureOutcome(
      failure,
      'whether thing-group policies reach the certificate (none is attached to it directly)',
      reproduce,
      ctx.target,
    );
    return { ...out, evidence: { ...evidence, ...out.evidence } };
  }
  const attach = awsIot(ctx.target, session, 'attach-policy', [
    '--policy-name',
    '<policy-name>',
    ['--target', principal.certArn],
  ]);
  return {
    status: 'fail',
    code: 'NO_POLICY_ATTACHED',
    summary: `no policy is attached to certificate ${principal.certificateId}${things?.length ? ' or to the groups of its things' : ''}: AWS IoT denies every action`,
    evidence: { ...evidence, attachCommand: attach },
    hint: `Attach a policy that allows iot:Connect, iot:Publish, iot:Subscribe and iot:Receive for the device: ${attach} (aws iot list-policies shows the account's policies).`,
    reproduce,
  };
}

/**
 * cloud.policy-attached: ListAttachedPolicies on the certificate (every page), plus the policies its things' groups
 * bring (GetEffectivePolicies with the thing name). Thing-group policies apply only when the client id equals the
 * thing name.
 */
export const cloudPolicyAttachedCheck: DoctorCheck = principalCheck(
  META,
  async (ctx, started, { api, session }, principal) => {
    const listCmd = awsIot(ctx.target, session, 'list-attached-policies', [['--target', principal.certArn]]);
    const inv = await inventoryFor(ctx, api, session, principal);
    if (!inv.ok) return [buildResult(META, started, inv.outcome)];
    const { direct, viaGroups, things } = inv.value;
    const firstThing = things?.[0];
    const reproduce = firstThing
      ? `${listCmd}\n${awsIot(ctx.target, session, 'get-effective-policies', [
          ['--principal', principal.certArn],
          ['--thing-name', firstThing],
        ])}`
      : listCmd;

    const policies = [
      ...direct.map((d) => ({ policyName: d.policyName, from: 'certificate' })),
      ...viaGroups.map((g) => ({
        policyName: g.policyName,
        from: g.group ? `thing-group:${g.group}` : 'thing-group',
        thingName: g.thingName,
      })),
    ];
    const attempts: Record<string, number> = { ...inv.value.attempts };
    const evidence: Evidence = {
      certificateArn: principal.certArn,
      policies,
      ...(things ? { things } : {}),
      ...(inv.value.thingsFailure
        ? { thingsUnknown: `${inv.value.thingsFailure.permission}: ${inv.value.thingsFailure.errorName}` }
        : {}),
      ...(inv.value.groupFailures.length
        ? { thingGroupPoliciesUnknown: inv.value.groupFailures.map((f) => `${f.permission}: ${f.errorName}`) }
        : {}),
    };
    if (Object.keys(attempts).length) evidence['apiAttempts'] = attempts;

    if (policies.length === 0) {
      return [buildResult(META, started, noPolicyOutcome(ctx, session, principal, inv.value, evidence, reproduce))];
    }

    const names = (list: { policyName: string; from: string }[]): string =>
      list.map((x) => `${x.policyName} (${x.from})`).join(', ');
    if (direct.length === 0) {
      const ids = probeClientIds(ctx.target);
      const groupThings = [...new Set(viaGroups.map((g) => g.thingName))];
      if (!ids.some((id) => groupThings.includes(id))) {
        return [
          buildResult(META, started, {
            status: 'warn',
            code: 'POLICY_ONLY_VIA_THING_GROUP',
            summary: `only thing-group policies reach the certificate: ${names(policies)}; they apply only when the client id is the thing name (${groupThings.join(', ')}), not with ${ids.join(', ')}`,
            evidence: { ...evidence, clientIds: ids },
            hint: `Connect with the thing name as client id (--client-id ${groupThings[0]}), or attach a policy to the certificate itself.`,
            reproduce,
          }),
        ];
      }
    }
    return [
      buildResult(META, started, {
        status: 'pass',
        code: 'POLICY_ATTACHED',
        summary: `${policies.length} ${policies.length === 1 ? 'policy reaches' : 'policies reach'} the certificate: ${names(policies)}`,
        evidence,
        reproduce,
      }),
    ];
  },
);
