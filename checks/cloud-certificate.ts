import type { CheckResult, Evidence } from '../src/model/index.js';
import type { CertificateInfo, CloudSession, IotApi } from '../src/probes/iot-api.js';
import { shq } from '../src/probes/shell.js';
import type { Target } from '../src/target.js';
import { buildResult, type Outcome } from '../src/model/result.js';
import { cloudCheck, iso, CLOUD_COMMON_CODES } from './cloud-check-util.js';
import { awsIot } from './cloud-cli-util.js';
import { failureOutcome } from './cloud-failure-util.js';
import { certificateIdFor } from './cloud-principal-util.js';
import type { CheckContext, DoctorCheck } from './types.js';

const META = { id: 'cloud.certificate', title: 'Device certificate is registered and ACTIVE in AWS IoT' };

/** Every code cloud.certificate and cloud.certificate.ca reports. */
export const CLOUD_CERTIFICATE_CODES = [
  'CERT_REGISTERED_ACTIVE',
  'CERT_NOT_ACTIVE',
  'CERT_EXPIRED_PER_AWS',
  'CERT_NOT_REGISTERED',
  'CA_ACTIVE',
  'CA_NOT_ACTIVE',
  'CA_NOT_IN_ACCOUNT',
  ...CLOUD_COMMON_CODES,
] as const;
const CA_META = { id: 'cloud.certificate.ca', title: "Device certificate's CA is ACTIVE in AWS IoT" };

function activateCommand(target: Target, session: CloudSession, id: string): string {
  return awsIot(target, session, 'update-certificate', [
    ['--certificate-id', id],
    ['--new-status', 'ACTIVE'],
  ]);
}

/** What to do about a certificate that is not ACTIVE, per status. */
function notActiveHint(status: string, target: Target, session: CloudSession, id: string): string {
  const activate = activateCommand(target, session, id);
  switch (status) {
    case 'INACTIVE':
      return `Activate it: ${activate}. AWS IoT refuses any connection with a certificate that is not ACTIVE.`;
    case 'REVOKED':
      return 'A revoked certificate cannot be activated again: create or register a new certificate for the device, attach its policy and thing, and install it on the device.';
    case 'PENDING_TRANSFER':
      return `The certificate is being transferred to another account: accept it there (aws iot accept-certificate-transfer --certificate-id ${id} --set-as-active), or cancel the transfer here (aws iot cancel-certificate-transfer --certificate-id ${id}).`;
    case 'PENDING_ACTIVATION':
      return `It was auto-registered (just-in-time registration) and waits for activation, normally by your registration function: ${activate}.`;
    case 'REGISTER_INACTIVE':
      return `It was registered inactive: ${activate}.`;
    default:
      return `AWS IoT accepts only ACTIVE certificates: ${activate}.`;
  }
}

function registerHint(target: Target, session: CloudSession, id: string, accountId: string | undefined): string {
  const cert = shq(`file://${target.certPath ?? 'device.pem.crt'}`);
  const where = `${accountId ? `account ${accountId}, ` : ''}region ${session.region}`;
  return (
    `AWS IoT knows certificates per account and region. If the device was set up elsewhere, look there (aws iot describe-certificate --certificate-id ${id} --region <other-region>, or with the other account's credentials). ` +
    `To register it in ${where}: aws iot register-certificate --certificate-pem ${cert} --ca-certificate-pem file://<your-ca>.pem --status ACTIVE ` +
    `(or register-certificate-without-ca --certificate-pem ${cert} --status ACTIVE), then attach a policy and a thing.`
  );
}

function describeOutcome(c: CertificateInfo, session: CloudSession, target: Target, now: Date): Outcome {
  const sniOnly = c.certificateMode === 'SNI_ONLY';
  const evidence: Evidence = {
    certificateId: c.certificateId,
    certificateArn: c.certificateArn,
    status: c.status,
    ...(c.certificateMode ? { certificateMode: c.certificateMode, sniRequired: sniOnly } : {}),
    ...(c.caCertificateId ? { caCertificateId: c.caCertificateId } : {}),
    ...(c.ownedBy ? { ownedBy: c.ownedBy } : {}),
    ...(c.creationDate ? { creationDate: iso(c.creationDate) } : {}),
    ...(c.lastModifiedDate ? { lastModifiedDate: iso(c.lastModifiedDate) } : {}),
    ...(c.validity ? { validity: { notBefore: iso(c.validity.notBefore), notAfter: iso(c.validity.notAfter) } } : {}),
    region: session.region,
  };
  const mode = sniOnly
    ? '; certificateMode SNI_ONLY: the device must send SNI (the endpoint name) in its TLS handshake'
    : c.certificateMode
      ? `; certificateMode ${c.certificateMode}`
      : '';
  if (c.status !== 'ACTIVE') {
    return {
      status: 'fail',
      code: 'CERT_NOT_ACTIVE',
      summary: `certificate ${c.certificateId} is registered but ${c.status}: AWS IoT refuses connections with it${mode}`,
      evidence,
      hint: notActiveHint(c.status, target, session, c.certificateId),
    };
  }
  const notAfter = c.validity?.notAfter;
  if (notAfter && notAfter.getTime() < now.getTime()) {
    return {
      status: 'warn',
      code: 'CERT_EXPIRED_PER_AWS',
      summary: `certificate ${c.certificateId} is ACTIVE but expired on ${iso(notAfter)} as AWS IoT records it`,
      evidence,
      hint: 'An expired certificate cannot complete the TLS handshake: issue and register a new certificate for the device.',
    };
  }
  return {
    status: 'pass',
    code: 'CERT_REGISTERED_ACTIVE',
    summary: `certificate ${c.certificateId} is registered and ACTIVE in ${session.region}${mode}`,
    evidence,
    ...(sniOnly
      ? {
          hint: 'This certificate needs SNI: make sure the device TLS stack sends the endpoint name (server_name / host_name).',
        }
      : {}),
  };
}

async function caResult(ctx: CheckContext, api: IotApi, session: CloudSession, caId: string): Promise<CheckResult> {
  const started = performance.now();
  const reproduce = awsIot(ctx.target, session, 'describe-ca-certificate', [['--certificate-id', caId]]);
  const out = await api.describeCACertificate(caId);
  if (!out.ok) {
    if (out.kind === 'not-found') {
      return buildResult(CA_META, started, {
        status: 'skip',
        code: 'CA_NOT_IN_ACCOUNT',
        summary: `CA ${caId} is not registered in this account and region (multi-account registration or another account's CA)`,
        evidence: { caCertificateId: caId, region: session.region },
        reproduce,
      });
    }
    return buildResult(CA_META, started, failureOutcome(out, "the CA certificate's status", reproduce, ctx.target));
  }
  const ca = out.value;
  const evidence: Evidence = {
    caCertificateId: caId,
    status: ca.status,
    ...(ca.autoRegistrationStatus ? { autoRegistrationStatus: ca.autoRegistrationStatus } : {}),
    ...(ca.certificateMode ? { certificateMode: ca.certificateMode } : {}),
    ...(ca.validity
      ? { validity: { notBefore: iso(ca.validity.notBefore), notAfter: iso(ca.validity.notAfter) } }
      : {}),
  };
  if (ca.status !== 'ACTIVE') {
    return buildResult(CA_META, started, {
      status: 'warn',
      code: 'CA_NOT_ACTIVE',
      summary: `the CA that issued the certificate (${caId}) is ${ca.status}: certificates already registered under it keep working; only new registrations (auto-registration, JITR) are blocked`,
      evidence,
      hint: `If devices must still be registered under this CA: aws iot update-ca-certificate --certificate-id ${caId} --new-status ACTIVE.`,
      reproduce,
    });
  }
  return buildResult(CA_META, started, {
    status: 'pass',
    code: 'CA_ACTIVE',
    summary: `the issuing CA ${caId} is ACTIVE`,
    evidence,
    reproduce,
  });
}

/**
 * cloud.certificate: DescribeCertificate(SHA-256 of the DER). Registered and ACTIVE, not registered in this account
 * and region, or in another status; plus `cloud.certificate.ca` when AWS links the certificate to a registered CA.
 */
export const cloudCertificateCheck: DoctorCheck = cloudCheck(META, async (ctx, started, c) => {
  const cid = certificateIdFor(ctx);
  if (!cid.ok) return [buildResult(META, started, cid.outcome)];
  const { api, session } = c;
  const reproduce = awsIot(ctx.target, session, 'describe-certificate', [['--certificate-id', cid.id]]);
  const out = await api.describeCertificate(cid.id);
  if (!out.ok) {
    if (out.kind === 'not-found') {
      const accountId = api.knownAccountId(session);
      return [
        buildResult(META, started, {
          status: 'fail',
          code: 'CERT_NOT_REGISTERED',
          summary: `certificate ${cid.id} is not registered in ${accountId ? `account ${accountId}, ` : 'this account, '}region ${session.region}`,
          evidence: { certificateId: cid.id, region: session.region, ...(accountId ? { accountId } : {}) },
          hint: registerHint(ctx.target, session, cid.id, accountId),
          reproduce,
        }),
      ];
    }
    return [buildResult(META, started, failureOutcome(out, 'the certificate status', reproduce, ctx.target))];
  }
  const outcome = describeOutcome(out.value, session, ctx.target, ctx.now());
  const main = buildResult(META, started, {
    ...outcome,
    evidence: {
      ...outcome.evidence,
      ...(out.attempts > 1 ? { apiAttempts: { DescribeCertificate: out.attempts } } : {}),
    },
    reproduce,
  });
  const caId = out.value.caCertificateId;
  return caId ? [main, await caResult(ctx, api, session, caId)] : [main];
});
