// iCBS N:M mode, one block: the block is whole 2:4 groups, and the group-constrained block QUBO
// solved by each group-capable solver gives the optimum of a brute force over every feasible
// per-group choice, written here independently (the quadratic model γgᵀδ + ½δᵀHδ + λ‖δ‖²
// evaluated directly in float64, δ from the weights, no QUBO code).
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { asPrunable } from '../../helpers/models.js';
import { GradientEngine } from '../../../src/models/per-sample-gradients.js';
import { exhaustive, sa } from '../../../src/solvers/index.js';
import type { QuboSolver } from '../../../src/plugin-api/solver.js';
import type { LayerToPrune } from '../../../src/plugin-api/pruner.js';
import { initLayer } from '../../../src/icbs/init-mask.js';
import { selectGroupBlock } from '../../../src/icbs/group-selection.js';
import { buildBlockQubo, firstKPruned, scaleQubo } from '../../../src/icbs/qubo.js';
import { withDefaults } from '../../../src/icbs/params.js';
import { runStep, type StepEnv } from '../../../src/icbs/step.js';
import { Rng } from '../../../src/util/rng.js';
import {
  asBatch,
  batchOf,
  mlp,
  referencePerSample,
  teacherDataset,
  trainSteps,
  useWasm,
} from '../fixtures.js';
import { layersToPrune, noStats, quiet } from '../prune-args.js';

const pattern = { keep: 2, of: 4 };

/** Kernel indices of every 2:4 group of a [fanIn, units] kernel (rows 4r…4r+3 of unit o). */
function groupsOf(fanIn: number, units: number): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < fanIn / 4; r++)
    for (let o = 0; o < units; o++) out.push([0, 1, 2, 3].map((t) => (4 * r + t) * units + o));
  return out;
}

/** The 6 ways to prune 2 of 4. */
const pairs: [number, number][] = [
  [0, 1],
  [0, 2],
  [0, 3],
  [1, 2],
  [1, 3],
  [2, 3],
];

/**
 * Minimum over every layer mask that prunes exactly 2 of each group of `objective(pruned)`
 * (pruned: 1 = pruned, per kernel index). Returns the best pruned vector.
 */
function bruteForce(
  size: number,
  groups: number[][],
  objective: (pruned: Uint8Array) => number,
): { best: number; pruned: Uint8Array; feasible: number } {
  let best = Infinity;
  let bestP = new Uint8Array(size);
  let feasible = 0;
  const digits = new Array<number>(groups.length).fill(0);
  for (;;) {
    const p = new Uint8Array(size);
    groups.forEach((g, t) => {
      const [a, b] = pairs[digits[t] as number] as [number, number];
      p[g[a] as number] = 1;
      p[g[b] as number] = 1;
    });
    const v = objective(p);
    feasible++;
    if (v < best) {
      best = v;
      bestP = p;
    }
    let t = 0;
    while (t < digits.length && (digits[t] = (digits[t] as number) + 1) === 6) digits[t++] = 0;
    if (t === digits.length) break;
  }
  return { best, pruned: bestP, feasible };
}

/** γgᵀδ + ½δᵀHδ + λ‖δ‖² for a layer-wide decision, g and H over all `size` weights. */
function quadraticModel(
  w0: ArrayLike<number>,
  current: Uint8Array,
  next: Uint8Array,
  g: ArrayLike<number>,
  H: (a: number, b: number) => number,
  gamma: number,
  lambda: number,
): number {
  const n = w0.length;
  const delta = Array.from(
    { length: n },
    (_, j) => (next[j] === 1 ? 0 : (w0[j] as number)) - (current[j] === 1 ? 0 : (w0[j] as number)),
  );
  let lin = 0;
  let quad = 0;
  let ridge = 0;
  for (let a = 0; a < n; a++) {
    const da = delta[a] as number;
    if (da === 0) continue;
    lin += (g[a] as number) * da;
    ridge += da * da;
    for (let b = 0; b < n; b++) quad += da * H(a, b) * (delta[b] as number);
  }
  return gamma * lin + 0.5 * quad + lambda * ridge;
}

function tinyLayer(fanIn: number, units: number, rng: Rng): LayerToPrune {
  const weights = Float32Array.from({ length: fanIn * units }, () => rng.normal() * 0.5);
  return {
    info: {
      name: 'tiny',
      kind: 'dense',
      kernelShape: [fanIn, units],
      fanIn,
      units,
      paramCount: fanIn * units,
    },
    weights,
    density: 0.5,
  } as LayerToPrune;
}

describe('icbs N:M: one block', () => {
  before(useWasm);

  const solvers: [string, QuboSolver, Record<string, unknown>][] = [
    ['exhaustive', exhaustive, {}],
    ['sa in-process', sa, { restarts: 4, workers: 0 }],
    ['sa on a worker thread', sa, { restarts: 4, workers: 1 }],
  ];
  after(async () => sa.close());

  for (const [label, solver, solverParams] of solvers) {
    it(`${label}: the group-constrained block optimum equals the brute force over per-group choices`, async function () {
      this.timeout(30000);
      const gamma = 0.75;
      const lambda = 0.01;
      let moved = 0;
      let constraintBinds = 0;
      for (let trial = 0; trial < 4; trial++) {
        const rng = new Rng(100 + trial);
        const layer = tinyLayer(8, 2, rng); // 4 groups of 4 → 6⁴ = 1296 feasible masks
        const params = withDefaults({
          pattern,
          blockSize: 16,
          tabuFraction: 0,
          fix: { prune: 0, keep: 0 },
          init: { method: 'random', granularity: 'layer' },
        });
        const state = initLayer(layer, params, noStats, rng.fork('init'));
        const block = selectGroupBlock(state, undefined, 16, pattern, rng.fork('select'));
        const n = block.indices.length;
        assert.equal(n, 16, 'the whole layer is one block');
        assert.equal(block.k, 8);
        // g and a PSD H = GᵀG/N over the whole layer, in float64.
        const size = 16;
        const gFull = Float64Array.from({ length: size }, () => rng.normal() * 0.05);
        const G = Array.from({ length: 5 }, () => Array.from({ length: size }, () => rng.normal()));
        const H = (a: number, b: number): number =>
          G.reduce((s, r) => s + (r[a] as number) * (r[b] as number), 0) / G.length;

        // The solver's answer for the block QUBO.
        const idx = Array.from(block.indices);
        const w0B = Float32Array.from(idx, (j) => state.w0[j] as number);
        const HB = new Float64Array(n * n);
        for (let a = 0; a < n; a++)
          for (let b = 0; b < n; b++) HB[a * n + b] = H(idx[a] as number, idx[b] as number);
        const current = firstKPruned(n, block.k);
        const qubo = buildBlockQubo({
          w0: w0B,
          pruned: current,
          g: Float64Array.from(idx, (j) => gFull[j] as number),
          H: HB,
          gamma,
          lambda,
        });
        const scaled = scaleQubo(qubo.Q);
        const result = await solver.solve(
          { n, k: block.k, Q: scaled.Q, initial: current, groups: block.groups },
          solverParams,
          { seed: trial + 1 },
        );
        const chosen = Uint8Array.from(state.pruned);
        idx.forEach((j, b) => (chosen[j] = result.x[b] as number));

        const ref = bruteForce(size, groupsOf(8, 2), (p) =>
          quadraticModel(state.w0, state.pruned, p, gFull, H, gamma, lambda),
        );
        assert.equal(ref.feasible, 1296);
        assert.deepEqual(chosen, ref.pruned, `trial ${trial}: the brute-force optimum`);
        for (const g of groupsOf(8, 2))
          assert.equal(g.filter((j) => chosen[j] === 0).length, 2, 'every group keeps 2');
        if (!ref.pruned.every((v, j) => v === state.pruned[j])) moved++;
        // Without the groups (one cardinality for the block) the optimum may leave N:M.
        const free = await exhaustive.solve({ n, k: block.k, Q: scaled.Q }, {}, { seed: 1 });
        if (free.energy < result.energy - 1e-6) constraintBinds++;
      }
      assert.ok(moved > 0, 'the optimum differs from the initial mask in some trial');
      assert.ok(constraintBinds > 0, 'the group constraint excludes a better unstructured state');
    });
  }

  it('a step on a real layer applies the brute-force optimum of the per-sample Fisher model', async function () {
    this.timeout(30000);
    const model = mlp({ sizes: [8, 4, 3] });
    const data = teacherDataset([8], 3);
    const train = data.splits.get('train')!;
    trainSteps(model, train, 10);
    const gamma = 0.75;
    const lambda = 0.01;
    const params = withDefaults({
      pattern,
      blockSize: 12,
      tabuFraction: 0,
      fix: { prune: 0, keep: 0 },
      selection: 'gradient',
      gradMultiplier: gamma,
      ridgeMultiplier: lambda,
      solver: { uses: 'sa', restarts: 4, workers: 0 },
    });
    const prunable = asPrunable(model);
    const rng = new Rng(9);
    const states = layersToPrune(prunable, 0.5).map((layer) => {
      const s = initLayer(layer, params, noStats, rng.fork(layer.info.name));
      prunable.writeWeight(s.name, s.weights);
      return s;
    });
    const s = states[1]!; // linear2: 4×3 kernel, 3 groups of 4 → 6³ feasible masks
    const env: StepEnv = {
      model: prunable,
      engine: new GradientEngine(prunable),
      params,
      solver: sa,
      solverParams: { restarts: 4, workers: 0 },
      signal: new AbortController().signal,
      log: quiet,
    };
    const N = 48;
    const { x, labels } = batchOf(train, 0, N);
    // Reference g and Fisher H at the current weights from per-sample backward passes.
    const rows = referencePerSample(model, 'linear2', x, labels);
    const g = Array.from({ length: s.size }, (_, j) => rows.reduce((a, r) => a + r[j]!, 0) / N);
    const H = (a: number, b: number): number => rows.reduce((acc, r) => acc + r[a]! * r[b]!, 0) / N;
    const before = Uint8Array.from(s.pruned);
    const ref = bruteForce(s.size, groupsOf(4, 3), (p) =>
      quadraticModel(s.w0, before, p, g, H, gamma, lambda),
    );
    assert.equal(ref.feasible, 216);
    const rec = await runStep(
      env,
      s,
      asBatch(x, labels),
      { step: 1, epoch: 0, solverSeed: 1 },
      new Rng(1),
    );
    tf.dispose([x, labels]);
    assert.ok(rec.wholeLayer);
    assert.equal(rec.blockSize, 12);
    assert.deepEqual(s.pruned, ref.pruned, 'the step applied the brute-force optimum');
    assert.ok(ref.best < 0, 'the optimum improves on the initial N:M mask');
    assert.ok(rec.changed);
    model.dispose();
  });
});
