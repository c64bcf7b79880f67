/** Catalogue pages of the credential-provider codes (route credentials-443; src/diagnose/credential-provider.ts). */
import type { CodePage } from './types.js';

const CP =
  'curl --cert <cert> --key <key> -H "x-amzn-iot-thingname: <thing>" https://<credentials-endpoint>/role-aliases/<alias>/credentials';
const DECIDES = (status: string, routeCode: string): string =>
  `The credentials-443 route asks the credential provider for temporary AWS credentials (GET /role-aliases/<alias>/credentials with the device certificate) and its protocol cell classifies the answer (field notes §6.3): ${status} is ${routeCode}.`;

/**
 * Pages of ROLE_ALIAS_NOT_FOUND, CREDENTIALS_THING_NAME_INVALID, ASSUME_ROLE_DENIED, CREDENTIALS_FORBIDDEN,
 * ROLE_ASSUMPTION_FAILED, ROLE_DURATION_TOO_LONG.
 */
export const CREDENTIAL_PROVIDER_PAGES: readonly CodePage[] = [
  {
    code: 'ROLE_ALIAS_NOT_FOUND',
    family: 'Authorization',
    meaning: 'The role alias the device asks the credential provider for does not exist in this account and region.',
    decides: DECIDES('404 "Role alias does not exist"', 'CREDENTIALS_ROLE_ALIAS_NOT_FOUND'),
    lookAlikes: [
      { code: 'ASSUME_ROLE_DENIED', tell: 'there the alias exists but the certificate may not use it (403)' },
    ],
    remedy: ['Create the alias (aws iot create-role-alias) or fix its name in the device configuration.'],
    confirm: ['aws iot list-role-aliases', CP],
  },
  {
    code: 'CREDENTIALS_THING_NAME_INVALID',
    family: 'Authorization',
    meaning:
      'The thing name the device sends in x-amzn-iot-thingname does not exist or is not attached to its certificate.',
    decides: DECIDES('403 "Invalid thing name passed"', 'CREDENTIALS_THING_NAME_INVALID'),
    lookAlikes: [{ code: 'ASSUME_ROLE_DENIED', tell: 'a 403 "Access Denied" is the policy, not the thing name' }],
    remedy: [
      'Attach the certificate to the thing (aws iot attach-thing-principal), or send the name of the thing it is attached to.',
    ],
    confirm: ['aws iot list-principal-things --principal <cert-arn>'],
  },
  {
    code: 'ASSUME_ROLE_DENIED',
    family: 'Authorization',
    meaning:
      'No policy attached to the certificate allows iot:AssumeRoleWithCertificate on the role alias, or a Deny matches it.',
    decides:
      DECIDES('403 "Access Denied"', 'CREDENTIALS_ACCESS_DENIED') +
      ' With AWS credentials cloud.role-alias reads the policies attached to the certificate and evaluates ' +
      'iot:AssumeRoleWithCertificate on the alias ARN from DescribeRoleAlias (facts §7: an explicit Deny wins, ' +
      'wildcards, policy variables): denied makes this certain, naming the policies or the Deny statement; allowed ' +
      'rules it out (CREDENTIALS_FORBIDDEN). Without that answer it is likely (the error table alone), and the finding ' +
      'says what could not be read.',
    lookAlikes: [
      { code: 'CREDENTIALS_FORBIDDEN', tell: 'the same 403, but the certificate policies allow the alias' },
      { code: 'CERT_NOT_ACTIVE', tell: 'cloud.certificate shows the status; an inactive certificate also gets 403' },
      { code: 'CREDENTIALS_THING_NAME_INVALID', tell: 'there the 403 says "Invalid thing name passed"' },
    ],
    remedy: [
      'Allow "iot:AssumeRoleWithCertificate" on "arn:aws:iot:<region>:<account>:rolealias/<alias>" in a policy attached to the certificate.',
    ],
    confirm: ['aws iot list-attached-policies --target <cert-arn>', 'aws iot get-policy --policy-name <policy>', CP],
  },
  {
    code: 'CREDENTIALS_FORBIDDEN',
    family: 'Authorization',
    meaning:
      'The credential provider answers 403 "Access Denied" although the policies attached to the certificate allow iot:AssumeRoleWithCertificate on the alias: the policy is ruled out.',
    decides:
      DECIDES('403 "Access Denied"', 'CREDENTIALS_ACCESS_DENIED') +
      ' cloud.role-alias evaluated the attached policies and found a statement that allows the alias ARN, so the ' +
      'finding lists ASSUME_ROLE_DENIED as ruled out and the readings left: a certificate that is not ACTIVE ' +
      '(cloud.certificate), or a policy change AWS has not applied yet (policies are cached for 6–8 minutes, facts §7).',
    lookAlikes: [
      { code: 'ASSUME_ROLE_DENIED', tell: 'there the policies do not allow the alias (or a Deny matches it)' },
      { code: 'CERT_NOT_ACTIVE', tell: 'cloud.certificate says the certificate is not ACTIVE' },
    ],
    remedy: [
      'Check the certificate status (aws iot describe-certificate); after a policy change, run again in 10 minutes.',
    ],
    confirm: ['aws iot describe-certificate --certificate-id <id> --query certificateDescription.status', CP],
  },
  {
    code: 'ROLE_ASSUMPTION_FAILED',
    family: 'Authorization',
    meaning:
      'The IAM role behind the alias cannot be assumed: it is gone, or its trust policy does not allow credentials.iot.amazonaws.com.',
    decides: DECIDES(
      '400 "Unable to assume the role, or the role to assume does not exist"',
      'CREDENTIALS_ROLE_NOT_ASSUMABLE',
    ),
    lookAlikes: [
      { code: 'ROLE_DURATION_TOO_LONG', tell: 'the other 400: the duration asked exceeds the role maximum' },
    ],
    remedy: [
      'Give the role the trust policy {"Principal":{"Service":"credentials.iot.amazonaws.com"},"Action":"sts:AssumeRole"}, or point the alias at an existing role.',
    ],
    confirm: ['aws iot describe-role-alias --role-alias <alias>', 'aws iam get-role --role-name <role>'],
  },
  {
    code: 'ROLE_DURATION_TOO_LONG',
    family: 'Authorization',
    meaning: "The alias asks for credentials valid longer than the role's MaxSessionDuration allows.",
    decides: DECIDES('400 about the credential duration', 'CREDENTIALS_DURATION_EXCEEDS_ROLE'),
    lookAlikes: [
      { code: 'ROLE_ASSUMPTION_FAILED', tell: 'the other 400: the role is missing or does not trust AWS IoT' },
    ],
    remedy: [
      'Lower credentialDurationSeconds (aws iot update-role-alias) or raise the role maximum (aws iam update-role --max-session-duration).',
    ],
    confirm: [
      'aws iot describe-role-alias --role-alias <alias> --query roleAliasDescription.credentialDurationSeconds',
      'aws iam get-role --role-name <role> --query Role.MaxSessionDuration',
    ],
  },
];
