/**
 * MQTT over WebSocket with SigV4 (`mqtt-wss-443`, field notes §4). AWS answers every refused upgrade with the same 403
 * (field notes §4.2), so the cause comes from what the probe knows: the server's `date` against the signature's
 * `X-Amz-Date` (more than 5 minutes apart: SIGV4_CLOCK_SKEW), the signing region against the endpoint's
 * (SIGV4_REGION_MISMATCH); a CONNECT closed right after a successful upgrade is the field's shape of an identity
 * without iot:Connect (SIGV4_DENIED, likely). With AWS credentials, cloud.wss-identity asks IAM (STS
 * GetCallerIdentity, then SimulatePrincipalPolicy of iot:Connect on the client id): a deny makes SIGV4_DENIED certain
 * (for a 403 upgrade too), citing the identity and the decision; an allow leaves a 403 as WSS_UPGRADE_FORBIDDEN with
 * the identity ruled out; not being allowed to ask names the missing permission. A 403 none of them explains is
 * WSS_UPGRADE_FORBIDDEN, with its candidates.
 */
import { routeKindOf, type CheckResult, type Finding } from '../model/index.js';
import { finding, ids, isCode, num, str, type Facts } from './facts.js';

/** SigV4's clock tolerance: 5 minutes (facts §9 row 4). */
const TOLERANCE_S = 300;

function wssCells(facts: Facts, stage: string): CheckResult[] {
  return facts.results.filter((r) => r.route && routeKindOf(r.route) === 'mqtt-wss-443' && r.stage === stage);
}

function clockSkew(cell: CheckResult): Finding | undefined {
  const offset = num(cell.evidence['clockOffsetSeconds']);
  if (offset === undefined || Math.abs(offset) <= TOLERANCE_S) return undefined;
  const ahead = offset > 0 ? 'behind' : 'ahead of';
  return finding('SIGV4_CLOCK_SKEW', {
    severity: 'error',
    confidence: 'certain',
    title: `This clock is ${Math.abs(offset)} s ${ahead} AWS's: the SigV4 signature is refused`,
    explanation:
      `The WebSocket upgrade was refused with 403; the signature says X-Amz-Date ${str(cell.evidence['amzDate'])}, the ` +
      `server's date is ${str(cell.evidence['serverDate'])}: ${Math.abs(offset)} s apart, more than the 5 minutes SigV4 ` +
      'allows. Every request signed by this device fails until its clock is right.',
    remediation: ['Set the clock: enable NTP/SNTP (UDP 123), or wait for time sync before connecting.'],
    params: { clockOffsetSeconds: offset },
    evidence: ids([cell]),
  });
}

function regionMismatch(cell: CheckResult): Finding | undefined {
  const signing = str(cell.evidence['signingRegion']);
  const endpoint = str(cell.evidence['endpointRegion']);
  if (!signing || !endpoint || signing === endpoint) return undefined;
  return finding('SIGV4_REGION_MISMATCH', {
    severity: 'error',
    confidence: 'certain',
    title: `The WebSocket URL is signed for ${signing}, the endpoint is in ${endpoint}`,
    explanation:
      `The credential scope of the SigV4 signature names ${signing} (from ${str(cell.evidence['signingRegionFrom']) ?? '?'}), ` +
      `but the endpoint lives in ${endpoint}: AWS refuses the upgrade with 403.`,
    remediation: [
      `Sign with the endpoint's region: set AWS_REGION=${endpoint} (or --region ${endpoint}) on the device.`,
    ],
    params: { signingRegion: signing, endpointRegion: endpoint },
    evidence: ids([cell]),
  });
}

/** What cloud.wss-identity learned from IAM (STS GetCallerIdentity, SimulatePrincipalPolicy), if it asked. */
interface IamAnswer {
  cell: CheckResult;
  /** `denied` / `allowed` by the simulator, or `unknown` (not asked, not allowed to ask, no answer). */
  verdict: 'denied' | 'allowed' | 'unknown';
  source?: string;
  resource?: string;
  decision?: string;
  /** The IAM permission the caller lacks to ask (iam:SimulatePrincipalPolicy), when that is why it could not. */
  missing?: string;
}

function iamAnswer(facts: Facts): IamAnswer | undefined {
  const cell = facts.results.find((r) => r.id === 'cloud.wss-identity');
  if (!cell) return undefined;
  const e = cell.evidence;
  const verdict = isCode(cell, 'IAM_DENIES_CONNECT')
    ? 'denied'
    : isCode(cell, 'IAM_ALLOWS_CONNECT')
      ? 'allowed'
      : 'unknown';
  const out: IamAnswer = { cell, verdict };
  const source = str(e['policySourceArn']) ?? str(e['callerArn']);
  if (source) out.source = source;
  if (str(e['resource'])) out.resource = str(e['resource'])!;
  if (str(e['decision'])) out.decision = str(e['decision'])!;
  if (isCode(cell, 'IAM_ACCESS_DENIED') && str(e['permission'])) out.missing = str(e['permission'])!;
  return out;
}

const ALLOW_CONNECT =
  'Allow iot:Connect on arn:aws:iot:<region>:<account>:client/<client id> in the IAM policy of the identity.';

/** SIGV4_DENIED: certain when the IAM policy simulator denies iot:Connect, else likely (a refused CONNECT). */
function denied(cells: CheckResult[], iam: IamAnswer | undefined): Finding {
  const proven = iam?.verdict === 'denied';
  const asked = proven
    ? ` IAM's policy simulator confirms it: ${iam.source ?? 'the identity'} gets ${iam.decision ?? 'a deny'} for ` +
      `iot:Connect on ${iam.resource ?? 'the client id'}.`
    : iam?.missing
      ? ` Whether IAM allows it was not asked: these credentials may not call ${iam.missing}.`
      : '';
  const seen = cells.some((c) => c.stage === 'upgrade')
    ? 'The WebSocket upgrade was refused with 403 although the clock and the signing region are right.'
    : 'The signature was accepted (101), then the connection was closed after CONNECT: what the field sees when the ' +
      "IAM identity's policy lacks iot:Connect on the client id (field notes §4.2).";
  return finding('SIGV4_DENIED', {
    severity: 'error',
    confidence: proven ? 'certain' : 'likely',
    title: 'The IAM identity that signs may not iot:Connect with this client id',
    explanation: seen + asked,
    remediation: [
      proven && iam.resource && iam.source
        ? `Allow iot:Connect on ${iam.resource} in a policy of ${iam.source}.`
        : ALLOW_CONNECT,
      ...(iam?.missing ? [`To let iot-doctor ask IAM, allow ${iam.missing} for the identity that runs it.`] : []),
    ],
    params: {
      routes: cells.map((c) => c.route),
      ...(iam?.source ? { identity: iam.source } : {}),
      ...(iam?.decision ? { decision: iam.decision } : {}),
    },
    evidence: ids(proven ? [...cells, iam.cell] : cells),
  });
}

function forbidden(cell: CheckResult, iam: IamAnswer | undefined): Finding {
  const allowed = iam?.verdict === 'allowed';
  return finding('WSS_UPGRADE_FORBIDDEN', {
    severity: 'error',
    confidence: 'possible',
    title: 'AWS refuses the WebSocket upgrade (403); the cause is not determined',
    explanation: allowed
      ? 'AWS answers every refused upgrade with the same 403. The clock and the region are right, and IAM allows ' +
        `${iam.source ?? 'the identity'} iot:Connect on ${iam.resource ?? 'the client id'}: the signature itself is ` +
        'left (a secret key that does not belong to the key id, an expired or missing session token), or a policy ' +
        'the simulator does not see (a session policy, a service control policy).'
      : 'AWS answers every refused upgrade with the same 403. The clock and the region are right, so the IAM identity ' +
        'that signs (its iot:Connect permission) or the signature itself is left.' +
        (iam?.missing ? ` IAM was not asked: these credentials may not call ${iam.missing}.` : ''),
    remediation: allowed
      ? [
          'Check the credentials the device signs with: aws sts get-caller-identity with the same key id and secret.',
          'Temporary credentials: check that the session token is current and sent as X-Amz-Security-Token.',
        ]
      : [
          'Check the identity with aws sts get-caller-identity and aws iam simulate-principal-policy --action-names iot:Connect.',
        ],
    params: allowed ? { identity: iam.source ?? null, decision: 'allowed' } : {},
    evidence: ids(allowed ? [cell, iam.cell] : [cell]),
    candidates: [
      ...(allowed
        ? []
        : [
            {
              code: 'SIGV4_DENIED',
              title: 'The identity may not iot:Connect',
              decidedBy: iam?.missing
                ? `${iam.missing} (not allowed to these credentials)`
                : 'aws iam simulate-principal-policy',
            },
          ]),
      { code: 'SIGV4_CLOCK_SKEW', title: 'The device clock is off', decidedBy: 'the upgrade cell (date)' },
    ],
  });
}

/** The SigV4 WebSocket findings (see the file comment). */
export function wssFindings(facts: Facts): Finding[] {
  const out: Finding[] = [];
  const iam = iamAnswer(facts);
  for (const cell of wssCells(facts, 'upgrade').filter((c) => isCode(c, 'UPGRADE_FORBIDDEN'))) {
    const other = clockSkew(cell) ?? regionMismatch(cell);
    out.push(other ?? (iam?.verdict === 'denied' ? denied([cell], iam) : forbidden(cell, iam)));
  }
  const refusedConnect = wssCells(facts, 'protocol').filter((c) => isCode(c, 'WSS_CONNECT_REFUSED'));
  if (refusedConnect.length) out.push(denied(refusedConnect, iam));
  return out;
}
