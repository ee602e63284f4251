// One place that decides how scalpel runs ajv, so the recipe schema, stage schemas and plugin
// schemas are all held to the same rules.
import { createRequire } from 'node:module';
import Ajv2020Module from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';

// Schemas that declare `$schema: draft-07` are accepted too (ajv's documented way to mix drafts).
const draft07MetaSchema = createRequire(import.meta.url)(
  'ajv/dist/refs/json-schema-draft-07.json',
) as object;

// ajv is CommonJS: under NodeNext the default import is the module object, class at `.default`.
const Ajv2020 = Ajv2020Module.default;

export type Ajv = InstanceType<typeof Ajv2020>;
export type { ErrorObject, ValidateFunction };

/**
 * Draft 2020-12, defaults filled in, all errors collected (we pick the most useful one), and
 * `strict` so a typo in a schema keyword is an error at registration, not a silently ignored rule.
 * strictTypes/strictRequired are off: they reject valid, common schemas (e.g. `required` inside
 * `if/then`), which would punish plugin authors for style rather than mistakes.
 */
export function createAjv(): Ajv {
  const ajv = new Ajv2020({
    strict: true,
    strictTypes: false,
    strictRequired: false,
    allowUnionTypes: true,
    allErrors: true,
    useDefaults: true,
    verbose: true,
    discriminator: true,
    // `{ $data: '1/of' }`: a bound taken from a sibling field (N:M patterns: keep ≤ of).
    $data: true,
  });
  ajv.addMetaSchema(draft07MetaSchema);
  return ajv;
}

let shared: Ajv | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

/**
 * Compile a schema, reusing the validator when the same schema object was compiled before (a
 * plugin loaded by several recipes in one process is compiled once). Throws ajv's error if the
 * schema is invalid.
 */
export function compileSchema(schema: object): ValidateFunction {
  const hit = compiled.get(schema);
  if (hit !== undefined) return hit;
  shared ??= createAjv();
  let validate: ValidateFunction;
  try {
    validate = shared.compile(schema);
  } catch (e) {
    // A different schema object with an `$id` seen before (e.g. a plugin module loaded from two
    // paths): compile it on its own rather than report a clash that is not the user's.
    if (!(e instanceof Error) || !/already exists/.test(e.message)) throw e;
    validate = createAjv().compile(schema);
  }
  compiled.set(schema, validate);
  return validate;
}

/**
 * A one-line reason why a schema does not compile. ajv's own "schema is invalid" message lists
 * every failed branch of the meta-schema; name the first offending place and value instead.
 */
export function schemaProblem(schema: object, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (!message.startsWith('schema is invalid')) return message;
  const ajv = createAjv();
  // The meta-schema is synchronous: the result is a boolean, and true leaves no errors to name.
  if (ajv.validateSchema(schema) === true) return message;
  const first = (ajv.errors ?? []).find((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
  if (first === undefined) return message;
  const where = first.instancePath === '' ? 'the schema root' : first.instancePath;
  const found = JSON.stringify(first.data);
  const allowed = (first.params as { allowedValues?: unknown[] }).allowedValues;
  return `at ${where}: ${first.message ?? 'invalid'}${allowed !== undefined ? ` (${allowed.map((a) => JSON.stringify(a)).join(', ')})` : ''}, found ${found}`;
}
