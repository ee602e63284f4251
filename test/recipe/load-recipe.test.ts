import assert from 'node:assert/strict';
import { registryWithFamilies } from '../helpers/models.js';
import { dirname } from 'node:path';
import { loadRecipe, validateRecipe } from '../../src/recipe/load-recipe.js';
import { builtinRegistry } from '../../src/registry/builtins.js';
import { ScalpelError } from '../../src/errors.js';
import { goodRecipe, writeRecipe } from './recipe-helpers.js';

describe('loadRecipe', function () {
  // Stage types come from the recipe's plugin; most tests start from an empty registry.
  const registry = registryWithFamilies();
  it('resolves a valid recipe: defaults filled, needs normalised, stages in file order', async function () {
    const { recipe, dag } = await validateRecipe(goodRecipe, { registry });
    assert.equal(recipe.file, goodRecipe);
    assert.equal(recipe.dir, dirname(goodRecipe));
    assert.equal(recipe.name, 'test-pipeline');
    assert.equal(recipe.seed, 7);
    assert.equal(recipe.backend, 'auto');
    assert.deepEqual(
      recipe.stages.map((s) => s.id),
      ['model', 'data', 'prune', 'eval', 'report'],
    );
    // Values from test/fixtures/plugins/test-stages.js defaults, written out by hand.
    assert.deepEqual(recipe.resolved.stages, {
      model: { uses: 'test-source', needs: [], with: { value: 3 } },
      data: { uses: 'test-data', needs: [], with: { size: 20, split: 'test' } },
      prune: {
        uses: 'test-prune',
        needs: ['model', 'data'],
        with: {
          density: 0.5,
          blockSize: 64,
          steps: 10,
          method: 'magnitude',
          layers: { include: ['dense*'], exclude: [] },
          k: 'auto',
          solver: { uses: 'sa', restarts: 2 },
        },
      },
      eval: {
        uses: 'test-eval',
        needs: ['prune', 'data'],
        with: { metrics: ['accuracy', 'loss'] },
      },
      report: { uses: 'test-eval', needs: ['model'], with: { metrics: ['accuracy'] } },
    });
    assert.deepEqual(
      dag.order.map((n) => n.id),
      ['model', 'data', 'prune', 'eval', 'report'],
    );
    assert.equal(recipe.stages[2]?.type.name, 'test-prune');
    assert.equal(recipe.registry.originOf('stage', 'test-prune'), '../plugins/test-stages.js');
  });

  it("does not add a recipe's plugins to the shared built-in registry", async function () {
    const base = await builtinRegistry();
    const recipe = await loadRecipe(goodRecipe);
    assert.equal(recipe.registry.has('stage', 'test-source'), true);
    for (const name of base.stageNames()) assert.ok(recipe.registry.has('stage', name), name);
    assert.equal((await builtinRegistry()).has('stage', 'test-source'), false);
  });

  it('applies --set before validation, and the backend option', async function () {
    const recipe = await loadRecipe(goodRecipe, {
      set: ['stages.prune.with.density=0.2', 'stages.eval.with.metrics=[loss]', 'seed=11'],
      backend: 'cpu',
      registry,
    });
    assert.equal(recipe.stages[2]?.params.density, 0.2);
    assert.deepEqual(recipe.stages[3]?.params.metrics, ['loss']);
    assert.equal(recipe.seed, 11);
    assert.equal(recipe.backend, 'cpu');
    assert.equal(recipe.resolved.backend, 'cpu');
  });

  it('defaults the name to the file name and accepts empty `with:` / `needs:`', async function () {
    const file = writeRecipe(
      'version: 1\nplugins: [PLUGIN]\nstages:\n  a:\n    uses: test-source\n    with:\n    needs:\n',
      'my recipe.yaml',
    );
    const recipe = await loadRecipe(file, { registry });
    assert.equal(recipe.name, 'my-recipe');
    assert.deepEqual(recipe.stages[0]?.params, { value: 1 });
    assert.deepEqual(recipe.stages[0]?.needs, []);
  });

  it('keeps `resolved` independent of the params objects stages receive', async function () {
    const recipe = await loadRecipe(goodRecipe, { registry });
    (recipe.stages[0]?.params as Record<string, unknown>).value = 99;
    assert.deepEqual((recipe.resolved.stages as Record<string, { with: unknown }>).model?.with, {
      value: 3,
    });
  });

  it('locates dotted paths in the file', async function () {
    const recipe = await loadRecipe(goodRecipe, { registry });
    assert.deepEqual(recipe.locate('stages.prune.needs.1'), {
      file: goodRecipe,
      line: 14,
      col: 20,
    });
  });

  it('reports the --set that caused a schema error', async function () {
    await assert.rejects(
      loadRecipe(goodRecipe, { set: ['stages.prune.with.blockSize=-1'], registry }),
      (e: unknown) => {
        assert.ok(e instanceof ScalpelError);
        assert.equal(e.code, 'E_RECIPE_SCHEMA');
        assert.match(
          e.message,
          /stages\.prune\.with\.blockSize: expected integer ≥ 1, found -1 .*\(value from --set stages\.prune\.with\.blockSize=-1\)/,
        );
        return true;
      },
    );
  });
});
