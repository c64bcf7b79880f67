/**
 * Lab scenarios of custom authentication (field notes §5): a healthy account plus a custom authorizer (name, token key,
 * expected token, an RSA signing key, the Lambda's decision), with one link broken per scenario, so that each failure
 * a device can meet comes from a real cause: the authorizer missing, the token signed with another key, the Lambda
 * saying no, ALPN `mqtt` not arriving, a middlebox rewriting the username.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { CustomAuthBehaviour } from './custom-auth-front.js';
import { customAuthOf } from './custom-auth.js';
import type { LabPki } from './lab-pki.js';
import type { LabRegistry } from './registry.js';
import type { ScenarioBehaviour, ScenarioDefinition } from './scenarios.js';

/** The authorizer, token key name and principal of the custom-authentication scenarios. */
export const LAB_AUTHORIZER = 'lab-authorizer';
/** The authorizer's `tokenKeyName`. */
export const LAB_TOKEN_KEY_NAME = 'x-lab-token';
const PRINCIPAL = 'labCustomAuthPrincipal';

/** What one scenario breaks. */
export interface CustomAuthFault {
  /** The authorizer the device names: present (default), missing from the account, or INACTIVE. */
  authorizer?: 'missing' | 'inactive';
  /** The device signs its token with a key whose public half the authorizer does not hold. */
  deviceKey?: 'wrong';
  /** The authorizer Lambda answers isAuthenticated=false. */
  decision?: 'deny';
  /** The Lambda's policy allows the topics but not iot:Connect. */
  policy?: 'no-connect';
  /** The device sends its token under this key name instead of the authorizer's. */
  deviceTokenKeyName?: string;
  behaviour?: Partial<CustomAuthBehaviour>;
}

/** What the device of a custom-authentication lab is configured with (secrets: never logged). */
export interface LabCustomAuthDevice {
  authorizerName: string;
  tokenKeyName: string;
  token: string;
  /** Base64 RSA-SHA256 of the token with the device's signing key. */
  signature: string;
  /** The device's token-signing private key (PEM, PKCS#8). */
  signingKeyPem: string;
}

function rsaPair(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/** The policy the lab's Lambda returns: connect as anyone, the probe's topics (as the device policy allows them). */
function lambdaPolicy(registry: LabRegistry, connect: boolean): string {
  const arn = (kind: string, name: string): string => registry.arn(kind, name);
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client', connect ? '*' : 'another-device') },
      { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: arn('topic', 'iot-doctor/*') },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: arn('topicfilter', 'iot-doctor/*') },
    ],
  });
}

/**
 * Puts the scenario's authorizer into the registry's custom-auth store and returns what the device is configured with:
 * a fresh token and an RSA key pair per lab (the wrong-key scenario signs with a second key).
 */
export function seedCustomAuth(registry: LabRegistry, fault: CustomAuthFault): LabCustomAuthDevice {
  const token = `lab-${randomBytes(12).toString('hex')}`;
  const authorizerKey = rsaPair();
  const deviceKey = fault.deviceKey === 'wrong' ? rsaPair() : authorizerKey;
  if (fault.authorizer !== 'missing') {
    customAuthOf(registry).put({
      authorizerName: LAB_AUTHORIZER,
      authorizerFunctionArn: `arn:aws:lambda:${registry.region}:${registry.accountId}:function:lab-authorizer-fn`,
      tokenKeyName: LAB_TOKEN_KEY_NAME,
      tokenSigningPublicKeys: { 'lab-key': authorizerKey.publicKey },
      status: fault.authorizer === 'inactive' ? 'INACTIVE' : 'ACTIVE',
      signingDisabled: false,
      creationDate: new Date(),
      lambda: {
        decision: fault.decision ?? 'allow',
        expectedToken: token,
        principalId: PRINCIPAL,
        policyDocuments: [lambdaPolicy(registry, fault.policy !== 'no-connect')],
      },
    });
  }
  const signature = sign('sha256', Buffer.from(token), deviceKey.privateKey).toString('base64');
  return {
    authorizerName: LAB_AUTHORIZER,
    tokenKeyName: fault.deviceTokenKeyName ?? LAB_TOKEN_KEY_NAME,
    token,
    signature,
    signingKeyPem: deviceKey.privateKey,
  };
}

/** The `check` flags of a custom-authentication device (what `demo` passes). */
export function customAuthFlags(d: LabCustomAuthDevice): Record<string, string> {
  return {
    authorizer: d.authorizerName,
    token: d.token,
    'token-key-name': d.tokenKeyName,
    'token-signature': d.signature,
  };
}

type Seed = (registry: LabRegistry, pki: LabPki) => void;

/** The caller may not ask AWS about authorizers: only the refusal itself is seen. */
const NO_AUTHORIZER_READS = ['iot:DescribeAuthorizer', 'iot:DescribeDefaultAuthorizer', 'iot:TestInvokeAuthorizer'];

/** The custom-authentication scenarios over the healthy behaviour and seed of the main scenario list. */
export function customAuthScenarios(healthy: ScenarioBehaviour, seedAccount: Seed): ScenarioDefinition[] {
  const make = (
    name: string,
    description: string,
    fault: CustomAuthFault,
    b?: Partial<ScenarioBehaviour>,
    apiAccessDenied?: string[],
  ): ScenarioDefinition => ({
    name,
    description,
    behaviour: { ...healthy, ...b },
    customAuth: fault,
    seed: seedAccount,
    ...(apiAccessDenied ? { apiAccessDenied } : {}),
  });
  return [
    make('custom-auth-ok', `Custom authentication: authorizer ${LAB_AUTHORIZER} authenticates the device's token.`, {}),
    make('custom-auth-denied', 'Custom authentication: the authorizer Lambda answers isAuthenticated=false.', {
      decision: 'deny',
    }),
    make(
      'custom-authorizer-not-found',
      `Custom authentication: the device names ${LAB_AUTHORIZER}, which does not exist in the account.`,
      { authorizer: 'missing' },
    ),
    make(
      'custom-auth-signature-invalid',
      'Custom authentication: the token is signed with a key whose public half is not on the authorizer.',
      { deviceKey: 'wrong' },
    ),
    make('custom-authorizer-inactive', `Custom authentication: authorizer ${LAB_AUTHORIZER} exists but is INACTIVE.`, {
      authorizer: 'inactive',
    }),
    make(
      'custom-auth-token-key-mismatch',
      `Custom authentication: the device sends its token as x-token, the authorizer reads ${LAB_TOKEN_KEY_NAME}.`,
      { deviceTokenKeyName: 'x-token' },
    ),
    make(
      'custom-auth-policy-no-connect',
      'Custom authentication: the Lambda authenticates the device, but its policy allows iot:Connect only for ' +
        'client/another-device.',
      { policy: 'no-connect' },
    ),
    make(
      'custom-auth-refused-no-api',
      'Custom authentication: the Lambda says no, and the caller may not call DescribeAuthorizer or ' +
        'TestInvokeAuthorizer: only the refusal is seen.',
      { decision: 'deny' },
      {},
      NO_AUTHORIZER_READS,
    ),
    make(
      'custom-auth-alpn-stripped',
      'Custom authentication: ALPN mqtt does not reach the endpoint (443 selects no ALPN): the CONNECT gets silence.',
      {},
      { alpn443: 'ignore' },
    ),
    make(
      'custom-auth-request-altered',
      'Custom authentication: the authorizer accepts the token, but a middlebox strips the query from the MQTT ' +
        'username, so the live CONNECT is refused.',
      { behaviour: { path: 'strip-query' } },
    ),
  ];
}
