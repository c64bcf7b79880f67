/**
 * The lab's custom authorizers (field notes §5): what AWS IoT does with an MQTT CONNECT that arrived on 443 with ALPN
 * `mqtt` (facts §1 row 3). The username's query names the authorizer (`x-amz-customauthorizer-name`, else the
 * account's default authorizer), carries the token under the authorizer's `tokenKeyName` and its signature
 * (`x-amz-customauthorizer-signature`, base64 RSA-SHA256 over the token, checked against `tokenSigningPublicKeys`
 * unless `signingDisabled`; field notes §5.3). Then the authorizer's Lambda decides: the lab's Lambda is data (the
 * token and password it expects, allow or deny) and answers `isAuthenticated`, a `principalId` and policy documents
 * (field notes §5.4). Any failure closes the connection ("If anything fails during custom authentication, IoT
 * terminates the connection", custom-auth-lambda page).
 */
import { createPublicKey, verify } from 'node:crypto';
import type { LabRegistry } from './registry.js';

/** A custom authorizer (DescribeAuthorizer `authorizerDescription`, field notes §5.5) with the lab's Lambda. */
export interface LabAuthorizer {
  authorizerName: string;
  authorizerFunctionArn: string;
  tokenKeyName: string;
  /** Key name → public key PEM. */
  tokenSigningPublicKeys: Record<string, string>;
  status: 'ACTIVE' | 'INACTIVE';
  signingDisabled: boolean;
  creationDate: Date;
  /** What the Lambda function does. */
  lambda: LabAuthorizerLambda;
}

/** The lab's authorizer Lambda as data: it authenticates the expected token (and password, when set) or nobody. */
export interface LabAuthorizerLambda {
  decision: 'allow' | 'deny';
  expectedToken?: string;
  expectedPassword?: string;
  principalId: string;
  /** Policy documents (JSON text) returned on success: at most 10, each at most 2048 characters. */
  policyDocuments: string[];
}

/** The Lambda's answer (field notes §5.4 response table). */
export interface AuthorizerAnswer {
  isAuthenticated: boolean;
  principalId?: string;
  policyDocuments: string[];
  disconnectAfterInSeconds?: number;
  refreshAfterInSeconds?: number;
}

/** Where a request reached the authorizer: a live MQTT CONNECT, or the control plane's TestInvokeAuthorizer. */
export type CustomAuthVia = 'connect' | 'test-invoke';

/** At most this many requests are kept in `CustomAuthStore.requests` (the oldest go first). */
const MAX_REQUESTS = 50;

/** The custom authorizers of one lab account and its default authorizer (SetDefaultAuthorizer). */
export class CustomAuthStore {
  readonly authorizers = new Map<string, LabAuthorizer>();
  defaultAuthorizerName: string | undefined;
  /**
   * The last requests the authorizers were asked about (at most 50), live and through TestInvokeAuthorizer: what the
   * lab's AWS side received, so that a test can compare the two with what the device sent.
   */
  readonly requests: { via: CustomAuthVia; request: CustomAuthRequest }[] = [];

  /** Adds (or replaces) an authorizer. */
  put(a: LabAuthorizer): void {
    this.authorizers.set(a.authorizerName, a);
  }

  /** Keeps `request` in `requests` (bounded). */
  record(via: CustomAuthVia, request: CustomAuthRequest): void {
    this.requests.push({ via, request });
    if (this.requests.length > MAX_REQUESTS) this.requests.splice(0, this.requests.length - MAX_REQUESTS);
  }
}

const stores = new WeakMap<LabRegistry, CustomAuthStore>();

/** The custom-authorizer store of a registry (one per lab account), created empty on first use. */
export function customAuthOf(registry: LabRegistry): CustomAuthStore {
  let store = stores.get(registry);
  if (!store) stores.set(registry, (store = new CustomAuthStore()));
  return store;
}

/** What the authorizer sees of a connection (field notes §5.4 event: token, MQTT username/password/client id, SNI). */
export interface CustomAuthRequest {
  token?: string;
  signature?: string;
  /** The authorizer name the request asks for; absent: the default authorizer. */
  authorizerName?: string;
  password?: Buffer;
  clientId?: string;
  serverName?: string;
}

/** Why custom authentication failed (a log phrase) and the MQTT 5 CONNACK reason code to answer with. */
export interface CustomAuthRefusal {
  ok: false;
  why: string;
  /** 0x86 (bad user name or password) for a failed authentication; which one AWS sends is unconfirmed. */
  code: number;
}

/** A successful custom authentication: the principal and its policies. */
export interface CustomAuthGrant {
  ok: true;
  principalId: string;
  policyDocuments: string[];
}

/** The authorizer query parameters of an MQTT username (field notes §5.2); `user` is the part before `?`. */
export function parseCustomAuthUsername(username: string | undefined): { user: string; params: URLSearchParams } {
  const text = username ?? '';
  const q = text.indexOf('?');
  return q < 0
    ? { user: text, params: new URLSearchParams() }
    : { user: text.slice(0, q), params: new URLSearchParams(text.slice(q + 1)) };
}

/** True when `signature` (base64) is an RSA-SHA256 signature of `token` by one of `keys` (PEM). */
export function signatureVerifies(token: string, signature: string, keys: Record<string, string>): boolean {
  const sig = Buffer.from(signature, 'base64');
  return Object.values(keys).some((pem) => {
    try {
      return verify('sha256', Buffer.from(token, 'utf8'), createPublicKey(pem), sig);
    } catch {
      return false;
    }
  });
}

/** The lab Lambda's decision for a request (field notes §5.4). */
export function invokeLambda(a: LabAuthorizer, req: CustomAuthRequest): AuthorizerAnswer {
  const l = a.lambda;
  const tokenOk = l.expectedToken === undefined || req.token === l.expectedToken;
  const passwordOk = l.expectedPassword === undefined || req.password?.toString('utf8') === l.expectedPassword;
  if (l.decision !== 'allow' || !tokenOk || !passwordOk) return { isAuthenticated: false, policyDocuments: [] };
  return {
    isAuthenticated: true,
    principalId: l.principalId,
    policyDocuments: l.policyDocuments,
    disconnectAfterInSeconds: 86400,
    refreshAfterInSeconds: 300,
  };
}

/** The authorizer a request names (or the default one), or undefined. */
export function authorizerFor(store: CustomAuthStore, name: string | undefined): LabAuthorizer | undefined {
  const chosen = name ?? store.defaultAuthorizerName;
  return chosen === undefined ? undefined : store.authorizers.get(chosen);
}

/**
 * AWS IoT's custom authentication of one request: the authorizer exists and is ACTIVE, the token's signature verifies
 * (unless signing is disabled), then the Lambda says authenticated. Every refusal answers 0x86 on MQTT 5 (unconfirmed,
 * field notes §5.6; `refusalCode` overrides it per scenario).
 */
export function authenticateCustom(
  store: CustomAuthStore,
  req: CustomAuthRequest,
  refusalCode = 0x86,
): CustomAuthGrant | CustomAuthRefusal {
  store.record('connect', req);
  const refuse = (why: string): CustomAuthRefusal => ({ ok: false, why, code: refusalCode });
  const a = authorizerFor(store, req.authorizerName);
  if (!a) return refuse(`custom authorizer ${req.authorizerName ?? '(default)'} not found`);
  if (a.status !== 'ACTIVE') return refuse(`custom authorizer ${a.authorizerName} is INACTIVE`);
  if (!a.signingDisabled) {
    if (req.token === undefined) return refuse(`no token under ${a.tokenKeyName}`);
    if (!req.signature || !signatureVerifies(req.token, req.signature, a.tokenSigningPublicKeys)) {
      return refuse('token signature does not verify');
    }
  }
  const answer = invokeLambda(a, req);
  if (!answer.isAuthenticated) return refuse(`authorizer ${a.authorizerName} answered isAuthenticated=false`);
  return { ok: true, principalId: answer.principalId ?? 'unknown', policyDocuments: answer.policyDocuments };
}

/** The request an MQTT CONNECT makes of the authorizer: its username's query, password, client id and the SNI. */
export function requestFromConnect(
  store: CustomAuthStore,
  connect: { username?: string; password?: Buffer; clientId: string },
  serverName: string | undefined,
): CustomAuthRequest {
  const { params } = parseCustomAuthUsername(connect.username);
  const authorizerName = params.get('x-amz-customauthorizer-name') ?? undefined;
  const a = authorizerFor(store, authorizerName);
  const token = a ? (params.get(a.tokenKeyName) ?? undefined) : undefined;
  const signature = params.get('x-amz-customauthorizer-signature') ?? undefined;
  return {
    ...(authorizerName !== undefined ? { authorizerName } : {}),
    ...(token !== undefined ? { token } : {}),
    ...(signature !== undefined ? { signature } : {}),
    ...(connect.password ? { password: connect.password } : {}),
    clientId: connect.clientId,
    ...(serverName ? { serverName } : {}),
  };
}
