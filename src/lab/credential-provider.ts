/**
 * The lab's credential-provider endpoint (`<prefix>.credentials.iot.<region>.amazonaws.com`, its own host name and
 * server certificate): mTLS on its own port, `GET /role-aliases/<alias>/credentials` with an optional
 * `x-amzn-iot-thingname`, answered with the status and body of field notes §6.3 from what the registry holds (role
 * aliases, roles, the certificate's policies and things; field notes §6.2), and temporary credentials on success.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { evaluate } from '../policy/index.js';
import type { Authorizer } from './authz.js';
import type { LabPki } from './lab-pki.js';
import { closeServer, listen, type SocketTracker } from './net-util.js';
import type { LabRegistry } from './registry.js';

/** A role alias (DescribeRoleAlias `roleAliasDescription`, field notes §6.4). */
export interface RoleAliasRecord {
  roleAlias: string;
  roleArn: string;
  /** 900–43200, default 3600. */
  credentialDurationSeconds: number;
  creationDate: Date;
}

/** An IAM role as far as the credential provider cares: does it trust credentials.iot.amazonaws.com, its maximum. */
export interface LabRole {
  roleArn: string;
  trustsCredentialProvider: boolean;
  maxSessionDuration: number;
}

/** At most this many handed-out credentials are kept in `RoleAliasStore.issued` (the oldest go first). */
const MAX_ISSUED = 50;

/** Role aliases and roles of the lab account. */
export class RoleAliasStore {
  readonly aliases = new Map<string, RoleAliasRecord>();
  readonly roles = new Map<string, LabRole>();
  /**
   * The secret values of the last temporary credentials handed out (at most 50: access key id, secret access key,
   * session token each), so that a test can scan every output of a run for exactly what the device received.
   */
  readonly issued: string[][] = [];

  /** Keeps the secret values of one answer in `issued` (bounded). */
  recordIssued(values: string[]): void {
    this.issued.push(values);
    if (this.issued.length > MAX_ISSUED) this.issued.splice(0, this.issued.length - MAX_ISSUED);
  }

  /** Adds (or replaces) a role alias. */
  put(alias: string, roleArn: string, credentialDurationSeconds = 3600): RoleAliasRecord {
    const record = { roleAlias: alias, roleArn, credentialDurationSeconds, creationDate: new Date() };
    this.aliases.set(alias, record);
    return record;
  }

  /** Adds (or replaces) a role. */
  putRole(role: LabRole): void {
    this.roles.set(role.roleArn, role);
  }
}

const stores = new WeakMap<LabRegistry, RoleAliasStore>();

/** The role-alias store of a registry (one per lab account), created empty on first use. */
export function roleAliasesOf(registry: LabRegistry): RoleAliasStore {
  let store = stores.get(registry);
  if (!store) stores.set(registry, (store = new RoleAliasStore()));
  return store;
}

/** The lab's credential-provider host for an ATS data endpoint: same prefix, `credentials.iot` (facts §2.3). */
export function credentialsHostFor(dataEndpoint: string, region: string): string {
  return `${dataEndpoint.split('-ats.')[0]}.credentials.iot.${region}.amazonaws.com`;
}

/** The answer, per field notes §6.3: status and AWS's `message`. */
type Answer = { status: number; message: string } | { status: 200; credentials: object };

function decide(req: IncomingMessage, registry: LabRegistry, authorizer: Authorizer): Answer {
  const m = /^\/role-aliases\/([^/]+)\/credentials$/.exec((req.url ?? '').split('?')[0] ?? '');
  if (req.method !== 'GET' || !m) return { status: 404, message: 'Not Found' };
  const socket = req.socket as TLSSocket;
  const peer = socket.getPeerX509Certificate?.();
  const auth = peer ? authorizer.authenticate(peer.raw) : undefined;
  // Unregistered or inactive certificates: AWS's answer is unconfirmed (field notes §6.3); the lab says Access Denied.
  if (!auth?.ok) return { status: 403, message: 'Access Denied' };
  const store = roleAliasesOf(registry);
  const aliasName = decodeURIComponent(m[1]!);
  const alias = store.aliases.get(aliasName);
  if (!alias) return { status: 404, message: 'Role alias does not exist' };
  const thing = req.headers['x-amzn-iot-thingname'];
  if (typeof thing === 'string' && !registry.listPrincipalThings(auth.cert.certificateArn).includes(thing)) {
    return { status: 403, message: 'Invalid thing name passed' };
  }
  const { policies, ctx } = authorizer.resolve(auth.cert, undefined);
  const aliasArn = `arn:aws:iot:${registry.region}:${registry.accountId}:rolealias/${aliasName}`;
  if (evaluate(policies, 'iot:AssumeRoleWithCertificate', aliasArn, ctx).decision !== 'ALLOWED') {
    return { status: 403, message: 'Access Denied' };
  }
  const role = store.roles.get(alias.roleArn);
  if (!role || !role.trustsCredentialProvider) {
    return { status: 400, message: 'Unable to assume the role, or the role to assume does not exist' };
  }
  if (alias.credentialDurationSeconds > role.maxSessionDuration) {
    return {
      status: 400,
      message: 'The requested CredentialDurationSeconds exceeds the MaxSessionDuration set for the role',
    };
  }
  const expiration = new Date(Date.now() + alias.credentialDurationSeconds * 1000).toISOString();
  const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(30).toString('base64');
  const sessionToken = `IQoJb3JpZ2luX2VjE${randomBytes(96).toString('base64')}`;
  store.recordIssued([accessKeyId, secretAccessKey, sessionToken]);
  return { status: 200, credentials: { accessKeyId, secretAccessKey, sessionToken, expiration } };
}

/** What the listener needs. */
export interface CredentialProviderOptions {
  bind: string;
  port: number;
  host: string;
  region: string;
  pki: LabPki;
  registry: LabRegistry;
  authorizer: Authorizer;
  tracker: SocketTracker;
  log: (message: string) => void;
}

/** A running credential-provider listener. */
export interface CredentialProviderServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Starts the credential-provider listener: TLS with the server certificate for `host`, a client certificate asked
 * for (never rejected in the handshake; the registry decides), HTTP/1.1 behind it. Rejects when the port cannot be
 * bound.
 */
export async function startCredentialProvider(o: CredentialProviderOptions): Promise<CredentialProviderServer> {
  const leaf = o.pki.serverCertificate(o.host, o.region);
  const server: Server = createServer(
    {
      key: leaf.keyPem,
      cert: leaf.certPem + o.pki.serverCa.certPem,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    (req: IncomingMessage, res: ServerResponse) => {
      const answer = decide(req, o.registry, o.authorizer);
      o.log(`credential provider: ${req.method} ${req.url} -> ${answer.status}`);
      const body = JSON.stringify(
        'credentials' in answer ? { credentials: answer.credentials } : { message: answer.message },
      );
      res.writeHead(answer.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        date: new Date().toUTCString(),
        ...(answer.status === 403 ? { 'x-amzn-errortype': 'AccessDeniedException' } : {}),
      });
      res.end(body);
    },
  );
  server.on('connection', (s: Socket) => o.tracker.add(s));
  server.on('tlsClientError', () => {});
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  const port = await listen(server, o.port, o.bind);
  return { port, close: () => closeServer(server) };
}
