// Validation in two passes: the recipe's own shape (schemas/recipe.schema.json), then each
// stage's `with` against its stage type's schema from the registry. Both fill in defaults.
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import { readSchema } from '../util/schemas.js';
import { createAjv, type ValidateFunction } from '../util/ajv-instance.js';
import { describeValue } from './describe.js';
import type { AppliedOverride } from './overrides.js';
import type { ParsedYaml } from './parse-yaml.js';
import { overrideFor, schemaError } from './schema-errors.js';
import { suggestionHint } from '../suggest.js';
import type { BackendChoice, ThreadsChoice } from './types.js';
import { isObject } from '../util/is-object.js';

export const supportedRecipeVersion = 1;

/** The recipe after the first pass: shape checked, top-level defaults filled, `needs` a list. */
export interface RecipeDocument {
  version: number;
  name?: string;
  description?: string;
  seed: number;
  backend: BackendChoice;
  threads: ThreadsChoice;
  /** Base of the recipe's relative paths, relative to the recipe file (run records set it). */
  baseDir?: string;
  plugins: string[];
  stages: Record<string, StageDocument>;
  sweep?: Record<string, unknown>;
  /** `vars:` as written (references elsewhere are already substituted). */
  vars?: Record<string, unknown>;
}

export interface StageDocument {
  uses: string;
  needs: string[];
  with: Record<string, unknown>;
  description?: string;
}

let recipeValidator: ValidateFunction | undefined;

function recipeSchemaValidator(): ValidateFunction {
  const v = recipeValidator ?? createAjv().compile(readSchema('recipe.schema.json'));
  recipeValidator = v;
  return v;
}

/**
 * `with:` / `needs:` / `plugins:` written with nothing after them are YAML nulls; treat them as
 * absent (so defaults apply) rather than as type errors — the user's intent is clear.
 */
function dropEmptyValues(data: Record<string, unknown>): void {
  if (data.plugins === null) delete data.plugins;
  if (!isObject(data.stages)) return;
  for (const stage of Object.values(data.stages)) {
    if (!isObject(stage)) continue;
    if (stage.with === null) delete stage.with;
    if (stage.needs === null) delete stage.needs;
  }
}

/** A sweep file `{ recipe: <path>, sweep: {...} }` rather than a recipe (docs/sweeps.md). */
export function isSweepFileData(
  data: unknown,
): data is Record<string, unknown> & { recipe: unknown } {
  return isObject(data) && 'recipe' in data && !('stages' in data);
}

/** First pass. Mutates `data` (defaults) and returns it typed. */
export function validateRecipeShape(
  data: unknown,
  yaml: ParsedYaml,
  overrides: readonly AppliedOverride[],
): RecipeDocument {
  if (!isObject(data)) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `a recipe is a mapping with 'version', 'stages', …; found ${describeValue(data)}`,
      {
        location: yaml.locate([]),
        hint: 'start from an example in recipes/, e.g. "version: 1" then "stages:" with one entry per stage',
      },
    );
  }
  if (isSweepFileData(data)) {
    const named =
      typeof data.recipe === 'string' ? `, such as the one it names (${data.recipe})` : '';
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      'this is a sweep file ({ recipe, sweep }), not a recipe',
      {
        location: yaml.locate([]),
        hint: `run it with \`scalpel sweep <file>\`; \`scalpel run\` and \`scalpel plan\` take a recipe${named}`,
      },
    );
  }
  // A clear message for the one mistake the schema would word poorly.
  const version = data.version;
  if (typeof version === 'number' && version !== supportedRecipeVersion) {
    const o = overrideFor(['version'], overrides);
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `unsupported recipe version ${version}: this scalpel reads version ${supportedRecipeVersion}${o !== undefined ? ` (value from --set ${o.raw})` : ''}`,
      {
        location: yaml.locate(['version']),
        hint:
          version > supportedRecipeVersion
            ? 'the recipe was written for a newer scalpel; upgrade scalpel or rewrite it for version 1'
            : 'write "version: 1"',
      },
    );
  }
  dropEmptyValues(data);
  const validate = recipeSchemaValidator();
  if (!validate(data)) {
    throw schemaError(validate.errors ?? [], { yaml, basePath: [], overrides });
  }
  const stages = data.stages as Record<string, Record<string, unknown>>;
  for (const stage of Object.values(stages)) {
    const needs = stage.needs;
    stage.needs = needs === undefined ? [] : typeof needs === 'string' ? [needs] : needs;
    stage.with ??= {};
  }
  return data as unknown as RecipeDocument;
}

/**
 * Second pass for one stage: `uses` must name a registered stage type and `with` must satisfy its
 * schema. Mutates `stage.with` (defaults).
 */
export function validateStageParams(
  registry: Registry,
  stageId: string,
  stage: StageDocument,
  yaml: ParsedYaml,
  overrides: readonly AppliedOverride[],
): void {
  if (!registry.has('stage', stage.uses)) {
    const path = ['stages', stageId, 'uses'];
    const o = overrideFor(path, overrides);
    throw new ScalpelError(
      ErrorCode.UnknownName,
      `stages.${stageId}.uses: unknown stage type '${stage.uses}'${o !== undefined ? ` (value from --set ${o.raw})` : ''}`,
      {
        location: yaml.locate(path),
        hint: `${suggestionHint(stage.uses, registry.stageNames(), 'stage type')}; \`scalpel stages\` lists them with their parameters`,
      },
    );
  }
  const validate = registry.validator('stage', stage.uses);
  if (!validate(stage.with)) {
    throw schemaError(validate.errors ?? [], {
      yaml,
      basePath: ['stages', stageId, 'with'],
      overrides,
      rootSchema: validate.schema,
    });
  }
}
