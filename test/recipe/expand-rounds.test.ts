// `repeat:` rounds: a stage expands before validation into one prune stage per density with an
// optional fine-tune and evaluation, chained so that each round prunes the previous round's
// model; ids, needs, params, the resolved recipe, hashes (an appended round leaves the earlier
// ones' hashes alone) and located errors for bad constructs.
import { strict as assert } from 'node:assert';
import { isScalpelError, type ScalpelError } from '../../src/errors.js';
import { loadRecipe, validateRecipe } from '../../src/recipe/load-recipe.js';
import { planResolved } from '../../src/engine/plan.js';
import { registryWithFamilies } from '../helpers/models.js';
import { tempDir } from '../helpers/paths.js';
import { positionOf, writeRecipe } from './recipe-helpers.js';

const recipeText = (densities: string, extra = ''): string => `version: 1
plugins: [PLUGIN]
stages:
  model: { uses: test-source }
  data: { uses: test-data }
  rounds:
    uses: test-prune
    needs: [model, data]
    with: { method: random }
    repeat:
      densities: ${densities}
      finetune: { uses: test-prune, needs: [data], with: { density: 1, steps: 3 } }
      evaluate: { uses: test-eval, needs: [data] }
  after: { uses: test-eval, needs: [rounds] }
${extra}`;

async function load(text: string, set: string[] = []) {
  return loadRecipe(writeRecipe(text), { registry: registryWithFamilies(), set });
}

async function loadError(text: string): Promise<ScalpelError> {
  try {
    await validateRecipe(writeRecipe(text), { registry: registryWithFamilies() });
  } catch (e) {
    if (isScalpelError(e)) return e;
    throw e;
  }
  assert.fail('expected the recipe to be rejected');
}

describe('recipe repeat: rounds', () => {
  it('expands into prune / finetune / evaluate per density, chained round to round', async () => {
    const recipe = await load(recipeText('[0.5, 0.3, 0.2]'));
    const stages = new Map(recipe.stages.map((s) => [s.id, s]));
    assert.deepEqual(
      recipe.stages.map((s) => s.id),
      [
        'model',
        'data',
        'rounds@0.5',
        'rounds-finetune@0.5',
        'rounds-evaluate@0.5',
        'rounds@0.3',
        'rounds-finetune@0.3',
        'rounds-evaluate@0.3',
        'rounds@0.2',
        'rounds-finetune@0.2',
        'rounds-evaluate@0.2',
        'after',
      ],
    );
    const needs = (id: string) => stages.get(id)?.needs;
    assert.deepEqual(needs('rounds@0.5'), ['model', 'data']);
    assert.deepEqual(needs('rounds-finetune@0.5'), ['rounds@0.5', 'data']);
    assert.deepEqual(needs('rounds-evaluate@0.5'), ['rounds-finetune@0.5', 'data']);
    assert.deepEqual(needs('rounds@0.3'), ['rounds-finetune@0.5', 'data']);
    assert.deepEqual(needs('rounds@0.2'), ['rounds-finetune@0.3', 'data']);
    // A stage that needs the repeated stage reads its last round's model.
    assert.deepEqual(needs('after'), ['rounds-finetune@0.2']);
    // Each round's params: the stage's own, validated (defaults), with that round's density.
    for (const d of [0.5, 0.3, 0.2]) {
      const p = stages.get(`rounds@${d}`)?.params;
      assert.equal(p?.density, d);
      assert.equal(p?.method, 'random');
      assert.equal(p?.blockSize, 1024, 'defaults filled as for a written stage');
      assert.equal(stages.get(`rounds-finetune@${d}`)?.params.steps, 3);
    }
    // The resolved recipe (recipe.resolved.yaml) records the expansion, not the construct.
    const resolved = recipe.resolved.stages as Record<string, Record<string, unknown>>;
    assert.equal(resolved.rounds, undefined);
    assert.deepEqual(resolved['rounds@0.3']?.needs, ['rounds-finetune@0.5', 'data']);
    assert.match(String(resolved['rounds@0.3']?.description), /round 2 of 3 of 'rounds'/);
  });

  it('names steps by their own id when given, so a single schedule reads prune@0.3, finetune@0.3', async () => {
    const recipe = await load(`version: 1
plugins: [PLUGIN]
stages:
  model: { uses: test-source }
  data: { uses: test-data }
  prune:
    uses: test-prune
    needs: [model, data]
    repeat:
      densities: [0.5, 0.3]
      finetune: { id: finetune, uses: test-prune, needs: [data], with: { density: 1 } }
`);
    assert.deepEqual(
      recipe.stages.map((s) => s.id),
      ['model', 'data', 'prune@0.5', 'finetune@0.5', 'prune@0.3', 'finetune@0.3'],
    );
  });

  it('overrides reach every round (--set on the construct)', async () => {
    const recipe = await load(recipeText('[0.5, 0.3]'), [
      'stages.rounds.with.method=gradient',
      'stages.rounds.repeat.densities=[0.4, 0.1]',
    ]);
    const ids = recipe.stages.map((s) => s.id);
    assert.ok(ids.includes('rounds@0.4') && ids.includes('rounds@0.1'));
    for (const s of recipe.stages.filter((x) => x.id.startsWith('rounds@')))
      assert.equal(s.params.method, 'gradient');
  });

  it('appending a round leaves the hashes of the earlier rounds unchanged', async () => {
    const cwd = tempDir('scalpel-rounds-plan-');
    const two = await planResolved(await load(recipeText('[0.5, 0.3]')), { cwd });
    const three = await planResolved(await load(recipeText('[0.5, 0.3, 0.2]')), { cwd });
    const hashes = (p: typeof two) => new Map(p.nodes.map((n) => [n.id, n.hash]));
    const [h2, h3] = [hashes(two), hashes(three)];
    // What `scalpel plan` lists: the expanded stages in order.
    assert.deepEqual(
      three.nodes.map((n) => n.id).filter((id) => id.includes('@0.2')),
      ['rounds@0.2', 'rounds-finetune@0.2', 'rounds-evaluate@0.2'],
    );
    for (const id of [
      'rounds@0.5',
      'rounds-finetune@0.5',
      'rounds-evaluate@0.5',
      'rounds@0.3',
      'rounds-finetune@0.3',
      'rounds-evaluate@0.3',
    ]) {
      assert.ok(h2.get(id) !== undefined);
      assert.equal(h3.get(id), h2.get(id), id);
    }
    assert.ok(h3.has('rounds@0.2') && !h2.has('rounds@0.2'));
    // `after` reads the last round, which changed.
    assert.notEqual(h3.get('after'), h2.get('after'));
  });

  describe('errors point at the construct', () => {
    const expectAt = (e: ScalpelError, text: string, token: string, fromLine = 1): void => {
      const at = positionOf(text, token, fromLine);
      assert.equal(e.location?.line, at.line, e.format());
      assert.equal(e.location?.col, at.col, e.format());
    };

    it('densities that do not decrease', async () => {
      const text = recipeText('[0.5, 0.3, 0.3]');
      const e = await loadError(text);
      assert.equal(e.code, 'E_RECIPE_SCHEMA');
      assert.match(
        e.message,
        /stages\.rounds\.repeat\.densities\.2: 0\.3 does not decrease from 0\.3/,
      );
      assert.match(e.hint ?? '', /largest to the smallest/);
      const line = positionOf(text, 'densities:').line;
      assert.equal(e.location?.line, line);
      assert.equal(e.location?.col, (text.split('\n')[line - 1]?.lastIndexOf('0.3') ?? 0) + 1);
    });

    it('a density out of (0, 1]', async () => {
      for (const bad of ['0', '1.5', '-0.1']) {
        const text = recipeText(`[0.5, ${bad}]`);
        const e = await loadError(text);
        assert.equal(e.code, 'E_RECIPE_SCHEMA');
        assert.match(e.message, /stages\.rounds\.repeat\.densities\.1/);
        expectAt(e, text, `${bad}]`, positionOf(text, 'densities:').line);
      }
    });

    it('an unknown key in repeat, with a suggestion', async () => {
      const text = recipeText('[0.5]').replace('      evaluate:', '      evalute:');
      const e = await loadError(text);
      assert.equal(e.code, 'E_RECIPE_SCHEMA');
      assert.match(e.message, /unknown key 'evalute'/);
      assert.match(e.hint ?? '', /evaluate/);
      expectAt(e, text, 'evalute');
    });

    it('an empty density list, with.density next to repeat, and no model to start from', async () => {
      const empty = await loadError(recipeText('[]'));
      assert.match(empty.message, /stages\.rounds\.repeat\.densities/);
      const both = recipeText('[0.5]').replace(
        'with: { method: random }',
        'with: { method: random, density: 0.2 }',
      );
      const e = await loadError(both);
      assert.match(
        e.message,
        /stages\.rounds\.with\.density: a repeated stage takes its densities/,
      );
      expectAt(e, both, '0.2');
      const none = recipeText('[0.5]').replace('    needs: [model, data]\n    with', '    with');
      const n = await loadError(none);
      assert.match(n.message, /needs the model its first round prunes/);
    });

    it('a schema error inside a round points at the repeated stage', async () => {
      const text = recipeText('[0.5]').replace(
        'with: { method: random }',
        'with: { method: randm }',
      );
      const e = await loadError(text);
      assert.equal(e.code, 'E_RECIPE_SCHEMA');
      expectAt(e, text, 'randm');
      const ft = recipeText('[0.5]').replace('steps: 3', 'steps: 0');
      const f = await loadError(ft);
      expectAt(f, ft, '0 }', positionOf(ft, 'finetune:').line);
    });

    it('a round named like another stage', async () => {
      const text = recipeText('[0.5]', '  rounds-finetune@0.5: { uses: test-source }\n');
      const e = await loadError(text);
      assert.match(e.message, /both named 'rounds-finetune@0\.5'/);
    });
  });
});
