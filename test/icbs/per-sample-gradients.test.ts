import { strict as assert } from 'node:assert';
import { asPrunable } from '../helpers/models.js';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { GradientEngine } from '../../src/models/per-sample-gradients.js';
import { meanLoss } from '../../src/models/loss.js';
import { outputKindOf } from '../helpers/models.js';
import {
  asBatch,
  batchOf,
  convNet,
  mlp,
  referencePerSample,
  teacherDataset,
  trainSteps,
  useWasm,
} from './fixtures.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

function batchGradient(
  model: tfl.LayersModel,
  layer: string,
  x: tf.Tensor,
  labels: tf.Tensor1D,
): Float32Array {
  const kind = outputKindOf(model);
  const kernel = model
    .getLayer(layer)
    .weights.find((w) => /kernel/.test(w.originalName))
    ?.read() as tf.Variable;
  return tf.tidy(() => {
    const { grads } = tf.variableGrads(
      () => meanLoss(model.apply(x) as tf.Tensor, labels, kind),
      [kernel],
    );
    return Float32Array.from((grads[kernel.name] as tf.Tensor).dataSync());
  });
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}

describe('icbs: functional forward', () => {
  before(useWasm);

  for (const [label, make] of [
    ['logits MLP', () => mlp()],
    ['softmax MLP with dropout', () => mlp({ head: 'softmax', dropout: true })],
  ] as const) {
    it(`equals model.predict bit for bit (${label})`, () => {
      const model = make();
      const data = teacherDataset([20], 4);
      const { x, labels } = batchOf(data.splits.get('train')!, 0, 64);
      const fwd = asPrunable(model);
      const ours = tf.tidy(() => fwd.forward(x).output.dataSync());
      const ref = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
      assert.equal(ours.length, ref.length);
      for (let i = 0; i < ref.length; i++) assert.equal(ours[i], ref[i], `output ${i}`);
      // With zero ε hooked into every Dense layer (the gradient pass): the same values (exact
      // for relu/linear layers, within float32 rounding where the bias is added separately).
      const hooked = tf.tidy(() => {
        const perturb = new Map(
          ['linear1', 'linear2', 'linear3'].map((n, i) => [
            n,
            tf.zeros([64, [16, 8, 4][i] as number]),
          ]),
        );
        return fwd.forward(x, { perturb }).output.dataSync();
      });
      expectArraysClose(hooked, ref, { atol: 1e-7, rtol: 1e-6 }, 'hooked output');
      if (label === 'logits MLP') assert.deepEqual(Array.from(hooked), Array.from(ref));
      tf.dispose([x, labels]);
      model.dispose();
    });
  }

  it('runs conv layers through their own apply and still equals predict', () => {
    const model = convNet();
    const data = teacherDataset([6, 6, 1], 4);
    const { x, labels } = batchOf(data.splits.get('train')!, 0, 16);
    const fwd = asPrunable(model);
    const ours = tf.tidy(() => fwd.forward(x).output.dataSync());
    const ref = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    for (let i = 0; i < ref.length; i++) assert.equal(ours[i], ref[i]);
    tf.dispose([x, labels]);
    model.dispose();
  });
});

describe('icbs: per-sample gradients', () => {
  before(useWasm);

  it('outer-product rule equals per-sample backward passes and averages to the batch gradient', () => {
    const model = mlp();
    const data = teacherDataset([20], 4);
    const train = data.splits.get('train')!;
    trainSteps(model, train, 5);
    const { x, labels } = batchOf(train, 0, 24);
    const engine = new GradientEngine(asPrunable(model));
    const before = tf.memory().numTensors;
    const layers = ['linear1', 'linear2', 'linear3'];
    const grads = engine.compute(asBatch(x, labels), layers);
    for (const name of layers) {
      const lg = grads.get(name)!;
      assert.equal(lg.method, 'outer');
      const size = engine.model.operators.find((o) => o.name === name)!.paramCount;
      // A block of every 3rd kernel entry, in scrambled order.
      const block = Int32Array.from({ length: Math.floor(size / 3) }, (_, b) => (b * 7 * 3) % size);
      const G = lg.blockGradients(block);
      assert.deepEqual([G.samples, G.entries], [24, block.length]);
      const g = G.data;
      const ref = referencePerSample(model, name, x, labels);
      const scale = Math.max(...ref.map(maxAbs));
      // Row s of the reference gathered at the block's entries, rows one after another.
      const want = ref.flatMap((row) => Array.from(block, (j) => row[j]!));
      expectArraysClose(g, want, 1e-5 * scale + 1e-7, `${name} per-sample block gradients`);
      // Mean of the rows = batch gradient, and meanGradient() over the whole kernel.
      const batch = batchGradient(model, name, x, labels);
      const bscale = maxAbs(batch);
      const rowMean = Array.from(block, (_, b) => {
        let m = 0;
        for (let s = 0; s < 24; s++) m += g[s * block.length + b] as number;
        return m / 24;
      });
      expectArraysClose(
        rowMean,
        Array.from(block, (j) => batch[j]!),
        1e-5 * bscale + 1e-7,
        `${name} mean of the rows`,
      );
      const full = lg.meanGradient();
      expectArraysClose(full, batch, 1e-5 * bscale + 1e-7, 'mean gradient');
    }
    for (const lg of grads.values()) lg.dispose();
    assert.equal(tf.memory().numTensors, before, 'no tensors leak');
    tf.dispose([x, labels]);
    model.dispose();
  });

  // wasm has no Conv2D filter gradient, so the reference (model.apply + variableGrads) runs on
  // cpu; scalpel's own pass (im2col outer product) runs on both backends.
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`conv kernels use the outer-product rule too: equal to per-sample backward passes (${backend})`, async () => {
      await tf.setBackend(backend);
      try {
        await convOuterProduct();
      } finally {
        await tf.setBackend('wasm');
      }
    });
  }
});

async function convOuterProduct(): Promise<void> {
  const model = convNet();
  const data = teacherDataset([6, 6, 1], 4);
  const train = data.splits.get('train')!;
  const { x, labels } = batchOf(train, 0, 8);
  const engine = new GradientEngine(asPrunable(model));
  const grads = engine.compute(asBatch(x, labels), ['conv1', 'head']);
  assert.equal(grads.get('conv1')!.method, 'outer');
  assert.equal(grads.get('head')!.method, 'outer');
  const block = Int32Array.from([0, 5, 17, 35, 20]);
  const G = grads.get('conv1')!.blockGradients(block).data;
  const full = grads.get('conv1')!.meanGradient();
  for (const lg of grads.values()) lg.dispose();
  const backend = tf.getBackend();
  await tf.setBackend('cpu');
  const ref = referencePerSample(model, 'conv1', x, labels);
  const batch = batchGradient(model, 'conv1', x, labels);
  await tf.setBackend(backend);
  const scale = Math.max(...ref.map(maxAbs));
  const want = ref.flatMap((row) => Array.from(block, (j) => row[j]!));
  expectArraysClose(G, want, 1e-5 * scale, 'per-sample block gradients');
  expectArraysClose(full, batch, 1e-5 * maxAbs(batch), 'mean gradient');
  tf.dispose([x, labels]);
  model.dispose();
}

// ∂L_s/∂W[j] of one sample by central finite differences of its own loss (the weight written,
// the model run again), for a conv and a dense layer, on both backends.
describe('icbs: per-sample gradients against finite differences', () => {
  before(useWasm);
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`conv and dense layers (${backend})`, async () => {
      await tf.setBackend(backend);
      try {
        const model = convNet();
        const prunable = asPrunable(model);
        const data = teacherDataset([6, 6, 1], 4);
        const { x, labels } = batchOf(data.splits.get('train')!, 0, 4);
        const grads = new GradientEngine(prunable).compute(asBatch(x, labels), ['conv1', 'head']);
        for (const [name, block] of [
          ['conv1', Int32Array.from([0, 7, 22, 35])],
          ['head', Int32Array.from([1, 30, 77, 143])],
        ] as const) {
          const G = grads.get(name)!.blockGradients(block).data;
          const w0 = prunable.readWeight(name);
          const lossOf = (s: number): number =>
            tf.tidy(() => {
              const out = prunable.forward(tf.slice(x, s, 1)).output;
              return prunable.task
                .perSampleLoss(out, asBatch(x, tf.slice(labels, s, 1)))
                .dataSync()[0]!;
            });
          const h = 1e-3; // small: a relu kink within ±h would bias the difference
          block.forEach((j, b) => {
            for (let s = 0; s < 4; s++) {
              const at = (d: number): number => {
                const w = Float32Array.from(w0);
                w[j] = w[j]! + d;
                prunable.writeWeight(name, w);
                return lossOf(s);
              };
              const fd = (at(h) - at(-h)) / (2 * h);
              prunable.writeWeight(name, w0);
              const got = G[s * block.length + b]!;
              assert.ok(
                Math.abs(got - fd) <= 2e-3 + 2e-2 * Math.abs(fd),
                `${name} s=${s} W[${j}]: ${got} vs finite differences ${fd}`,
              );
            }
          });
        }
        for (const lg of grads.values()) lg.dispose();
        tf.dispose([x, labels]);
        model.dispose();
      } finally {
        await tf.setBackend('wasm');
      }
    });
  }
});
