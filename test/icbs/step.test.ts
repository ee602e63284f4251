import { strict as assert } from 'node:assert';
import { asPrunable } from '../helpers/models.js';
import * as tf from '@tensorflow/tfjs-core';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import { GradientEngine } from '../../src/models/per-sample-gradients.js';
import { keepCount } from '../../src/pruning/select-mask.js';
import { exhaustive, sa } from '../../src/solvers/index.js';
import { initLayer } from '../../src/icbs/init-mask.js';
import type { LayerState } from '../../src/icbs/layer-state.js';
import { withDefaults, type IcbsParams } from '../../src/icbs/params.js';
import { runStep, type StepEnv } from '../../src/icbs/step.js';
import { Rng } from '../../src/util/rng.js';
import {
  asBatch,
  batchOf,
  mlp,
  referencePerSample,
  teacherDataset,
  trainSteps,
  useWasm,
} from './fixtures.js';
import { layersToPrune, noStats, quiet } from './prune-args.js';

function setup(model: PrunableModel, params: IcbsParams, density: number): LayerState[] {
  const rng = new Rng(9);
  return layersToPrune(model, density).map((layer) => {
    const s = initLayer(layer, params, noStats, rng.fork(layer.info.name));
    model.writeWeight(s.name, s.weights);
    return s;
  });
}

describe('icbs: one step', () => {
  before(useWasm);

  it('keeps densities exact, never touches frozen or tabu weights, kept weights exactly w0', async function () {
    this.timeout(30000);
    const model = mlp({ sizes: [20, 16, 8, 4] });
    const data = teacherDataset([20], 4);
    const train = data.splits.get('train')!;
    trainSteps(model, train, 5);
    const params = withDefaults({
      blockSize: 24,
      k: 10,
      tabuFraction: 0.3,
      fix: { prune: 0.3, keep: 0.3 },
      solver: { uses: 'sa', restarts: 2, workers: 0 },
    });
    const density = 0.3;
    const prunable = asPrunable(model);
    const states = setup(prunable, params, density);
    const engine = new GradientEngine(prunable);
    const env: StepEnv = {
      model: prunable,
      engine,
      params,
      solver: sa,
      solverParams: { restarts: 2, workers: 0 },
      signal: new AbortController().signal,
      log: quiet,
    };
    for (const s of states) {
      assert.equal(
        s.size - s.currentPrunedCount(),
        keepCount(density, s.size),
        `${s.name}: exact density after init`,
      );
    }
    const rng = new Rng(3);
    let changedSteps = 0;
    let tabuChecked = 0;
    for (let step = 1; step <= 18; step++) {
      const s = states[step % 3]!; // linear1 (320 weights), linear2 (128): tabu on; linear3 (32): taken whole
      const frozenBefore = Uint8Array.from(s.frozen);
      const prunedBefore = Uint8Array.from(s.pruned);
      const tabuBefore: number[] = [];
      for (let j = 0; j < s.size; j++) if (s.tabu.has(j)) tabuBefore.push(j);
      const { x, labels } = batchOf(train, (step * 32) % 224, 32);
      const rec = await runStep(
        env,
        s,
        asBatch(x, labels),
        { step, epoch: 0, solverSeed: step },
        rng,
      );
      tf.dispose([x, labels]);
      if (rec.changed) changedSteps++;
      assert.equal(
        s.size - s.currentPrunedCount(),
        keepCount(density, s.size),
        `${s.name}: exact density after step ${step}`,
      );
      for (let j = 0; j < s.size; j++) {
        if (frozenBefore[j] === 1)
          assert.equal(s.pruned[j], prunedBefore[j], `frozen weight ${j} changed`);
        assert.equal(
          s.weights[j],
          s.pruned[j] === 1 ? 0 : s.w0[j],
          `weight ${j} is exactly 0 or w0`,
        );
      }
      if (!rec.wholeLayer && rec.tabuEvicted === 0) {
        for (const j of tabuBefore)
          assert.equal(s.pruned[j], prunedBefore[j], `tabu weight ${j} changed`);
        tabuChecked += tabuBefore.length;
      }
      const kernel = prunable.readWeight(s.name);
      for (let j = 0; j < s.size; j++)
        assert.equal(kernel[j], s.weights[j], 'the model holds the current weights');
      assert.ok(rec.energyAfter <= rec.energyBefore + 1e-12);
      assert.ok(rec.blockSize <= params.blockSize || rec.wholeLayer);
    }
    assert.ok(
      states[2]!.tabu.capacity === 0,
      'tabu disabled where it would leave fewer than blockSize candidates',
    );
    assert.ok(states[0]!.tabu.capacity > 0 && tabuChecked > 0, 'tabu exercised on linear1');
    assert.ok(changedSteps > 0, 'some steps change the mask');
    model.dispose();
  });

  it('with the exhaustive solver picks the true minimum of the directly evaluated quadratic model', async function () {
    this.timeout(30000);
    const model = mlp({ sizes: [8, 4, 3] });
    const data = teacherDataset([8], 3);
    const train = data.splits.get('train')!;
    trainSteps(model, train, 10);
    const params = withDefaults({
      blockSize: 12,
      k: 6,
      tabuFraction: 0,
      fix: { prune: 0, keep: 0 },
      selection: 'magnitude',
      gradMultiplier: 0.75,
      ridgeMultiplier: 0.01,
      solver: { uses: 'exhaustive' },
    });
    const prunable = asPrunable(model);
    const states = setup(prunable, params, 0.5);
    const s = states[1]!; // linear2: 4×3 = 12 weights, whole layer in one block
    const engine = new GradientEngine(prunable);
    const env: StepEnv = {
      model: prunable,
      engine,
      params,
      solver: exhaustive,
      solverParams: {},
      signal: new AbortController().signal,
      log: quiet,
    };
    const N = 48;
    const { x, labels } = batchOf(train, 0, N);
    // Block = pruned indices ascending, then kept ascending (whole layer).
    const pruned: number[] = [];
    const kept: number[] = [];
    for (let j = 0; j < s.size; j++) (s.pruned[j] === 1 ? pruned : kept).push(j);
    const block = [...pruned, ...kept];
    const n = block.length;
    const k = pruned.length;
    // Reference g and fisher H at the current weights, from per-sample backward passes (float64).
    const rows = referencePerSample(model, 'linear2', x, labels).map((full) =>
      block.map((j) => full[j]!),
    );
    const g = block.map((_, b) => rows.reduce((a, r) => a + r[b]!, 0) / N);
    const H = (a: number, b: number): number => rows.reduce((acc, r) => acc + r[a]! * r[b]!, 0) / N;
    const w0 = block.map((j) => s.w0[j]!);
    const model2 = (xs: number[]): number => {
      // δ = new − current weights of the block.
      const delta = block.map((_, b) => (xs[b] === 1 ? 0 : w0[b]!) - (b < k ? 0 : w0[b]!));
      let lin = 0;
      let quad = 0;
      let ridge = 0;
      for (let a = 0; a < n; a++) {
        lin += g[a]! * delta[a]!;
        ridge += delta[a]! ** 2;
        for (let b = 0; b < n; b++) quad += delta[a]! * H(a, b) * delta[b]!;
      }
      return 0.75 * lin + 0.5 * quad + 0.01 * ridge;
    };
    let best = Infinity;
    let bestX: number[] = [];
    for (let mask = 0; mask < 1 << n; mask++) {
      let ones = 0;
      for (let b = 0; b < n; b++) ones += (mask >> b) & 1;
      if (ones !== k) continue;
      const xs = Array.from({ length: n }, (_, b) => (mask >> b) & 1);
      const v = model2(xs);
      if (v < best) {
        best = v;
        bestX = xs;
      }
    }
    const rec = await runStep(
      env,
      s,
      asBatch(x, labels),
      { step: 1, epoch: 0, solverSeed: 1 },
      new Rng(1),
    );
    tf.dispose([x, labels]);
    assert.ok(rec.wholeLayer);
    assert.equal(rec.blockSize, n);
    const chosen = block.map((j) => s.pruned[j]!);
    assert.deepEqual(chosen, bestX, 'the step applied the brute-force optimum');
    assert.ok(best < 0, 'the optimum improves on the current mask');
    // Predicted ΔL leaves the ridge out: model2 − λ‖δ‖².
    const delta = block.map((_, b) => (bestX[b] === 1 ? 0 : w0[b]!) - (b < k ? 0 : w0[b]!));
    const ridge = delta.reduce((a, d) => a + d * d, 0);
    assert.ok(
      Math.abs(rec.predictedDeltaL - (best - 0.01 * ridge)) <= 1e-5 * Math.abs(best) + 1e-9,
    );
    model.dispose();
  });
});
