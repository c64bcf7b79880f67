/**
 * MQTT over WebSocket with SigV4 (`mqtt-wss-443`, field notes §4). AWS answers every refused upgrade with the same 403
 * (field notes §4.2), so the cause comes from what the probe knows: the server's `date` against the signature's
 * `X-Amz-Date` (more than 5 minutes apart: SIGV4_CLOCK_SKEW), the signing region against the endpoint's
 * (SIGV4_REGION_MISMATCH); a CONNECT closed right after a successful upgrade is the field's shape of an identity
 * without iot:Connect (SIGV4_DENIED, likely). A 403 none of them explains is WSS_UPGRADE_FORBIDDEN, with its
 * candidates. Asking IAM (STS GetCallerIdentity, SimulatePrincipalPolicy) is not done yet.
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

function denied(cells: CheckResult[]): Finding {
  return finding('SIGV4_DENIED', {
    severity: 'error',
    confidence: 'likely',
    title: 'The IAM identity that signs may not iot:Connect with this client id',
    explanation:
      'The signature was accepted (101), then the connection was closed after CONNECT: what the field sees when the ' +
      "IAM identity's policy lacks iot:Connect on the client id (field notes §4.2).",
    remediation: [
      'Allow iot:Connect on arn:aws:iot:<region>:<account>:client/<client id> in the IAM policy of the identity.',
    ],
    params: { routes: cells.map((c) => c.route) },
    evidence: ids(cells),
  });
}

function forbidden(cell: CheckResult): Finding {
  return finding('WSS_UPGRADE_FORBIDDEN', {
    severity: 'error',
    confidence: 'possible',
    title: 'AWS refuses the WebSocket upgrade (403); the cause is not determined',
    explanation:
      'AWS answers every refused upgrade with the same 403. The clock and the region are right, so the IAM identity ' +
      'that signs (its iot:Connect permission) or the signature itself is left.',
    remediation: [
      'Check the identity with aws sts get-caller-identity and aws iam simulate-principal-policy --action-names iot:Connect.',
    ],
    params: {},
    evidence: ids([cell]),
    candidates: [
      {
        code: 'SIGV4_DENIED',
        title: 'The identity may not iot:Connect',
        decidedBy: 'aws iam simulate-principal-policy',
      },
      { code: 'SIGV4_CLOCK_SKEW', title: 'The device clock is off', decidedBy: 'the upgrade cell (date)' },
    ],
  });
}

/** The SigV4 WebSocket findings (see the file comment). */
export function wssFindings(facts: Facts): Finding[] {
  const out: Finding[] = [];
  for (const cell of wssCells(facts, 'upgrade').filter((c) => isCode(c, 'UPGRADE_FORBIDDEN'))) {
    out.push(clockSkew(cell) ?? regionMismatch(cell) ?? forbidden(cell));
  }
  const refusedConnect = wssCells(facts, 'protocol').filter((c) => isCode(c, 'WSS_CONNECT_REFUSED'));
  if (refusedConnect.length) out.push(denied(refusedConnect));
  return out;
}
