// iCBS N:M mode end to end, through `uses: prune` (method: icbs) and `uses: icbs`: the masks keep
// exactly 2 of every 4 consecutive input weights of each output unit (counted here), the prune
// stage's N:M check accepts them, the run starts from the magnitude 2:4 mask (computed here) and
// the training loss under the final masks is not above the loss under that initial mask
// (evaluated here with a plain forward); every step's QUBO energy goes down or stays. Bad inputs:
// a pattern that contradicts density, a fan-in not divisible by 4, a solver without group
// constraints (at validate time from the schema, and from the pruner for direct callers).
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { builtinFamilyLookup } from '../../../src/models/families.js';
import { writeModelArtifact, readModelArtifact } from '../../../src/models/model-artifact.js';
import { writeDatasetArtifact } from '../../../src/data/dataset-artifact.js';
import type { Dataset } from '../../../src/data/types.js';
import { meanLoss } from '../../../src/models/loss.js';
import { icbsStage } from '../../../src/stages/icbs.js';
import { pruneStage, pruneSchemaFor } from '../../../src/stages/prune.js';
import { createBuiltinRegistry, builtinRegistry } from '../../../src/registry/builtins.js';
import { icbsPruner } from '../../../src/icbs/pruner.js';
import {
  icbsPrunerSchema,
  icbsPrunerSchemaFor,
  icbsStageSchema,
} from '../../../src/icbs/schema.js';
import { compileSchema } from '../../../src/util/ajv-instance.js';
import { validateRecipe } from '../../../src/recipe/load-recipe.js';
import { ErrorCode, ScalpelError, isScalpelError } from '../../../src/errors.js';
import { exhaustive } from '../../../src/solvers/exhaustive.js';
import type { RegistryView } from '../../../src/plugin-api/registry-view.js';
import type { StageType } from '../../../src/plugin-api/stage.js';
import type { Mask } from '../../../src/plugin-api/layers.js';
import { asPrunable, outputKindOf } from '../../helpers/models.js';
import { artifactFrom, runStage } from '../../helpers/stage-context.js';
import { repoRoot, tempDir } from '../../helpers/paths.js';
import { batchOf, mlp, teacherDataset, trainSteps, useWasm } from '../fixtures.js';
import { pruneArgs } from '../prune-args.js';

const pattern = { keep: 2, of: 4 };
const small = {
  pattern,
  init: { method: 'magnitude', granularity: 'layer' },
  selection: 'gradient',
  blockSize: 32,
  steps: 12,
  epochs: 1,
  batchSize: 64,
  solver: { uses: 'sa', restarts: 2, workers: 0 },
};

/** Kept weights of every 4-row group of every output unit of a [fanIn, units] mask. */
function groupCounts(mask: Mask, fanIn: number, units: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < fanIn; r += 4)
    for (let o = 0; o < units; o++) {
      let c = 0;
      for (let t = 0; t < 4; t++) c += mask[(r + t) * units + o] as number;
      out.push(c);
    }
  return out;
}

/** The magnitude 2:4 mask: the two largest |w| of each group kept. */
function magnitude24(w: Float32Array, fanIn: number, units: number): Uint8Array {
  const mask = new Uint8Array(w.length);
  for (let r = 0; r < fanIn; r += 4)
    for (let o = 0; o < units; o++) {
      const idx = [0, 1, 2, 3].map((t) => (r + t) * units + o);
      idx.sort((a, b) => Math.abs(w[b] as number) - Math.abs(w[a] as number) || a - b);
      for (const j of idx.slice(0, 2)) mask[j] = 1;
    }
  return mask;
}

/** Mean loss on the whole train split with the kernels masked by `masks`. */
function lossUnder(model: tfl.LayersModel, data: Dataset, masks: Map<string, Mask>): number {
  const p = asPrunable(model);
  const dense = new Map([...masks.keys()].map((n) => [n, p.readWeight(n)]));
  for (const [n, m] of masks)
    p.writeWeight(
      n,
      (dense.get(n) as Float32Array).map((v, j) => (m[j] === 1 ? v : 0)),
    );
  const split = data.splits.get('train')!;
  const { x, labels } = batchOf(split, 0, split.count);
  const loss = tf.tidy(
    () => meanLoss(model.apply(x) as tf.Tensor, labels, outputKindOf(model)).dataSync()[0],
  ) as number;
  tf.dispose([x, labels]);
  for (const [n, w] of dense) p.writeWeight(n, w);
  return loss;
}

async function artifacts(sizes: number[]) {
  const data = teacherDataset([sizes[0] as number], 4);
  const model = mlp({ sizes });
  trainSteps(model, data.splits.get('train')!, 20);
  const root = tempDir('scalpel-icbs-nm-');
  await writeModelArtifact(join(root, 'model'), asPrunable(model), builtinFamilyLookup);
  await writeDatasetArtifact(join(root, 'data'), data);
  const inputs = [
    artifactFrom('model', join(root, 'model')),
    artifactFrom('dataset', join(root, 'data')),
  ];
  return { data, model, inputs };
}

describe('icbs N:M: a whole prune', () => {
  before(useWasm);

  it('masks keep 2 of every 4, start from magnitude 2:4 and do not raise the training loss', async function () {
    this.timeout(60000);
    const { data, model, inputs } = await artifacts([20, 16, 8, 4]);
    const registry = await createBuiltinRegistry();
    const prune = { ...pruneStage, schema: pruneSchemaFor(registry) } as unknown as StageType<
      Record<string, unknown>
    >;
    const tensors = tf.memory().numTensors;
    const a = await runStage(prune, { method: 'icbs', ...small }, { inputs, seed: 3, registry });
    const b = await runStage(icbsStage, small, { inputs, seed: 3, registry });
    assert.equal(tf.memory().numTensors, tensors, 'no tensors left behind');

    const masks = (await readModelArtifact(a.ctx.outDir, builtinFamilyLookup)).masks;
    const masksB = (await readModelArtifact(b.ctx.outDir, builtinFamilyLookup)).masks;
    const p = asPrunable(model);
    const init = new Map<string, Mask>();
    let changed = 0;
    for (const info of p.operators) {
      const mask = masks.get(info.name)!;
      assert.deepEqual(mask, masksB.get(info.name), `${info.name}: same masks via uses: icbs`);
      const counts = groupCounts(mask, info.fanIn, info.units);
      assert.ok(counts.length > 0 && counts.every((c) => c === 2), `${info.name}: 2 of every 4`);
      const m0 = magnitude24(p.readWeight(info.name), info.fanIn, info.units);
      init.set(info.name, m0);
      changed += mask.reduce((s, v, j) => s + (v !== m0[j] ? 1 : 0), 0);
    }
    const icbs = a.result.metrics?.icbs as { weightsChangedSinceInit: number; steps: number };
    assert.equal(a.result.metrics?.density, 0.5, 'density keep/of without a density parameter');
    assert.equal(a.result.metrics?.pattern, '2:4', 'the metrics name the pattern');
    assert.equal(b.result.metrics?.targetDensity, 0.5, 'uses: icbs fills no density default');
    assert.equal(icbs.steps, 12);
    assert.equal(changed, icbs.weightsChangedSinceInit, 'the run started from magnitude 2:4');
    assert.ok(changed > 0, 'the steps moved weights');

    const steps = a.ctx.events.filter((e) => e.type === 'icbs.step').map((e) => e.data);
    assert.ok(steps.every((s) => (s.energyAfter as number) <= (s.energyBefore as number) + 1e-12));
    assert.ok(steps.every((s) => (s.predictedDeltaL as number) <= 1e-12));
    const lossInit = lossUnder(model, data, init);
    const lossFinal = lossUnder(model, data, masks);
    assert.ok(
      lossFinal <= lossInit,
      `training loss ${lossFinal} under the final masks ≤ ${lossInit} under the initial`,
    );
    model.dispose();
  });

  it('rejects a density that contradicts the pattern, and a fan-in not divisible by 4', async function () {
    this.timeout(30000);
    const registry = await createBuiltinRegistry();
    const prune = { ...pruneStage, schema: pruneSchemaFor(registry) } as unknown as StageType<
      Record<string, unknown>
    >;
    const ok = await artifacts([20, 16, 8, 4]);
    for (const [stage, params] of [
      [prune, { method: 'icbs', ...small, density: 0.3 }],
      [icbsStage, { ...small, density: 0.3 }],
    ] as const) {
      await assert.rejects(
        runStage(stage as StageType<Record<string, unknown>>, params, {
          inputs: ok.inputs,
          registry,
        }),
        (e: unknown) =>
          e instanceof ScalpelError &&
          e.code === ErrorCode.RecipeSchema &&
          /density 0\.3 contradicts pattern 2:4/.test(e.message),
      );
    }
    ok.model.dispose();

    const bad = await artifacts([20, 6, 4]); // linear2 has fan-in 6
    await assert.rejects(
      runStage(prune, { method: 'icbs', ...small }, { inputs: bad.inputs, registry }),
      (e: unknown) =>
        e instanceof ScalpelError &&
        e.code === ErrorCode.RecipeSchema &&
        /fan-in divisible by 4.*'linear2' has fan-in 6/.test(e.message),
    );
    // A direct caller gets the same error before any statistics or steps.
    const args = pruneArgs(bad.model, bad.data, small as never, { density: 0.5 });
    await assert.rejects(
      icbsPruner.prune(args),
      (e: unknown) => e instanceof ScalpelError && /'linear2' has fan-in 6/.test(e.message),
    );
    bad.model.dispose();
  });

  it('refuses a solver without group constraints at validate time and before running', async function () {
    this.timeout(60000);
    const external = { uses: 'external', command: 'cat {file}' };
    for (const schema of [icbsPrunerSchema(), icbsStageSchema()]) {
      const validate = compileSchema(schema);
      assert.equal(validate({ pattern, solver: structuredClone(external) }), false);
      assert.equal(validate({ pattern, solver: { uses: 'sa' } }), true);
      // exhaustive also has a block limit (24 variables), so its blockSize must be written
      assert.equal(validate({ pattern, blockSize: 16, solver: { uses: 'exhaustive' } }), true);
      assert.equal(validate({ solver: structuredClone(external) }), true, 'unstructured: fine');
    }
    // Plugin solvers: only those that declare groupConstraints.
    const registry = (await builtinRegistry()).clone();
    const { groupConstraints: _, ...plain } = exhaustive;
    registry.registerAll(
      {
        solvers: [
          { ...plain, name: 'plain' },
          { ...exhaustive, name: 'grouped' },
        ],
      },
      'my-plugin',
    );
    const validate = compileSchema(icbsPrunerSchemaFor(registry));
    assert.equal(validate({ pattern, solver: { uses: 'plain' } }), false);
    assert.equal(validate({ pattern, blockSize: 16, solver: { uses: 'grouped' } }), true);

    // In a recipe: a located schema error at the solver's name.
    await assert.rejects(
      validateRecipe(join(repoRoot, 'recipes', 'lm-compare.yaml'), {
        set: [
          'stages.icbs.with.pattern={keep: 2, of: 4}',
          'stages.icbs.with.solver={uses: external, command: "cat {file}"}',
        ],
      }),
      (e: unknown) => {
        assert.ok(isScalpelError(e));
        assert.equal(e.code, ErrorCode.RecipeSchema);
        assert.match(
          e.format(),
          /stages\.icbs\.with\.solver\.uses: expected one of 'exhaustive', 'sa'|stages\.icbs\.with\.solver\.uses: expected one of 'sa', 'exhaustive'/,
        );
        // the hint says why (not a typo of a solver name)
        assert.match(e.format(), /with pattern \(N:M\), a solver that keeps per-group counts/);
        return true;
      },
    );
    const { recipe } = await validateRecipe(join(repoRoot, 'recipes', 'lm-compare.yaml'), {
      set: ['stages.icbs.with.pattern={keep: 2, of: 4}', 'stages.icbs.with.density=0.5'],
    });
    assert.deepEqual(recipe.stages.find((s) => s.id === 'icbs')?.params.pattern, pattern);

    // A direct caller (no schema): a clear error naming the solver and what to use instead.
    const data = teacherDataset([20], 4);
    const model = mlp();
    const view = {
      solver: (name: string) => registry.solver(name),
      solverNames: () => registry.solverNames(),
    } as unknown as RegistryView;
    const args = {
      ...pruneArgs(model, data, { ...small, solver: { uses: 'plain' } } as never, {
        density: 0.5,
      }),
      registry: view,
    };
    await assert.rejects(
      icbsPruner.prune(args),
      (e: unknown) =>
        e instanceof ScalpelError &&
        e.code === ErrorCode.RecipeSchema &&
        /solver 'plain' cannot keep the N:M groups of pattern 2:4/.test(e.message) &&
        /'sa'/.test(e.hint ?? '') &&
        /'grouped'/.test(e.hint ?? ''),
    );
    model.dispose();
  });
});
