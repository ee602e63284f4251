// JSON Schemas are plain objects (compiled by ajv, src/util/ajv-instance.ts; validated in
// src/recipe/schema-validation.ts). The plugin contract owns the type; src/util (readSchema)
// imports it from here.
export type JsonSchema = Record<string, unknown>;
