/**
 * `cloud.wss-identity`: when the `mqtt-wss-443` route was refused (the upgrade with 403, or the CONNECT closed after
 * it), ask IAM whether the identity that signed may `iot:Connect` with the route's client id: STS GetCallerIdentity
 * (who signs), then IAM SimulatePrincipalPolicy of `iot:Connect` on `arn:aws:iot:<region>:<account>:client/<clientId>`
 * (field notes §4.1: the signing identity needs `iot:Connect` on `client/<clientId>`; facts §7 resource forms). An
 * assumed-role session is simulated as its role (src/probes/iot-api/iam.ts, with the AWS pages it rests on).
 * AWS answers every refused upgrade with the same 403 (field notes §4.2), so this answer is what tells a denied
 * identity from a wrong clock, region or signature. Nothing is asked when the route was not refused.
 */
import { ROUTES, routeCheckId, routeKindOf, type CheckResult, type Evidence } from '../src/model/index.js';
import { buildResult, type Outcome } from '../src/model/result.js';
import { resourceArn } from '../src/policy/index.js';
import { policySourceArn, type CallerIdentity, type IotApi } from '../src/probes/iot-api.js';
import { shq } from '../src/probes/shell.js';
import { CLOUD_COMMON_CODES, startCloud, withinBudget } from './cloud-check-util.js';
import { failureOutcome } from './cloud-failure-util.js';
import { familyOf } from './family-util.js';
import { routeClientId } from './route-identity.js';
import type { CheckContext, DoctorCheck } from './types.js';

const META = {
  id: 'cloud.wss-identity',
  title: 'The IAM identity that signs the WebSocket URL may iot:Connect with its client id',
};

/** Every code cloud.wss-identity reports. */
export const CLOUD_WSS_IDENTITY_CODES = [
  'IAM_ALLOWS_CONNECT',
  'IAM_DENIES_CONNECT',
  'IAM_NOT_ASKED',
  'IAM_CALLER_NOT_SIMULATABLE',
  ...CLOUD_COMMON_CODES,
] as const;

const WSS = 'mqtt-wss-443';

/** The cells of the WebSocket route that a denied identity can explain: a 403 upgrade, a refused CONNECT. */
function refusedCells(deps: ReadonlyMap<string, readonly CheckResult[]>): CheckResult[] {
  return [...deps.values()]
    .flat()
    .filter(
      (r) =>
        r.route &&
        routeKindOf(r.route) === WSS &&
        ((r.stage === 'upgrade' && r.code === 'UPGRADE_FORBIDDEN') ||
          (r.stage === 'protocol' && r.code === 'WSS_CONNECT_REFUSED')),
    );
}

/**
 * With the AWS IoT API endpoint overridden (the lab, a VPC endpoint) but neither STS's nor IAM's, the answers would
 * come from the public endpoints of what may be another environment: not asked, with the variables to set.
 */
function endpointMismatch(iotEndpoint: string | undefined): Outcome | undefined {
  if (!iotEndpoint || process.env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'] === 'true') return undefined;
  const env = process.env;
  if (env['AWS_ENDPOINT_URL'] || (env['AWS_ENDPOINT_URL_STS'] && env['AWS_ENDPOINT_URL_IAM'])) return undefined;
  return {
    status: 'skip',
    code: 'IAM_NOT_ASKED',
    summary: `not asked: the AWS IoT API endpoint is overridden (${iotEndpoint}) but STS's and IAM's are not`,
    evidence: { apiEndpoint: iotEndpoint },
    hint: 'Set AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL_IAM to the endpoints that belong with it.',
  };
}

function simulateCommand(ctx: CheckContext, source: string, resource: string): string {
  const profile = ctx.target.awsProfile ? ` --profile ${shq(ctx.target.awsProfile)}` : '';
  return (
    `aws iam simulate-principal-policy --policy-source-arn ${shq(source)} --action-names iot:Connect ` +
    `--resource-arns ${shq(resource)}${profile}`
  );
}

/** The verdict once the simulator answered (allowed, or an explicit / implicit deny). */
function verdict(evidence: Evidence, decision: string, source: string, reproduce: string): Outcome {
  if (decision === 'allowed') {
    return {
      status: 'pass',
      code: 'IAM_ALLOWS_CONNECT',
      summary: `IAM allows ${source} iot:Connect on ${String(evidence['resource'])}: the refusal has another cause`,
      evidence,
      reproduce,
    };
  }
  return {
    status: 'fail',
    code: 'IAM_DENIES_CONNECT',
    summary: `IAM denies ${source} iot:Connect on ${String(evidence['resource'])} (${decision})`,
    evidence,
    reproduce,
    hint: `Allow iot:Connect on ${String(evidence['resource'])} in a policy of ${source}.`,
  };
}

async function ask(ctx: CheckContext, api: IotApi, region: string, cells: CheckResult[]): Promise<Outcome> {
  const caller = await api.callerIdentity();
  if (!caller.ok)
    return failureOutcome(caller, 'who signs (GetCallerIdentity)', 'aws sts get-caller-identity', ctx.target);
  const who: CallerIdentity = caller.value;
  const source = policySourceArn(who.arn);
  const connectCell = cells.find((c) => c.stage === 'protocol');
  const clientId = String(connectCell?.evidence['clientId'] ?? routeClientId(ctx.target, ROUTES[WSS]!));
  const partition = /^arn:(aws[\w-]*):/.exec(who.arn)?.[1] ?? 'aws';
  const resource = resourceArn('client', clientId, region, who.account, partition);
  const evidence: Evidence = {
    callerArn: who.arn,
    account: who.account,
    clientId,
    resource,
    refused: cells.map((c) => c.id),
  };
  if (!source) {
    return {
      status: 'warn',
      code: 'IAM_CALLER_NOT_SIMULATABLE',
      summary: `${who.arn} is not a user or role the IAM policy simulator can take`,
      evidence,
      hint: 'Simulate the user or role the credentials belong to (aws iam simulate-principal-policy) by hand.',
    };
  }
  const reproduce = simulateCommand(ctx, source, resource);
  const sim = await api.simulate({ sourceArn: source, action: 'iot:Connect', resource });
  const withSource = { ...evidence, policySourceArn: source };
  if (!sim.ok) {
    const outcome = failureOutcome(sim, `whether ${source} may iot:Connect`, reproduce, ctx.target);
    return { ...outcome, evidence: { ...outcome.evidence, ...withSource } };
  }
  const decided: Evidence = {
    ...withSource,
    action: 'iot:Connect',
    decision: sim.value.decision,
    matchedPolicies: sim.value.matchedPolicies,
    ...(sim.value.missingContextValues.length ? { missingContextValues: sim.value.missingContextValues } : {}),
  };
  return verdict(decided, sim.value.decision, source, reproduce);
}

/** cloud.wss-identity (see the file comment); needs the `mqtt-wss-443` route's cells. */
export const cloudWssIdentityCheck: DoctorCheck = {
  ...META,
  family: familyOf(META.id),
  needs: [routeCheckId(WSS)],
  run(ctx, deps) {
    const started = performance.now();
    const cells = refusedCells(deps);
    if (!cells.length) {
      const outcome: Outcome = {
        status: 'skip',
        code: 'IAM_NOT_ASKED',
        summary: 'not asked: the WebSocket route was not refused',
        evidence: {},
      };
      return Promise.resolve([buildResult(META, started, outcome)]);
    }
    return withinBudget(ctx, [META], started, async () => {
      const c = await startCloud(ctx);
      if (!c.ok) return [buildResult(META, started, c.outcome)];
      const unsafe = endpointMismatch(c.session.endpointUrl);
      if (unsafe) return [buildResult(META, started, unsafe)];
      return [buildResult(META, started, await ask(ctx, c.api, c.session.region, cells))];
    });
  },
};
