import { strict as assert } from 'node:assert';
import { asPrunable } from '../helpers/models.js';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { GradientEngine } from '../../src/models/per-sample-gradients.js';
import {
  exactCurvature,
  fisherCurvature,
  gradientMeanCurvature,
} from '../../src/models/block-hessian.js';
import {
  asBatch,
  batchOf,
  mlp,
  referencePerSample,
  teacherDataset,
  trainSteps,
  useWasm,
} from './fixtures.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

interface DenseF64 {
  name: string;
  W: Float64Array;
  b: Float64Array;
  inDim: number;
  outDim: number;
  relu: boolean;
}

/** The MLP's weights in float64, for an independent float64 forward pass. */
function weightsF64(model: tfl.LayersModel): DenseF64[] {
  return model.layers.map((l, i) => {
    const [k, b] = l.getWeights();
    return {
      name: l.name,
      W: Float64Array.from(k!.dataSync()),
      b: Float64Array.from(b!.dataSync()),
      inDim: k!.shape[0]!,
      outDim: k!.shape[1]!,
      relu: i < model.layers.length - 1,
    };
  });
}

/** Mean cross-entropy (logits head) in float64. */
function lossF64(layers: DenseF64[], x: Float32Array, y: Int32Array, N: number): number {
  let total = 0;
  for (let s = 0; s < N; s++) {
    let h: Float64Array = Float64Array.from(
      x.subarray(s * layers[0]!.inDim, (s + 1) * layers[0]!.inDim),
    );
    for (const L of layers) {
      const z = new Float64Array(L.outDim);
      for (let o = 0; o < L.outDim; o++) {
        let v = L.b[o]!;
        for (let i = 0; i < L.inDim; i++) v += h[i]! * L.W[i * L.outDim + o]!;
        z[o] = L.relu ? Math.max(0, v) : v;
      }
      h = z;
    }
    const m = Math.max(...h);
    let se = 0;
    for (const v of h) se += Math.exp(v - m);
    total += -(h[y[s]!]! - m - Math.log(se));
  }
  return total / N;
}

describe('icbs: block Hessians', () => {
  before(useWasm);

  for (const head of ['linear', 'softmax'] as const)
    it(`exact Hessian matches float64 finite differences of the loss (${head} head)`, function () {
      this.timeout(20000);
      const model = mlp({ head });
      const data = teacherDataset([20], 4);
      const train = data.splits.get('train')!;
      trainSteps(model, train, 5);
      const N = 32;
      const { x, labels } = batchOf(train, 0, N);
      const engine = new GradientEngine(asPrunable(model));
      const f64 = weightsF64(model);
      const xs = train.x.subarray(0, N * 20);
      const ys = train.y.subarray(0, N);
      for (const [li, name] of ['linear1', 'linear2', 'linear3'].entries()) {
        const size = f64[li]!.W.length;
        const block = Int32Array.from([3, 17, size - 1, Math.floor(size / 2), 40 % size, 5]);
        const n = block.length;
        const { g, H } = exactCurvature(engine, asBatch(x, labels), name, block);
        const h = 1e-4;
        const W = f64[li]!.W;
        const at = (di: number, dj: number, i: number, j: number): number => {
          const bi = block[i]!;
          const bj = block[j]!;
          const oi = W[bi]!;
          const oj = W[bj]!;
          W[bi] = oi + di;
          W[bj] = W[bj]! + dj;
          const v = lossF64(f64, xs, ys, N);
          W[bi] = oi;
          W[bj] = oj;
          return v;
        };
        let scale = 0;
        const Hfd = new Float64Array(n * n);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            Hfd[i * n + j] =
              (at(h, h, i, j) - at(h, -h, i, j) - at(-h, h, i, j) + at(-h, -h, i, j)) / (4 * h * h);
            scale = Math.max(scale, Math.abs(Hfd[i * n + j]!));
          }
        }
        assert.ok(scale > 1e-6, `${name}: the Hessian block is not trivially zero`);
        expectArraysClose(H, Hfd, 2e-3 * scale + 1e-6, `${name}: H vs finite differences`);
        // g by central differences too.
        for (let i = 0; i < n; i++) {
          const gfd = (at(h, 0, i, i) - at(-h, 0, i, i)) / (2 * h);
          assert.ok(
            Math.abs(g[i]! - gfd) <= 1e-4 * Math.max(1e-3, Math.abs(gfd)) + 1e-6,
            `${name} g[${i}]`,
          );
        }
      }
      tf.dispose([x, labels]);
      model.dispose();
    });

  it('fisher equals (1/N) GᵀG of independently computed per-sample gradients; gradient-mean equals g gᵀ', () => {
    const model = mlp();
    const data = teacherDataset([20], 4);
    const train = data.splits.get('train')!;
    trainSteps(model, train, 5);
    const N = 20;
    const { x, labels } = batchOf(train, 0, N);
    const engine = new GradientEngine(asPrunable(model));
    const block = Int32Array.from([0, 9, 33, 64, 100, 127]);
    const grads = engine.compute(asBatch(x, labels), ['linear2']);
    const G = grads.get('linear2')!.blockGradients(block);
    const fisher = fisherCurvature(G);
    const rank1 = gradientMeanCurvature(G);
    grads.get('linear2')!.dispose();
    // Reference rows: one backward pass per sample through model.apply, block entries gathered.
    const rows = referencePerSample(model, 'linear2', x, labels).map((full) =>
      Float64Array.from(block, (j) => full[j]!),
    );
    const n = block.length;
    const g = Array.from({ length: n }, (_, i) => rows.reduce((s, r) => s + r[i]!, 0) / N);
    const fisherH = new Float64Array(n * n);
    const outerG = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let v = 0;
        for (const r of rows) v += r[i]! * r[j]!;
        fisherH[i * n + j] = v / N;
        outerG[i * n + j] = g[i]! * g[j]!;
      }
    const scale = Math.max(...fisherH.map(Math.abs));
    expectArraysClose(fisher.g, g, 1e-5 * scale ** 0.5 + 1e-7, 'mean gradient g');
    expectArraysClose(fisher.H, fisherH, 1e-5 * scale + 1e-9, 'fisher H (row-major)');
    expectArraysClose(rank1.H, outerG, 1e-5 * scale + 1e-9, 'g gᵀ (row-major)');
    tf.dispose([x, labels]);
    model.dispose();
  });
});
