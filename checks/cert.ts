import { caContentsCheck } from './cert-ca-contents.js';
import { certClientAuthUsageCheck } from './cert-client-auth-usage.js';
import { certEndEntityCheck } from './cert-end-entity.js';
import { filesCaCheck } from './cert-file-ca.js';
import { filesCertCheck } from './cert-file-cert.js';
import { filesKeyCheck } from './cert-file-key.js';
import { certIdentityCheck } from './cert-identity.js';
import { certKeyMatchCheck } from './cert-key-match.js';
import { certKeyStrengthCheck } from './cert-key-strength.js';
import { certValidityCheck } from './cert-validity.js';
import type { LocalCheck } from './cert-util.js';

export type { LocalCheckContext } from './cert-context.js';
export type { LocalCheck } from './cert-util.js';

/** The local (offline) credential checks, in catalogue order. `ca.verifies-endpoint` lives with the TLS results. */
export const certChecks: readonly LocalCheck[] = [
  filesCertCheck,
  filesKeyCheck,
  filesCaCheck,
  certEndEntityCheck,
  certKeyStrengthCheck,
  certClientAuthUsageCheck,
  certKeyMatchCheck,
  certValidityCheck,
  certIdentityCheck,
  caContentsCheck,
];
