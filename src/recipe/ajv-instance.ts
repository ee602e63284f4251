// One place that decides how scalpel runs ajv, so the recipe schema, stage schemas and plugin
// schemas are all held to the same rules.
import Ajv2020Module from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';

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
  return new Ajv2020({
    strict: true,
    strictTypes: false,
    strictRequired: false,
    allowUnionTypes: true,
    allErrors: true,
    useDefaults: true,
    verbose: true,
    discriminator: true,
  });
}
