// JSON Schemas are plain objects (validated by ajv in src/recipe/schema-validation.ts).
export type JsonSchema = Record<string, unknown>;
