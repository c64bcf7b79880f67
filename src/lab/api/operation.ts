/**
 * The shape of one control-plane operation of the lab: a row of the operation table (HTTP method, URI template,
 * handler), and the errors a handler throws. Paths and IAM actions follow the AWS IoT service model
 * (/work/shared/aws-iot-facts.md §6).
 */
import type { IncomingMessage } from 'node:http';
import type { Authorizer } from '../authz.js';
import type { LabRecords } from '../records.js';
import type { LabRegistry } from '../registry.js';

/**
 * An error answered as AWS does: HTTP `status`, JSON body `{ message }` and header `x-amzn-ErrorType: <type>`, from
 * which the AWS SDK raises its typed exception (facts §6, service model error shapes).
 */
export class ApiError extends Error {
  /**
   * @param status HTTP status code (400, 403, 404, 500).
   * @param type AWS error type name, e.g. `ResourceNotFoundException`.
   * @param message the `message` field of the JSON body.
   */
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** A 404 `ResourceNotFoundException` with `message` (facts §6: "ResourceNotFoundException if not in this account"). */
export const notFound = (message: string): ApiError => new ApiError(404, 'ResourceNotFoundException', message);

/** A 400 `InvalidRequestException` with `message` (the service model's validation error). */
export const invalid = (message: string): ApiError => new ApiError(400, 'InvalidRequestException', message);

/** One parsed request, as a handler sees it. */
export interface ApiRequest {
  /** URI template parameters by name, percent-decoded (`{certificateId}` → `params.certificateId`). */
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** The JSON body when it is an object, else `{}`. */
  body: Record<string, unknown>;
}

/** What every handler may use: the lab's shared state. */
export interface ApiContext {
  registry: LabRegistry;
  authorizer: Authorizer;
  /** Answer to DescribeEndpoint(iot:Data-ATS) (a scenario may answer another account's endpoint). */
  dataAtsEndpoint: () => string;
  /** The data endpoint the lab serves (for DescribeDomainConfiguration). */
  endpoint: string;
  /** What the data plane recorded (connectivity data, logging options); absent: nothing recorded. */
  records?: LabRecords;
}

/** One row of the operation table. */
export interface Operation {
  /** AWS operation name, e.g. `DescribeCertificate`; `faults.throttleOnce` names operations by it. */
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** URI template of the service model, e.g. `/certificates/{certificateId}`; a parameter is one path segment. */
  path: string;
  /** IAM action checked against `faults.accessDenied`; `iot:<name>` when absent (facts §6 IAM action column). */
  action?: string;
  /** Resource named in the AccessDenied message (facts §6 IAM resource column). */
  resource: (req: ApiRequest, ctx: ApiContext) => string;
  /** The answer's JSON object, or `undefined` for an empty 200. Throws `ApiError` (or registry errors). */
  handle: (req: ApiRequest, ctx: ApiContext) => unknown;
}

/** The IAM action of an operation: its `action`, else `iot:<name>`. */
export function operationAction(op: Operation): string {
  return op.action ?? `iot:${op.name}`;
}

/** An operation's URI template compiled for matching: a full-path regular expression and its parameter names. */
export interface CompiledPath {
  regex: RegExp;
  names: string[];
}

/**
 * Compiles a URI template (`/policies/{policyName}/version/{policyVersionId}`) into an anchored regular expression
 * where each `{name}` matches one non-empty path segment. Throws on an unbalanced brace (a programming error).
 */
export function compilePath(template: string): CompiledPath {
  const names: string[] = [];
  const parts = template.split(/(\{[A-Za-z]+\})/);
  const source = parts
    .map((part) => {
      const m = /^\{([A-Za-z]+)\}$/.exec(part);
      if (m) {
        names.push(m[1] ?? '');
        return '([^/]+)';
      }
      if (/[{}]/.test(part)) throw new Error(`bad URI template ${template}`);
      return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
    })
    .join('');
  return { regex: new RegExp(`^${source}$`), names };
}

/** The epoch seconds (fractional) that the service model's timestamps carry in JSON. */
export const epoch = (d: Date): number => d.getTime() / 1000;

/**
 * AWS-style paging with an opaque marker: page size 1-250, default 25 (facts §6, model `PageSize`).
 * Returns the page and, when more remain, the marker of the next one. Throws `InvalidRequestException` on a bad page
 * size or marker.
 */
export function page<T>(all: T[], marker: string | null, pageSize: string | null): { items: T[]; nextMarker?: string } {
  const size = pageSize === null ? 25 : Number(pageSize);
  if (!Number.isInteger(size) || size < 1 || size > 250) throw invalid(`Invalid page size ${pageSize}: must be 1-250`);
  let offset = 0;
  if (marker) {
    const m = /^lab:(\d+)$/.exec(Buffer.from(marker, 'base64').toString('utf8'));
    if (!m) throw invalid('Invalid marker');
    offset = Number(m[1]);
  }
  const items = all.slice(offset, offset + size);
  const next = offset + size;
  return next < all.length ? { items, nextMarker: Buffer.from(`lab:${next}`).toString('base64') } : { items };
}

/** The first value of a required request header; throws `InvalidRequestException` when it is absent or empty. */
export function header(req: ApiRequest, name: string): string {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) throw invalid(`${name} header is required`);
  return s;
}

/** The resource an AccessDenied message names for a principal given in a header or body field: it, else `*`. */
export const principalArn = (value: unknown): string => (typeof value === 'string' && value ? value : '*');
