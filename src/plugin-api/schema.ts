// JSON Schemas are plain objects (validated by ajv in src/recipe/schema-validation.ts). The type
// lives in src/util so that readSchema (src/util/schemas.ts) does not import the plugin API.
export type { JsonSchema } from '../util/json-schema.js';
