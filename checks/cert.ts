import { caContentsCheck } from './ca-contents.js';
import { certClientAuthUsageCheck } from './cert-client-auth-usage.js';
import { certEndEntityCheck } from './cert-end-entity.js';
import { filesCaCheck } from './files-ca.js';
import { filesCertCheck } from './files-cert.js';
import { filesKeyCheck } from './files-key.js';
import { certIdentityCheck } from './cert-identity.js';
import { certKeyMatchCheck } from './cert-key-match.js';
import { certKeyStrengthCheck } from './cert-key-strength.js';
import { certValidityCheck } from './cert-validity.js';
import type { LocalCheck } from './local-util.js';

export type { LocalCheckContext } from './local-context.js';
export type { LocalCheck } from './local-util.js';

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
