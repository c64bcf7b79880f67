/**
 * A report read back (`render`, `check --from`) is checked against the report's published JSON Schema
 * (src/report/report.schema.json, JSON Schema 2020-12) before anything renders it, so a damaged or hand-edited
 * report is one line naming its first invalid field instead of a crash deep in a renderer. Ajv (the standard JSON
 * Schema validator) is loaded on first use only.
 */
import { createRequire } from 'node:module';
import schema from './report.schema.json' with { type: 'json' };

type Validator = ((data: unknown) => boolean) & {
  errors?: { instancePath: string; message?: string; params?: Record<string, unknown> }[] | null;
};
let compiled: Validator | undefined;

function validator(): Validator {
  if (compiled) return compiled;
  const require = createRequire(import.meta.url);
  const Ajv2020 = (require('ajv/dist/2020.js') as { default: new (o: object) => { compile(s: object): Validator } })
    .default;
  const addFormats = (require('ajv-formats') as { default: (ajv: unknown) => void }).default;
  const ajv = new Ajv2020({ allErrors: false, strict: false });
  addFormats(ajv);
  compiled = ajv.compile(schema as object);
  return compiled;
}

/** `/results/3/evidence` → `results[3].evidence`; the root is `(report)`. */
export function fieldPath(pointer: string): string {
  if (pointer === '') return '(report)';
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((out, p) => (/^\d+$/.test(p) ? `${out}[${p}]` : out ? `${out}.${p}` : p), '');
}

/**
 * The first schema violation of `data` as one line, e.g. `diagnosis[0]: must have required property 'code'`, or
 * undefined when `data` is a valid report.
 */
export function firstSchemaViolation(data: unknown): string | undefined {
  const validate = validator();
  if (validate(data)) return undefined;
  const e = validate.errors?.[0];
  if (!e) return '(report): does not match the report schema';
  const extra = e.params?.['additionalProperty'];
  const what = typeof extra === 'string' ? `${e.message ?? 'invalid'} "${extra}"` : (e.message ?? 'invalid');
  return `${fieldPath(e.instancePath)}: ${what}`.slice(0, 300);
}
