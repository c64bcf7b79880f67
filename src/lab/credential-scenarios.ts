/**
 * Lab scenarios of the credential provider (field notes §6): a healthy account plus a role alias, a role and a
 * policy granting `iot:AssumeRoleWithCertificate`, with one link of field notes §6.2 broken per scenario, so that
 * each answer of the error table (§6.3) comes from a real cause.
 */
import { roleAliasesOf } from './credential-provider.js';
import type { LabPki } from './lab-pki.js';
import type { LabRegistry } from './registry.js';
import type { ScenarioBehaviour, ScenarioDefinition } from './scenarios.js';

/** The role alias, role and policy of the credential-provider scenarios. */
export const LAB_ROLE_ALIAS = 'lab-device-role-alias';
/** The IAM role name behind `LAB_ROLE_ALIAS`. */
export const LAB_ROLE_NAME = 'lab-device-role';
const POLICY = 'lab-credentials-policy';

type Seed = (registry: LabRegistry, pki: LabPki) => void;
interface Fault {
  policy?: boolean;
  role?: 'missing' | 'untrusted';
  duration?: number;
  alias?: false;
  /** The certificate's status: INACTIVE makes the provider refuse it with 403 "Access Denied" (as the lab decides). */
  certificate?: 'INACTIVE';
}

function seedCredentials(registry: LabRegistry, fault: Fault): void {
  const store = roleAliasesOf(registry);
  const roleArn = `arn:aws:iam::${registry.accountId}:role/${LAB_ROLE_NAME}`;
  if (fault.alias !== false) store.put(LAB_ROLE_ALIAS, roleArn, fault.duration ?? 3600);
  if (fault.role !== 'missing') {
    store.putRole({ roleArn, trustsCredentialProvider: fault.role !== 'untrusted', maxSessionDuration: 3600 });
  }
  if (fault.policy === false) return;
  const cert = registry.listCertificates()[0];
  if (!cert) return;
  registry.createPolicy(POLICY, {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'iot:AssumeRoleWithCertificate',
        Resource: registry.arn('rolealias', LAB_ROLE_ALIAS),
      },
    ],
  });
  registry.attachPolicy(POLICY, cert.certificateArn);
  if (fault.certificate) registry.setCertificateStatus(cert.certificateArn, fault.certificate);
}

/** The credential-provider scenarios over the healthy behaviour and seed of the main scenario list. */
export function credentialScenarios(healthy: ScenarioBehaviour, seedAccount: Seed): ScenarioDefinition[] {
  const make = (
    name: string,
    description: string,
    fault: Fault,
    thingName?: string,
    apiAccessDenied?: string[],
  ): ScenarioDefinition => ({
    name,
    description,
    checkFlags: { 'role-alias': LAB_ROLE_ALIAS, ...(thingName ? { 'thing-name': thingName } : {}) },
    behaviour: healthy,
    seed: (r, p) => {
      seedAccount(r, p);
      seedCredentials(r, fault);
    },
    ...(apiAccessDenied ? { apiAccessDenied } : {}),
  });
  return [
    make('credentials-ok', `Credential provider: role alias ${LAB_ROLE_ALIAS} hands out temporary credentials.`, {}),
    make('role-alias-not-found', 'Credential provider: the role alias the device asks for does not exist (404).', {
      alias: false,
    }),
    make(
      'assume-role-denied',
      "Credential provider: the certificate's policies lack iot:AssumeRoleWithCertificate on the alias (403).",
      { policy: false },
    ),
    make(
      'assume-role-denied-no-policy-read',
      "Credential provider: the certificate's policies lack iot:AssumeRoleWithCertificate (403), and the caller may " +
        'not read policy documents (iot:GetPolicy, iot:GetEffectivePolicies): the cause stays likely.',
      { policy: false },
      undefined,
      ['iot:GetPolicy', 'iot:GetEffectivePolicies'],
    ),
    make(
      'credentials-cert-inactive',
      'Credential provider: the policy allows the alias, but the certificate is INACTIVE (403 Access Denied).',
      { certificate: 'INACTIVE' },
    ),
    make(
      'role-assumption-failed',
      'Credential provider: the role does not trust credentials.iot.amazonaws.com (400 Unable to assume the role).',
      { role: 'untrusted' },
    ),
    make(
      'role-duration-too-long',
      "Credential provider: the alias's credentialDurationSeconds (7200) exceeds the role's MaxSessionDuration (400).",
      { duration: 7200 },
    ),
    make(
      'credentials-thing-name-invalid',
      'Credential provider: ready, but the device sends a thing name not attached to its certificate (403).',
      {},
      'lab-device-2',
    ),
  ];
}
