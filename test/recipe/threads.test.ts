// The recipe's top-level `threads:` (auto | N): default, values, --set and the threads option,
// and the errors for values that are not a thread count.
import { strict as assert } from 'node:assert';
import { ScalpelError } from '../../src/errors.js';
import { loadRecipe } from '../../src/recipe/load-recipe.js';
import { registryWithFamilies } from '../helpers/models.js';
import { goodRecipe } from './recipe-helpers.js';

describe('recipe threads', function () {
  const registry = registryWithFamilies();

  it('defaults to auto (every core) and records it in the resolved recipe', async () => {
    const recipe = await loadRecipe(goodRecipe, { registry });
    assert.equal(recipe.threads, 'auto');
    assert.equal(recipe.resolved.threads, 'auto');
  });

  it('takes a count or auto from the file (--set) and the threads option over both', async () => {
    const two = await loadRecipe(goodRecipe, { set: ['threads=2'], registry });
    assert.equal(two.threads, 2);
    const auto = await loadRecipe(goodRecipe, { set: ['threads=auto'], registry });
    assert.equal(auto.threads, 'auto');
    const forced = await loadRecipe(goodRecipe, { set: ['threads=2'], threads: 1, registry });
    assert.equal(forced.threads, 1);
    assert.equal(forced.resolved.threads, 1);
  });

  for (const bad of ['0', '-1', '1.5', 'many', '[2]']) {
    it(`rejects threads: ${bad} as a schema error naming the field`, async () => {
      await assert.rejects(loadRecipe(goodRecipe, { set: [`threads=${bad}`], registry }), (e) => {
        assert.ok(e instanceof ScalpelError);
        assert.equal(e.code, 'E_RECIPE_SCHEMA');
        assert.match(e.message, /threads/);
        return true;
      });
    });
  }
});
