// Recipe `vars:`: one value referenced from several stages as "${vars.name}", resolved after
// --set and before validation; the resolved recipe holds the substituted values; a reference to
// an undefined variable is an error at the reference's file:line:col.
import { strict as assert } from 'node:assert';
import { isScalpelError } from '../../src/errors.js';
import { loadRecipe } from '../../src/recipe/load-recipe.js';
import { registryWithFamilies } from '../helpers/models.js';
import { positionOf, writeRecipe } from './recipe-helpers.js';

const text = `version: 1
plugins: [PLUGIN]
vars:
  density: 0.25
  layers: { include: ["fc*"] }
  tag: mlp
stages:
  src: { uses: test-source, with: { path: "models/\${vars.tag}-\${vars.density}.json" } }
  a: { uses: test-prune, needs: [src], with: { density: "\${vars.density}", layers: "\${vars.layers}" } }
  b: { uses: test-prune, needs: [src], with: { density: "\${ vars.density }", method: random } }
  c: { uses: test-source, with: { path: "literal $\${vars.tag}" } }
`;

type Params = Record<string, unknown>;

async function load(recipeText: string, set: string[] = []) {
  return loadRecipe(writeRecipe(recipeText), { registry: registryWithFamilies(), set });
}

const paramsOf = (recipe: Awaited<ReturnType<typeof load>>, id: string): Params =>
  (recipe.stages.find((s) => s.id === id)?.params ?? {}) as Params;

describe('recipe vars', () => {
  it('a whole-value reference keeps the type; inside a string it is the text; $${ is literal', async () => {
    const recipe = await load(text);
    assert.equal(paramsOf(recipe, 'a').density, 0.25);
    assert.equal(paramsOf(recipe, 'b').density, 0.25);
    assert.deepEqual(paramsOf(recipe, 'a').layers, { include: ['fc*'], exclude: [] });
    assert.equal(paramsOf(recipe, 'src').path, 'models/mlp-0.25.json');
    assert.equal(paramsOf(recipe, 'c').path, 'literal ${vars.tag}');
  });

  it('--set vars.density changes every use, and the resolved recipe records the values', async () => {
    const recipe = await load(text, ['vars.density=0.5']);
    assert.equal(paramsOf(recipe, 'a').density, 0.5);
    assert.equal(paramsOf(recipe, 'b').density, 0.5);
    const resolved = recipe.resolved as {
      vars: Params;
      stages: Record<string, { with: Params }>;
    };
    assert.equal(resolved.stages.a?.with.density, 0.5);
    assert.equal(resolved.stages.src?.with.path, 'models/mlp-0.5.json');
    assert.equal(resolved.vars.density, 0.5);
    assert.ok(!JSON.stringify(resolved.stages).includes('${vars.density}'));
  });

  it('a substituted value is validated like a written one (located at the reference)', async () => {
    await assert.rejects(load(text, ['vars.density=1.5']), (e: unknown) => {
      assert.ok(isScalpelError(e));
      assert.equal(e.code, 'E_RECIPE_SCHEMA');
      assert.match(e.message, /stages\.a\.with\.density: .*found 1\.5/);
      const at = positionOf(text, '"${vars.density}"', 9);
      assert.deepEqual([e.location?.line, e.location?.col], [at.line, at.col]);
      return true;
    });
  });

  it('an undefined variable: E_RECIPE_SCHEMA at the reference, with the closest name', async () => {
    const typo = text.replace('"${ vars.density }"', '"${vars.densty}"');
    await assert.rejects(load(typo), (e: unknown) => {
      assert.ok(isScalpelError(e));
      assert.equal(e.code, 'E_RECIPE_SCHEMA');
      assert.match(e.message, /\$\{vars\.densty\}: no variable 'densty' in vars:/);
      assert.match(e.hint ?? '', /did you mean 'density'\?/);
      const at = positionOf(typo, '"${vars.densty}"');
      assert.deepEqual([e.location?.line, e.location?.col], [at.line, at.col]);
      return true;
    });
  });

  it('a recipe without vars: references are errors that say where to define them', async () => {
    const none = text.replace(/vars:\n(  .*\n)+/, '');
    await assert.rejects(load(none), (e: unknown) => {
      assert.ok(isScalpelError(e));
      assert.match(e.hint ?? '', /define it at the top of the recipe: vars: \{ tag: … \}/);
      return true;
    });
  });
});
