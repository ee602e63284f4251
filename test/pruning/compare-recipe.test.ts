// recipes/compare-one-shot.yaml validates against the real registry (baselines loaded through
// the plugin loader), pruner defaults are filled in, and a bad pruner parameter is reported at its
// line, naming the pruner.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { validateRecipe } from '../../src/recipe/load-recipe.js';
import { isScalpelError } from '../../src/errors.js';
import { repoRoot } from '../helpers/paths.js';

const file = join(repoRoot, 'recipes', 'compare-one-shot.yaml');

describe('recipes/compare-one-shot.yaml', function () {
  this.timeout(60000);
  it('validates; every method shares one calibration; pruner defaults are filled in', async () => {
    const { recipe } = await validateRecipe(file);
    const prunes = recipe.stages.filter((s) => s.uses === 'prune');
    assert.deepEqual(prunes.map((s) => s.params.method).sort(), [
      'gradient',
      'icbs',
      'magnitude',
      'random',
      'sparsegpt',
      'wanda',
    ]);
    assert.ok(prunes.every((s) => s.params.density === 0.1));
    assert.equal(recipe.stages.filter((s) => s.uses === 'calibrate').length, 1);
    const sg = prunes.find((s) => s.params.method === 'sparsegpt');
    assert.equal(sg?.params.percdamp, 0.01);
    assert.equal(sg?.params.blocksize, 128);
    assert.deepEqual(sg?.params.layers, { include: ['*'], exclude: [], density: {} });
  });

  it('one --set vars.density=0.3 sets the density of all six methods', async () => {
    const { recipe } = await validateRecipe(file, { set: ['vars.density=0.3'] });
    const densities = recipe.stages.filter((s) => s.uses === 'prune').map((s) => s.params.density);
    assert.deepEqual(densities, [0.3, 0.3, 0.3, 0.3, 0.3, 0.3]);
  });

  it('an invalid pruner parameter names the pruner and the line', async () => {
    await assert.rejects(
      validateRecipe(file, { set: ['stages.prune-wanda.with.granularity=global'] }),
      (e: unknown) => {
        assert.ok(isScalpelError(e));
        assert.match(
          e.format(),
          /compare-one-shot\.yaml:\d+:\d+: E_RECIPE_SCHEMA: stages\.prune-wanda\.with\.granularity: .*\(pruner 'wanda'\)/,
        );
        return true;
      },
    );
  });
});
