// Training a small residual CNN (strided stem with bias and relu, a batch-norm block with a strided
// projection shortcut, a non-square 'valid' conv, global pooling, a dense head) gives the same loss
// curve and weights whichever way the wasm forward runs its convolutions: with their own
// gradients (the default) or the former im2col × kernel; both also match the cpu backend, where
// the layers run tfjs' own Conv2D gradient kernels. Plain SGD with a keep-mask on one kernel
// re-applied after each update, as finetune does.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/models/backend.js';
import { reapplyMasks, maskTensors } from '../../src/models/kernel-variables.js';
import { buildModel, type ModelSpec } from '../../src/models/model-spec.js';
import { TfjsLayersModel } from '../../src/models/tfjs-layers/layers-model.js';
import type { ConvPath } from '../../src/models/tfjs-layers/linear-ops.js';
import type { Batch } from '../../src/plugin-api/task.js';
import { Rng } from '../../src/util/rng.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

const spec: ModelSpec = {
  input: [9, 9, 2],
  layers: [
    {
      type: 'conv2d',
      filters: 4,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      activation: 'relu',
      name: 'stem',
    },
    {
      type: 'residual',
      name: 'block.add',
      shortcut: 'projection',
      layers: [
        { type: 'conv2d', filters: 6, kernelSize: 3, strides: 2, padding: 'same', useBias: false },
        { type: 'batchNorm' },
        { type: 'activation', activation: 'relu' },
        { type: 'conv2d', filters: 6, kernelSize: 3, padding: 'same', useBias: false },
        { type: 'batchNorm' },
      ],
    },
    {
      type: 'conv2d',
      filters: 5,
      kernelSize: [2, 3],
      padding: 'valid',
      activation: 'relu',
      name: 'tail',
    },
    { type: 'globalAvgPool' },
    { type: 'dense', units: 3, name: 'head' },
  ],
};

const steps = 4;
const learningRate = 0.2;

interface Run {
  losses: number[];
  weights: Float32Array[];
  kernels: Set<string>;
}

function batchOf(): Batch {
  const rng = new Rng(4);
  const n = 6;
  return {
    count: n,
    inputs: tf.tensor4d(
      Float32Array.from({ length: n * 9 * 9 * 2 }, () => rng.normal()),
      [n, 9, 9, 2],
    ),
    targets: tf.tensor1d(
      Array.from({ length: n }, (_, i) => i % 3),
      'int32',
    ),
  };
}

async function train(convPath: ConvPath): Promise<Run> {
  const model = new TfjsLayersModel(buildModel(spec, new Rng(21), 'test'), convPath);
  const batch = batchOf();
  const variables = model.trainableVariables();
  const stemSize = model.weightVariable('stem').size;
  const masks = maskTensors(
    model,
    new Map([['stem', Uint8Array.from({ length: stemSize }, (_, i) => (i % 3 === 0 ? 0 : 1))]]),
  );
  reapplyMasks(masks);
  const step = (s: number): { value: tf.Scalar; grads: tf.NamedTensorMap } =>
    tf.variableGrads(() => {
      const out = model.forward(batch.inputs, { training: true, rng: new Rng(s) }).output;
      return tf.mean(model.task.perSampleLoss(out, batch)) as tf.Scalar;
    }, variables);
  const losses: number[] = [];
  const before = tf.memory().numTensors;
  for (let s = 0; s < steps; s++) {
    const { value, grads } = step(s);
    tf.tidy(() => {
      for (const v of variables)
        v.assign(tf.sub(v, tf.mul(grads[v.name] as tf.Tensor, learningRate)));
    });
    reapplyMasks(masks);
    losses.push(value.dataSync()[0] as number);
    tf.dispose([value, ...Object.values(grads)]);
  }
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked by the training steps');
  // The kernels one more step runs tell the two paths apart.
  const profile = await tf.profile(() => {
    const { value, grads } = step(steps);
    tf.dispose([value, ...Object.values(grads)]);
  });
  const weights = variables.map((v) => Float32Array.from(v.dataSync() as Float32Array));
  tf.dispose([batch.inputs, batch.targets, ...masks.values()]);
  model.dispose();
  return { losses, weights, kernels: new Set(profile.kernelNames) };
}

describe('conv training on wasm: own gradients vs im2col', () => {
  after(async () => {
    await initBackend('wasm');
  });

  it('gives the im2col loss curve and weights, and the cpu backend’s, within float32 rounding', async () => {
    await initBackend('wasm');
    const native = await train('native');
    const old = await train('im2col');
    await initBackend('cpu');
    const cpu = await train('native');
    // On wasm the default path runs conv2d kernels and no im2col concat; the former path the reverse.
    assert.ok(native.kernels.has('Conv2D') && !native.kernels.has('Concat'));
    assert.ok(old.kernels.has('Concat') && !old.kernels.has('Conv2D'));
    const tol = { atol: 1e-5, rtol: 1e-4 };
    expectArraysClose(native.losses, old.losses, tol, 'loss curve vs im2col');
    expectArraysClose(native.losses, cpu.losses, tol, 'loss curve vs cpu');
    // The steps move the weights: the comparison is not of an idle model.
    assert.ok(Math.abs((native.losses[0] as number) - (native.losses[steps - 1] as number)) > 1e-3);
    native.weights.forEach((w, i) => {
      expectArraysClose(w, old.weights[i] as Float32Array, tol, `weights ${i} vs im2col`);
      expectArraysClose(w, cpu.weights[i] as Float32Array, tol, `weights ${i} vs cpu`);
    });
  });
});
