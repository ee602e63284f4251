// A stage's fingerprint: extra hash material that its params alone do not capture (the sha256
// of a model file it reads). Computed by plan, and by validateRecipe so that a missing or
// unreadable file is a recipe error before anything runs.
import { ScalpelError } from '../errors.js';
import type { ResolvedRecipe, ResolvedStage } from './types.js';
import { wrapStageError } from '../registry/stage-error.js';
import { resolveRecipePath } from './resolve-recipe-path.js';

/**
 * The stage's extra hash material (e.g. the sha256 of the model file it reads). Reading a
 * missing or wrong file fails here, before anything runs: the error points at the stage's
 * `with:` in the recipe.
 */
export async function stageFingerprint(
  recipe: ResolvedRecipe,
  stage: ResolvedStage,
): Promise<unknown> {
  const type = stage.type;
  const origin = recipe.registry.has('stage', stage.uses)
    ? recipe.registry.originOf('stage', stage.uses)
    : undefined;
  if (type.fingerprint === undefined) return undefined;
  try {
    return await type.fingerprint(stage.params, {
      recipeDir: recipe.dir,
      resolvePath: (p: string) => resolveRecipePath(recipe.dir, p),
      registry: recipe.registry,
    });
  } catch (e) {
    const err = wrapStageError(e, {
      stageId: stage.id,
      stageType: `${stage.uses} fingerprint`,
      plugin: origin === 'builtin' ? undefined : origin,
    });
    if (err.location !== undefined) throw err;
    throw new ScalpelError(err.code, err.message, {
      location: recipe.locate(`stages.${stage.id}.with`),
      stageId: stage.id,
      ...(err.plugin !== undefined ? { plugin: err.plugin } : {}),
      ...(err.hint !== undefined ? { hint: err.hint } : {}),
      ...(err.layer !== undefined ? { layer: err.layer } : {}),
      exitCode: err.exitCode,
      cause: err,
    });
  }
}
