// JSON Schemas live as files in schemas/ (so users and editors can read them); code loads them here.
import { readFileSync } from 'node:fs';
import type { JsonSchema } from '../plugin-api/schema.js';
import { fromPackageRoot } from './package-root.js';

const cache = new Map<string, JsonSchema>();

/** Load `schemas/<relPath>` (e.g. 'stages/icbs.schema.json'). */
export function readSchema(relPath: string): JsonSchema {
  let s = cache.get(relPath);
  if (s === undefined) {
    s = JSON.parse(readFileSync(fromPackageRoot('schemas', relPath), 'utf8')) as JsonSchema;
    cache.set(relPath, s);
  }
  return s;
}

/**
 * The `default` of every top-level property of an object schema (deep copies): the parameters
 * ajv's `useDefaults` fills into `{}`. Code that needs defaults without validating (callers that
 * bypass the schema) takes them from here, so the schema file stays their one source.
 */
export function schemaDefaults(schema: JsonSchema): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, { default?: unknown }>;
  return Object.fromEntries(
    Object.entries(properties)
      .filter(([, p]) => p.default !== undefined)
      .map(([name, p]) => [name, structuredClone(p.default)]),
  );
}
