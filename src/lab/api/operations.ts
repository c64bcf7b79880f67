/**
 * The lab's control-plane operation table: every AWS IoT operation the lab answers, as data (method, URI template,
 * IAM action, handler), one file per resource family. Adding an operation is one row in its family's file; the
 * dispatcher (control-plane.ts) does not change. Paths and actions per facts §6.
 */
import { AUTHORIZER_OPERATIONS } from './authorizers.js';
import { CERTIFICATE_OPERATIONS } from './certificates.js';
import { ENDPOINT_OPERATIONS } from './endpoints.js';
import { compilePath, type CompiledPath, type Operation } from './operation.js';
import { RECORD_OPERATIONS } from './logging.js';
import { POLICY_OPERATIONS } from './policies.js';
import { TEST_AUTHORIZATION_OPERATIONS } from './test-authorization.js';
import { THING_OPERATIONS } from './things.js';
import { ROLE_ALIAS_OPERATIONS } from './role-aliases.js';

/** Every operation of the lab, by family. Names are unique and no two rows match the same method and path. */
export const OPERATIONS: readonly Operation[] = [
  ...ENDPOINT_OPERATIONS,
  ...CERTIFICATE_OPERATIONS,
  ...POLICY_OPERATIONS,
  ...THING_OPERATIONS,
  ...TEST_AUTHORIZATION_OPERATIONS,
  ...RECORD_OPERATIONS,
  ...AUTHORIZER_OPERATIONS,
  ...ROLE_ALIAS_OPERATIONS,
];

/** An operation with its URI template compiled. */
export interface RoutedOperation extends Operation, CompiledPath {}

/** A router over `ops`: finds the row for a method and a raw (still percent-encoded) path, and its raw parameters. */
export class OperationRouter {
  private readonly routes: RoutedOperation[];

  /** Compiles every row's URI template; throws on a malformed template or a duplicated operation name. */
  constructor(ops: readonly Operation[] = OPERATIONS) {
    const seen = new Set<string>();
    this.routes = ops.map((op) => {
      if (seen.has(op.name)) throw new Error(`duplicate lab operation ${op.name}`);
      seen.add(op.name);
      return { ...op, ...compilePath(op.path) };
    });
  }

  /**
   * The first row whose method and template match, with its parameters by name (not yet percent-decoded), or
   * `undefined` when the lab has no such operation.
   */
  match(
    method: string | undefined,
    pathname: string,
  ): { op: RoutedOperation; raw: Record<string, string> } | undefined {
    for (const op of this.routes) {
      if (op.method !== method) continue;
      const m = op.regex.exec(pathname);
      if (!m) continue;
      const raw: Record<string, string> = {};
      op.names.forEach((name, i) => (raw[name] = m[i + 1] ?? ''));
      return { op, raw };
    }
    return undefined;
  }
}
