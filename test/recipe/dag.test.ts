import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildDag } from '../../src/recipe/dag.js';
import type { ResolvedRecipe, ResolvedStage } from '../../src/recipe/types.js';
import type { StageType } from '../../src/plugin-api/stage.js';
import { Registry } from '../../src/registry/registry.js';
import { ScalpelError } from '../../src/errors.js';
import { loadRecipe } from '../../src/recipe/load-recipe.js';
import { positionOf, writeRecipe } from './recipe-helpers.js';

const plainType: StageType = {
  name: 'plain',
  version: '1',
  description: 'd',
  output: 'metrics',
  schema: { type: 'object' },
  run: async () => ({ kind: 'metrics' }),
};

/** A ResolvedRecipe without a file (locate returns no position). */
function recipeOf(needs: Record<string, string[]>): ResolvedRecipe {
  const stages: ResolvedStage[] = Object.entries(needs).map(([id, n]) => ({
    id,
    uses: 'plain',
    needs: n,
    params: {},
    type: plainType,
  }));
  return {
    file: '/r.yaml',
    dir: '/',
    name: 'r',
    version: 1,
    seed: 0,
    backend: 'cpu',
    plugins: [],
    stages,
    sweep: undefined,
    resolved: {},
    registry: new Registry(),
    locate: () => ({ file: '/r.yaml' }),
  };
}

function graphError(fn: () => unknown): ScalpelError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ScalpelError);
    assert.equal(e.code, 'E_GRAPH');
    return e;
  }
  assert.fail('expected E_GRAPH');
}

describe('DAG', function () {
  it('orders dependencies first, ties by file order', function () {
    const dag = buildDag(
      recipeOf({
        eval: ['prune', 'data'],
        data: [],
        model: [],
        prune: ['model', 'data'],
        report: [],
      }),
    );
    assert.deepEqual(
      dag.order.map((n) => n.id),
      ['data', 'model', 'prune', 'eval', 'report'],
    );
    assert.deepEqual(dag.node('data').dependents, ['eval', 'prune']);
    assert.deepEqual(
      dag.roots.map((n) => n.id),
      ['data', 'model', 'report'],
    );
    assert.deepEqual(
      dag.leaves.map((n) => n.id),
      ['eval', 'report'],
    );
    assert.deepEqual(
      dag.ancestorsOf('prune').map((n) => n.id),
      ['data', 'model', 'prune'],
    );
  });

  it('matches an independent reference order on random DAGs', function () {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: 1, maxLength: 12 }),
        (raw) => {
          // Stage i may need only stages j < i (acyclic), then ids are shuffled into file order by reversing.
          const ids = raw.map((_, i) => `s${i}`);
          const needs: Record<string, string[]> = {};
          raw.forEach((ns, i) => {
            needs[`s${i}`] = i === 0 ? [] : [...new Set(ns.map((n) => `s${n % i}`))];
          });
          const fileOrder = [...ids].reverse();
          const recipe = recipeOf(Object.fromEntries(fileOrder.map((id) => [id, needs[id] ?? []])));
          const got = buildDag(recipe).order.map((n) => n.id);
          // Reference: repeatedly take the first stage in file order whose needs are all placed.
          const placed: string[] = [];
          while (placed.length < fileOrder.length) {
            const next = fileOrder.find(
              (id) => !placed.includes(id) && (needs[id] ?? []).every((n) => placed.includes(n)),
            );
            assert.ok(next !== undefined);
            placed.push(next);
          }
          assert.deepEqual(got, placed);
        },
      ),
      { numRuns: 200, seed: 42 },
    );
  });

  it('rejects missing needs, self-needs, duplicates and cycles', function () {
    assert.match(graphError(() => buildDag(recipeOf({ a: ['b'] }))).message, /no stage 'b'/);
    assert.match(graphError(() => buildDag(recipeOf({ a: ['a'] }))).message, /needs itself/);
    assert.match(graphError(() => buildDag(recipeOf({ a: [], b: ['a', 'a'] }))).message, /twice/);
    assert.match(
      graphError(() => buildDag(recipeOf({ a: ['b'], b: ['a'] }))).message,
      /cycle: a → b → a/,
    );
    assert.match(
      graphError(() => buildDag(recipeOf({ x: [], a: ['c'], b: ['a'], c: ['b', 'x'] }))).message,
      /cycle: a → c → b → a/,
    );
    assert.match(graphError(() => buildDag(recipeOf({}))).message, /no stages/);
  });

  it('points at the offending needs entry in the file, and checks input kinds', async function () {
    const text = `version: 1
plugins: [PLUGIN]
stages:
  model: { uses: test-source }
  data: { uses: test-data }
  more: { uses: test-source }
  prune:
    uses: test-prune
    needs: [model, data, more]
    with: { density: 0.5 }
`;
    const file = writeRecipe(text);
    const recipe = await loadRecipe(file, { registry: new Registry() });
    const e = graphError(() => buildDag(recipe));
    assert.match(e.message, /takes one input of kind 'model', but its needs give 2: model, more/);
    assert.deepEqual(
      [e.location?.line, e.location?.col],
      [positionOf(text, '[model').line, positionOf(text, '[model').col],
    );

    const cyclicText = text.replace(
      '  model: { uses: test-source }',
      '  model: { uses: test-source, needs: [prune] }',
    );
    const cyclicRecipe = await loadRecipe(writeRecipe(cyclicText), { registry: new Registry() });
    const c = graphError(() => buildDag(cyclicRecipe));
    assert.match(c.message, /cycle: model → prune → model/);
    // The `needs` entry of `model` that closes the cycle.
    assert.deepEqual(
      [c.location?.line, c.location?.col],
      [4, positionOf(cyclicText, 'prune]').col],
    );
  });
});
