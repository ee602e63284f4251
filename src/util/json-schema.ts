// JSON Schemas are plain objects (compiled by ajv, src/util/ajv-instance.ts). Defined here, at the
// bottom, so that src/util (readSchema) and the plugin API (which re-exports it) share one type
// without a folder cycle.
export type JsonSchema = Record<string, unknown>;
