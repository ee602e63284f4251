// `layerDensities: owl` through the prune and icbs stages on a tiny MLP (20-16-8-4, each layer its
// own block) and a tiny GPT-2 (two blocks of four projections), with hand-made calibration norms:
// every layer keeps round(density_l · n_l) weights with density_l from a float64 reference written
// here from the OWL formulas; the densities are in the metrics, the model manifest and export's
// sparsity.json; bad combinations are errors.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { isScalpelError } from '../../src/errors.js';
import { createBuiltinRegistry } from '../../src/registry/builtins.js';
import type { Registry } from '../../src/registry/registry.js';
import { builtinFamilyLookup } from '../../src/models/families.js';
import { readModelArtifact, writeModelArtifact } from '../../src/models/model-artifact.js';
import type { SparsityManifest } from '../../src/models/sparsity-manifest.js';
import { writeDatasetArtifact } from '../../src/data/dataset-artifact.js';
import { writeCalibrationArtifact } from '../../src/pruning/calibration-artifact.js';
import type { LayerCalibration } from '../../src/plugin-api/calibration.js';
import type { PrunableLayerInfo } from '../../src/plugin-api/layers.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import type { Artifact, StageType } from '../../src/plugin-api/stage.js';
import { exportStage } from '../../src/stages/export.js';
import { icbsStage } from '../../src/stages/icbs.js';
import { pruneSchemaFor, pruneStage } from '../../src/stages/prune.js';
import { Rng } from '../../src/util/rng.js';
import { asPrunable } from '../helpers/models.js';
import { tempDir } from '../helpers/paths.js';
import { artifactFrom, runStage } from '../helpers/stage-context.js';
import { mlp, teacherDataset, useWasm } from '../icbs/fixtures.js';
import { tinyGpt2 } from '../eval/fixtures.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

interface RefLayer {
  info: PrunableLayerInfo;
  weights: Float32Array;
  norms: Float32Array;
}

/** OWL in float64; blocks by `info.block` (tfjs-layers operators carry none: a block per layer). */
function referenceDensities(
  layers: readonly RefLayer[],
  target: number,
  M: number,
  lambda: number,
): { blocks: string[]; ratios: number[]; densities: number[]; perLayer: number[] } {
  const blocks = [...new Set(layers.map((l) => l.info.block ?? l.info.name))];
  const scoresOf = (block: string): number[] => {
    const scores: number[] = [];
    for (const { info, weights, norms } of layers) {
      if ((info.block ?? info.name) !== block) continue;
      for (let i = 0; i < info.fanIn; i++)
        for (let o = 0; o < info.units; o++)
          scores.push(Math.abs(weights[i * info.units + o] as number) * (norms[i] as number));
    }
    return scores;
  };
  const n = blocks.map((b) => scoresOf(b).length);
  const ratios = blocks.map((b) => {
    const scores = scoresOf(b);
    const mean = scores.reduce((a, x) => a + x, 0) / scores.length;
    return scores.filter((x) => x > M * mean).length / scores.length;
  });
  const lo = Math.min(...ratios);
  const hi = Math.max(...ratios);
  const scaled = ratios.map((d) => (hi > lo ? ((d - lo) / (hi - lo)) * 2 * lambda : 0));
  const total = n.reduce((a, b) => a + b, 0);
  const mean = scaled.reduce((a, x, i) => a + x * (n[i] as number), 0) / total;
  const densities = scaled.map((x) => x - mean + target);
  const perLayer = layers.map(
    (l) => densities[blocks.indexOf(l.info.block ?? l.info.name)] as number,
  );
  return { blocks, ratios, densities, perLayer };
}

/** Heavy-tailed input norms (a few large features), as activation outliers make them. */
function refLayers(model: PrunableModel, seed: number): RefLayer[] {
  const rng = new Rng(seed);
  return model.operators.map((info) => ({
    info,
    weights: model.readWeight(info.name),
    norms: Float32Array.from({ length: info.fanIn }, () => Math.exp(1.5 * rng.normal())),
  }));
}

async function writeCalibration(dir: string, layers: readonly RefLayer[], skip?: string) {
  const cal = new Map<string, LayerCalibration>(
    layers.map((l) => [
      l.info.name,
      l.info.name === skip ? { rows: 64 } : { rows: 64, inputNorms: l.norms },
    ]),
  );
  await writeCalibrationArtifact(dir, { samples: 64, sampleIds: [], split: 'train', layers: cal });
  return artifactFrom('calibration', dir, { stageId: 'calibrate' });
}

const round = (d: number, n: number): number => Math.floor(d * n + 0.5);

function keptOf(mask: Uint8Array): number {
  let k = 0;
  for (const v of mask) k += v;
  return k;
}

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isScalpelError(e), String(e));
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

describe('owl: layerDensities in the prune and icbs stages', function () {
  this.timeout(60000);
  let registry: Registry;
  let prune: StageType;
  let model: Artifact;
  let dataset: Artifact;
  let calibration: Artifact;
  let partialCalibration: Artifact;
  let ref: RefLayer[];

  before(async () => {
    await useWasm();
    registry = await createBuiltinRegistry();
    prune = { ...(pruneStage as StageType), schema: pruneSchemaFor(registry) };
    const root = tempDir('scalpel-owl-');
    const tfModel = mlp();
    const prunable = asPrunable(tfModel);
    ref = refLayers(prunable, 21);
    await writeModelArtifact(join(root, 'model'), prunable, builtinFamilyLookup);
    tfModel.dispose();
    await writeDatasetArtifact(join(root, 'data'), teacherDataset([20], 4, 64, 32));
    model = artifactFrom('model', join(root, 'model'));
    dataset = artifactFrom('dataset', join(root, 'data'));
    calibration = await writeCalibration(join(root, 'cal'), ref);
    partialCalibration = await writeCalibration(join(root, 'cal-partial'), ref, 'linear3');
  });

  it('the premise: three layers, each its own block, with different outlier ratios at M = 3', () => {
    assert.deepEqual(
      ref.map((l) => [l.info.name, l.info.block]),
      [
        ['linear1', undefined],
        ['linear2', undefined],
        ['linear3', undefined],
      ],
    );
    assert.equal(new Set(referenceDensities(ref, 0.5, 3, 0.1).ratios).size, 3);
  });

  for (const [method, extra] of [
    ['magnitude', {}],
    ['wanda', { granularity: 'layer' }],
    ['wanda', { granularity: 'per-output' }],
  ] as const) {
    it(`${method} ${JSON.stringify(extra)}: each layer keeps round(density_l·n_l) of the OWL reference`, async () => {
      const tensors = tf.memory().numTensors;
      const { result, artifact } = await runStage(
        prune,
        { method, density: 0.5, layerDensities: { method: 'owl', M: 3, lambda: 0.1 }, ...extra },
        { inputs: [model, calibration], registry },
      );
      assert.equal(tf.memory().numTensors, tensors, 'no tensors leaked');
      const want = referenceDensities(ref, 0.5, 3, 0.1);
      const masks = (await readModelArtifact(artifact, registry)).masks;
      ref.forEach((l, i) => {
        const d = want.perLayer[i] as number;
        const kept = keptOf(masks.get(l.info.name) as Uint8Array);
        const expected =
          extra.granularity === 'per-output'
            ? l.info.units * round(d, l.info.fanIn) // every output unit keeps its share
            : round(d, l.weights.length);
        assert.equal(kept, expected, l.info.name);
      });
      // Metrics: method, M, lambda and per block the outlier ratio and density.
      const info = result.metrics?.layerDensities as {
        method: string;
        M: number;
        lambda: number;
        blocks: { block: string; outlierRatio: number; density: number }[];
      };
      assert.equal(info.method, 'owl');
      assert.equal(info.M, 3);
      assert.equal(info.lambda, 0.1);
      assert.deepEqual(
        info.blocks.map((b) => b.block),
        ref.map((l) => l.info.name),
      );
      assert.deepEqual(
        info.blocks.map((b) => b.outlierRatio),
        want.ratios,
      );
      expectArraysClose(
        info.blocks.map((b) => b.density),
        want.densities,
        1e-12,
        'densities',
      );
      assert.equal(result.metrics?.targetDensity, 0.5);
    });
  }

  it('a transformer: the projections of a block share its density; the plain mean is the target', async () => {
    const gpt2 = tinyGpt2(5);
    const layers = refLayers(gpt2, 31);
    const root = tempDir('scalpel-owl-gpt2-');
    const manifest = await writeModelArtifact(join(root, 'model'), gpt2, builtinFamilyLookup);
    gpt2.dispose();
    const { result, artifact } = await runStage(
      prune,
      { method: 'magnitude', density: 0.5, layerDensities: { method: 'owl', M: 3, lambda: 0.1 } },
      {
        inputs: [
          artifactFrom('model', join(root, 'model'), { manifest }),
          await writeCalibration(join(root, 'cal'), layers),
        ],
        registry,
      },
    );
    const want = referenceDensities(layers, 0.5, 3, 0.1);
    assert.deepEqual(want.blocks, ['h.0', 'h.1']);
    assert.notEqual(want.ratios[0], want.ratios[1], 'the blocks differ in outliers');
    // Two equal-sized blocks: target ± λ.
    assert.ok(Math.abs(Math.abs((want.densities[0] as number) - 0.5) - 0.1) < 1e-12);
    const masks = (await readModelArtifact(artifact, registry)).masks;
    layers.forEach((l, i) => {
      const kept = keptOf(masks.get(l.info.name) as Uint8Array);
      assert.equal(kept, round(want.perLayer[i] as number, l.weights.length), l.info.name);
    });
    const info = result.metrics?.layerDensities as { blocks: { block: string; density: number }[] };
    assert.deepEqual(
      info.blocks.map((b) => b.block),
      ['h.0', 'h.1'],
    );
  });

  it('the model manifest and export sparsity.json record the per-layer target densities', async () => {
    const pruned = await runStage(
      prune,
      { method: 'magnitude', density: 0.4, layerDensities: 'owl' },
      { inputs: [model, calibration], registry },
    );
    const want = referenceDensities(ref, 0.4, 5, 0.08); // the defaults M = 5, λ = 0.08
    const record = (pruned.result.manifest?.pruning as { layerDensities: unknown })
      .layerDensities as {
      method: string;
      M: number;
      lambda: number;
      layers: Record<string, number>;
    };
    assert.equal(record.method, 'owl');
    assert.equal(record.M, 5);
    assert.equal(record.lambda, 0.08);
    assert.deepEqual(Object.keys(record.layers), ['linear1', 'linear2', 'linear3']);

    const exported = await runStage(exportStage, {}, { inputs: [pruned.artifact], registry });
    const sparsity = JSON.parse(
      await fs.readFile(join(exported.ctx.outDir, 'sparsity.json'), 'utf8'),
    ) as SparsityManifest;
    assert.deepEqual(sparsity.layerDensities, { method: 'owl', M: 5, lambda: 0.08 });
    ref.forEach((l, i) => {
      const d = want.perLayer[i] as number;
      const entry = sparsity.layers.find((e) => e.name === l.info.name);
      assert.ok(Math.abs((record.layers[l.info.name] as number) - d) < 1e-12);
      assert.ok(Math.abs((entry?.targetDensity as number) - d) < 1e-12, l.info.name);
      assert.equal(entry?.maskDensity, round(d, l.weights.length) / l.weights.length);
    });
  });

  it('uniform (explicit) is the default behaviour: no per-layer record', async () => {
    const { result } = await runStage(
      prune,
      { method: 'magnitude', density: 0.5, layerDensities: 'uniform' },
      { inputs: [model], registry },
    );
    const layers = result.metrics?.layers as Record<string, { kept: number; size: number }>;
    for (const l of ref) assert.equal(layers[l.info.name]?.kept, round(0.5, l.weights.length));
    assert.equal(result.metrics?.layerDensities, undefined);
    assert.equal((result.manifest?.pruning as Record<string, unknown>).layerDensities, undefined);
  });

  it('iCBS honours the OWL densities: its initial mask and steps keep each layer’s exact count', async () => {
    const params = {
      density: 0.3,
      layerDensities: { method: 'owl', M: 3, lambda: 0.1 },
      blockSize: 32,
      k: 12,
      steps: 3,
      epochs: 1,
      batchSize: 32,
      evaluateOn: { split: 'test', samples: 32 },
      solver: { uses: 'sa', restarts: 2, workers: 0 },
    };
    const { result, artifact } = await runStage(icbsStage, params, {
      inputs: [model, dataset, calibration],
      seed: 3,
      registry,
    });
    const want = referenceDensities(ref, 0.3, 3, 0.1);
    const masks = (await readModelArtifact(artifact, registry)).masks;
    ref.forEach((l, i) => {
      const kept = keptOf(masks.get(l.info.name) as Uint8Array);
      assert.equal(kept, round(want.perLayer[i] as number, l.weights.length), l.info.name);
    });
    assert.equal((result.metrics?.icbs as { steps: number }).steps, 3);
    assert.ok(result.metrics?.layerDensities !== undefined);
  });

  it('owl requires a calibration input, even for pruners that read none (inputsFor)', () => {
    const calibrationInput = (inputs: ReturnType<NonNullable<StageType['inputsFor']>>) =>
      inputs?.find((i) => i.kind === 'calibration');
    const owl = { density: 0.5, layerDensities: 'owl' };
    for (const method of ['magnitude', 'icbs']) {
      const c = calibrationInput(pruneStage.inputsFor?.({ method, ...owl }, registry));
      assert.equal(c?.optional, undefined, method);
      assert.equal(c?.reason, 'layerDensities: owl reads the input norms');
    }
    const wanda = calibrationInput(pruneStage.inputsFor?.({ method: 'wanda', ...owl }, registry));
    assert.match(wanda?.reason ?? '', /pruner 'wanda' reads input norms; layerDensities: owl/);
    const plain = calibrationInput(pruneStage.inputsFor?.({ method: 'magnitude' }, registry));
    assert.equal(plain?.optional, true);
    const icbs = calibrationInput(icbsStage.inputsFor?.(owl, registry));
    assert.equal(icbs?.reason, 'layerDensities: owl reads the input norms');
    assert.equal(calibrationInput(icbsStage.inputsFor?.({ density: 0.5 }, registry)), undefined);
  });

  it('the schema takes owl, { method: owl, M, lambda } and uniform, and rejects the rest', async () => {
    for (const bad of [
      'foo',
      { method: 'owl', lambda: 0.7 },
      { method: 'owl', M: 0 },
      { method: 'owl', m: 5 },
    ]) {
      await rejectsWith(
        runStage(
          prune,
          { method: 'magnitude', density: 0.5, layerDensities: bad },
          { inputs: [model], registry },
        ),
        'E_RECIPE_SCHEMA',
        /invalid/,
      );
    }
  });

  it('bad combinations and inputs are errors naming the stage, layer or block', async () => {
    const run = (params: Record<string, unknown>, inputs = [model, calibration]) =>
      runStage(prune, { method: 'magnitude', ...params }, { inputs, registry, stageId: 'p' });
    await rejectsWith(
      run({ pattern: { keep: 2, of: 4 }, layerDensities: 'owl' }),
      'E_RECIPE_SCHEMA',
      /stages\.p\.with\.layerDensities: owl cannot be combined with an N:M pattern/,
    );
    await rejectsWith(
      run({ density: 0.5, layers: { density: { linear2: 0.3 } }, layerDensities: 'owl' }),
      'E_RECIPE_SCHEMA',
      /owl cannot be combined with per-layer densities in layers\.density/,
    );
    await rejectsWith(
      run({ density: 0.5, granularity: 'global', layerDensities: 'owl' }),
      'E_RECIPE_SCHEMA',
      /owl cannot be combined with granularity: global/,
    );
    // λ = 0.5 spreads the densities over 1.0: at a target of 0.95 the top block passes 1.
    const high = referenceDensities(ref, 0.95, 3, 0.5);
    const first = high.densities.findIndex((d) => d < 0 || d > 1);
    assert.ok(first >= 0);
    await rejectsWith(
      run({ density: 0.95, layerDensities: { method: 'owl', M: 3, lambda: 0.5 } }),
      'E_RECIPE_SCHEMA',
      new RegExp(
        `stage 'p': layerDensities: owl gives block '${ref[first]?.info.name}' the density ${(high.densities[first] as number).toFixed(4)}`,
      ),
    );
    await rejectsWith(
      run({ density: 0.5, layerDensities: 'owl' }, [model]),
      'E_GRAPH',
      /stage 'p': layerDensities: owl reads the input norms, but no stage in `needs` produces a 'calibration'/,
    );
    await rejectsWith(
      run({ density: 0.5, layerDensities: 'owl' }, [model, partialCalibration]),
      'E_STAGE',
      /calibration from stage 'calibrate' has no input norms for layer 'linear3', which layerDensities: owl needs/,
    );
  });
});
