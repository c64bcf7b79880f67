/**
 * A subset of the AWS IoT control-plane API (REST-JSON), enough for the real `@aws-sdk/client-iot` pointed at the
 * lab with `endpoint` / `AWS_ENDPOINT_URL_IOT`. Paths, query names, headers and JSON shapes follow the service
 * model (facts §6); errors carry `x-amzn-ErrorType` so the SDK raises its typed exceptions
 * (ResourceNotFoundException, InvalidRequestException, ThrottlingException, and AccessDeniedException as a service
 * exception by name). The operations themselves are a table (api/operations.ts); this file is the HTTP server and
 * the dispatcher.
 *
 * STS GetCallerIdentity and IAM SimulatePrincipalPolicy (AWS Query protocol) are answered on the same address
 * (iam-api.ts). Requests must be SigV4-signed (any credentials are accepted: the signature is not verified).
 * Faults: `faults.accessDenied` holds IAM action names (`iot:TestAuthorization`) answered with 403
 * AccessDeniedException; `faults.throttleOnce` holds operation names (`DescribeCertificate`) whose next call is
 * answered with ThrottlingException once, so the SDK's retry succeeds.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ApiError, invalid, notFound, operationAction, type ApiContext, type ApiRequest } from './api/operation.js';
import { OperationRouter, type RoutedOperation } from './api/operations.js';
import type { Authorizer } from './authz.js';
import { answerLogsRequest } from './logs-api.js';
import { answerQueryRequest } from './iam-api.js';
import { roleAliasesOf } from './credential-provider.js';
import type { LabRecords } from './records.js';
import { closeServer, listen } from './net-util.js';
import { RegistryInvalidError, RegistryNotFoundError, type LabRegistry } from './registry.js';

/** Faults a test switches on at run time; both sets are read on every request. */
export interface ApiFaults {
  /** IAM action names (`iot:TestAuthorization`) answered with 403 AccessDeniedException. */
  accessDenied: Set<string>;
  /** Operation names (`DescribeCertificate`) answered once with ThrottlingException, then removed. */
  throttleOnce: Set<string>;
}

/** What the control plane needs: where to listen and the lab's shared state. */
export interface ControlPlaneOptions {
  /** Address to listen on (loopback unless the lab was told otherwise). */
  bind: string;
  /** TCP port; 0 for an ephemeral one. */
  port: number;
  registry: LabRegistry;
  authorizer: Authorizer;
  faults: ApiFaults;
  /** Answer to DescribeEndpoint(iot:Data-ATS). */
  dataAtsEndpoint: () => string;
  /** The data endpoint the lab serves (for DescribeDomainConfiguration). */
  endpoint: string;
  log: (message: string) => void;
  /** What the data plane recorded: connectivity data, logging options, the AWSIotLogsV2 entries. */
  records?: LabRecords;
  /** Region of the lab (CloudWatch Logs ARNs). */
  region?: string;
  /** Whether the lab's IAM identity may iot:Connect (SimulatePrincipalPolicy's answer; default true). */
  iamAllowsConnect?: boolean;
}

const LAB_USER = 'lab-user';
/** Bytes of a request body kept; the rest is read and dropped. */
const MAX_BODY_BYTES = 1024 * 1024;

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A request that passed the checks every operation shares, or the error that ends it. */
type Parsed = { op: RoutedOperation; req: ApiRequest } | { error: ApiError };

/**
 * The control-plane HTTP server (plain HTTP on `bind:port`). `start()` listens and sets `port`; `close()` drops
 * every connection. Errors: `start()` rejects when the port cannot be bound.
 */
export class ControlPlane {
  /** The port listened on, once `start()` resolved. */
  port = 0;
  private readonly server: Server;
  private readonly router = new OperationRouter();
  private readonly ctx: ApiContext;

  /** Builds the server; nothing listens before `start()`. */
  constructor(private readonly opts: ControlPlaneOptions) {
    const { registry, authorizer, dataAtsEndpoint, endpoint } = opts;
    this.ctx = { registry, authorizer, dataAtsEndpoint, endpoint };
    if (opts.records) this.ctx.records = opts.records;
    this.server = createServer((req, res) => {
      this.dispatch(req, res).catch((err: unknown) => {
        this.sendError(res, new ApiError(500, 'InternalFailureException', message(err)));
      });
    });
    // An idle keep-alive connection stays open for a minute, as AWS's API front ends keep theirs far longer than a
    // client's pause between calls: a short server timeout races the SDK's reuse of the socket (ECONNRESET on a call
    // that AWS would have answered). Idle client sockets are unref'd by Node's agent, so nothing waits on them.
    this.server.keepAliveTimeout = 60_000;
  }

  /** Listens on `bind:port` and records the actual port. */
  async start(): Promise<void> {
    this.port = await listen(this.server, this.opts.port, this.opts.bind);
  }

  /** Stops listening and closes every open connection. */
  async close(): Promise<void> {
    const done = closeServer(this.server);
    this.server.closeAllConnections();
    await done;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string') {
      this.dispatchLogs(target, raw, res);
      return;
    }
    if (req.method === 'POST' && /x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) {
      this.dispatchQuery(req, raw, res);
      return;
    }
    const parsed = this.parse(req, raw);
    if ('error' in parsed) {
      this.sendError(res, parsed.error);
      return;
    }
    const { op, req: apiReq } = parsed;
    const fault = this.fault(op, apiReq);
    if (fault) {
      this.sendError(res, fault);
      return;
    }
    try {
      const out = op.handle(apiReq, this.ctx);
      this.opts.log(`api: ${op.name}: 200`);
      this.send(res, 200, out === undefined ? undefined : JSON.stringify(out));
    } catch (err) {
      const apiErr = toApiError(err);
      this.opts.log(`api: ${op.name}: ${apiErr.type}`);
      this.sendError(res, apiErr);
    }
  }

  /**
   * A CloudWatch Logs (AWS JSON 1.1) request, told apart by its `X-Amz-Target` header (logs-api.ts), so that
   * `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS` can point at the same address as `AWS_ENDPOINT_URL_IOT`.
   */
  private dispatchLogs(target: string, raw: Buffer, res: ServerResponse): void {
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = raw.length ? JSON.parse(raw.toString('utf8')) : {};
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      body = {};
    }
    const { records, registry, faults } = this.opts;
    const ctx = { records, region: this.opts.region ?? 'eu-west-1', accountId: registry.accountId };
    const answer = answerLogsRequest(target, body, { ...ctx, accessDenied: faults.accessDenied });
    const type = (answer.body as { __type?: string }).__type;
    this.opts.log(`logs: ${target}: ${type ?? answer.status}`);
    this.send(res, answer.status, JSON.stringify(answer.body), { 'content-type': 'application/x-amz-json-1.1' });
  }

  /**
   * An STS or IAM request in the AWS Query protocol (form body, iam-api.ts), told apart by its form content type, so
   * that `AWS_ENDPOINT_URL_STS` and `AWS_ENDPOINT_URL_IAM` can point at the same address as `AWS_ENDPOINT_URL_IOT`.
   */
  private dispatchQuery(req: IncomingMessage, raw: Buffer, res: ServerResponse): void {
    const form = new URLSearchParams(raw.toString('utf8'));
    const answer = answerQueryRequest(form, {
      accountId: this.opts.registry.accountId,
      allowsConnect: this.opts.iamAllowsConnect ?? true,
      sessionToken: typeof req.headers['x-amz-security-token'] === 'string',
      accessDenied: this.opts.faults.accessDenied,
      roles: roleAliasesOf(this.opts.registry).roles,
    });
    this.opts.log(`iam: ${form.get('Action') ?? '?'}: ${answer.status}`);
    this.send(res, answer.status, answer.xml, { 'content-type': 'text/xml' });
  }

  /**
   * Finds the operation and checks what AWS checks before any handler: a known operation (404
   * UnknownOperationException), a SigV4 `Authorization` header (403 MissingAuthenticationTokenException), a JSON
   * body (400 SerializationException). Throws URIError on a malformed percent-encoding (answered 500).
   */
  private parse(req: IncomingMessage, raw: Buffer): Parsed {
    const url = new URL(req.url ?? '/', 'http://lab.invalid');
    const found = this.router.match(req.method, url.pathname);
    if (!found) {
      const text = `No lab operation for ${req.method} ${url.pathname}`;
      return { error: new ApiError(404, 'UnknownOperationException', text) };
    }
    const auth = req.headers['authorization'];
    if (typeof auth !== 'string' || !auth.startsWith('AWS4-HMAC-SHA256')) {
      return { error: new ApiError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token') };
    }
    let body: Record<string, unknown> = {};
    if (raw.length > 0) {
      try {
        const parsed: unknown = JSON.parse(raw.toString('utf8'));
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
      } catch {
        return { error: new ApiError(400, 'SerializationException', 'Request body is not valid JSON') };
      }
    }
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(found.raw)) params[name] = decodeURIComponent(value);
    return { op: found.op, req: { params, query: url.searchParams, headers: req.headers, body } };
  }

  /** The fault switched on for this operation, if any (AccessDenied always, Throttling once). */
  private fault(op: RoutedOperation, req: ApiRequest): ApiError | undefined {
    const { faults, registry } = this.opts;
    const action = operationAction(op);
    if (faults.accessDenied.has(action)) {
      this.opts.log(`api: ${op.name}: AccessDeniedException (fault)`);
      return new ApiError(
        403,
        'AccessDeniedException',
        `User: arn:aws:iam::${registry.accountId}:user/${LAB_USER} is not authorized to perform: ${action} ` +
          `on resource: ${op.resource(req, this.ctx)} because no identity-based policy allows the ${action} action`,
      );
    }
    if (faults.throttleOnce.has(op.name)) {
      faults.throttleOnce.delete(op.name);
      this.opts.log(`api: ${op.name}: ThrottlingException (fault, once)`);
      return new ApiError(400, 'ThrottlingException', 'Rate exceeded');
    }
    return undefined;
  }

  private send(
    res: ServerResponse,
    status: number,
    text: string | undefined,
    headers: Record<string, string> = {},
  ): void {
    const body = text ?? '';
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'x-amzn-RequestId': randomUUID(),
      ...headers,
    });
    res.end(body);
  }

  private sendError(res: ServerResponse, err: ApiError): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    this.send(res, err.status, JSON.stringify({ message: err.message }), { 'x-amzn-ErrorType': err.type });
  }
}

/** A handler's error as the API answers it: registry errors become 404 / 400, anything unknown 500. */
function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof RegistryNotFoundError) return notFound(err.message);
  if (err instanceof RegistryInvalidError) return invalid(err.message);
  return new ApiError(500, 'InternalFailureException', message(err));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
