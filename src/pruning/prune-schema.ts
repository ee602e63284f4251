// The `uses: prune` schema, built from the registered pruners: one `oneOf` branch per pruner
// (the common parameters of schemas/stages/prune.common.schema.json plus the pruner's own), chosen
// by an ajv `discriminator` on `method`. ajv then reports errors of the chosen branch only, and
// each branch's `title` ("pruner 'sparsegpt'") lets error messages name the pruner.
import { ErrorCode, ScalpelError } from '../errors.js';
import type { JsonSchema } from '../plugin-api/schema.js';
import type { Pruner } from '../plugin-api/pruner.js';
import { readSchema } from '../util/schemas.js';
import { isObject } from '../util/is-object.js';

/** Parameters the prune stage itself handles (pruners must not declare them). */
export const commonPruneParams = ['method', 'density', 'layers', 'layerDensities', 'seed'] as const;

export interface PrunerSchemaSource {
  readonly name: string;
  readonly schema: JsonSchema;
  /** Plugin the pruner came from, for errors. */
  readonly origin?: string;
}

/** Deep copy with local `$ref`s ('#/…') re-rooted under `prefix`, so they still resolve inside a branch. */
function rebaseRefs(value: unknown, prefix: string): unknown {
  if (Array.isArray(value)) return value.map((v) => rebaseRefs(v, prefix));
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      k === '$ref' && typeof v === 'string' && v.startsWith('#/')
        ? `${prefix}${v.slice(1)}`
        : rebaseRefs(v, prefix);
  }
  return out;
}

/** The branch for one pruner: common parameters + the pruner's, `method` fixed to its name. */
export function pruneBranch(pruner: PrunerSchemaSource, index: number): JsonSchema {
  const common = readSchema('stages/prune.common.schema.json');
  const commonProps = common.properties as Record<string, JsonSchema>;
  const own = rebaseRefs(pruner.schema, `#/oneOf/${index}`) as Record<string, unknown>;
  const {
    $id: _id,
    $schema: _schema,
    title: _title,
    properties,
    required,
    additionalProperties: _ap,
    type: _type,
    ...rest
  } = own;
  const ownProps = isObject(properties) ? properties : {};
  for (const key of commonPruneParams) {
    if (key in ownProps) {
      throw new ScalpelError(
        ErrorCode.Plugin,
        `pruner '${pruner.name}' declares the parameter '${key}', which the prune stage provides itself`,
        {
          ...(pruner.origin !== undefined ? { plugin: pruner.origin } : {}),
          hint: `remove '${key}' from the pruner's schema: it receives the layer densities in args.layers`,
        },
      );
    }
  }
  const ownRequired = Array.isArray(required)
    ? required.filter((r): r is string => typeof r === 'string')
    : [];
  const branch: JsonSchema = {
    ...rest,
    title: `pruner '${pruner.name}'`,
    type: 'object',
    additionalProperties: false,
    properties: {
      ...commonProps,
      method: { ...commonProps.method, const: pruner.name },
      ...ownProps,
    },
    required: ['method', ...ownRequired],
  };
  // `density` is required unless the pruner takes an N:M `pattern`, which implies it.
  if ('pattern' in ownProps) {
    const existing: unknown[] = Array.isArray(rest.allOf) ? rest.allOf : [];
    branch.allOf = [
      ...existing,
      { if: { not: { required: ['pattern'] } }, then: { required: ['density'] } },
    ];
  } else {
    (branch.required as string[]).push('density');
  }
  return branch;
}

/** The whole `with` schema of the prune stage for these pruners (in the given order). */
export function buildPruneSchema(pruners: readonly PrunerSchemaSource[]): JsonSchema {
  const common = readSchema('stages/prune.common.schema.json');
  const description =
    'Prune a model with one of the registered pruners; `method` picks it and the remaining keys are its parameters.';
  if (pruners.length === 0) {
    // The common shape only (the stage type's static `schema`): pruner parameters are unknown
    // here, so other keys pass; the registry validates recipes against the full schema.
    return {
      description,
      type: 'object',
      properties: common.properties,
      required: ['method'],
      additionalProperties: true,
    };
  }
  return {
    description,
    type: 'object',
    required: ['method'],
    properties: { method: (common.properties as Record<string, JsonSchema>).method },
    discriminator: { propertyName: 'method' },
    oneOf: pruners.map((p, i) => pruneBranch(p, i)),
  };
}

/** A pruner's own parameters: `with` minus the common ones. */
export function prunerParams(params: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (!(commonPruneParams as readonly string[]).includes(k)) out[k] = v;
  }
  return out;
}

/** Names of the pruners as a `Pruner` list would give them (helper for registries). */
export function schemaSources(
  pruners: readonly Pruner[],
  originOf?: (name: string) => string,
): PrunerSchemaSource[] {
  return pruners.map((p) => ({
    name: p.name,
    schema: p.schema,
    ...(originOf !== undefined ? { origin: originOf(p.name) } : {}),
  }));
}
