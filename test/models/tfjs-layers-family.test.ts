// The built-in tfjs-layers family through the family conformance suite, on models of several
// topologies: a Sequential MLP with dropout and a softmax head, a residual CNN (functional: Add,
// batch norm, pooling) on wasm and on cpu, a branching model that merges by concatenation, and a
// Conv1D + DepthwiseConv2D model. References are tfjs's own predict and sub-model predicts, and an
// im2col written here in float64.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/models/backend.js';
import { builtinFamilyLookup } from '../../src/models/families.js';
import { TfjsLayersModel } from '../../src/models/tfjs-layers/layers-model.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import type { Batch } from '../../src/plugin-api/task.js';
import { Rng } from '../../src/util/rng.js';
import { describeFamilyConformance } from '../conformance/family-conformance.js';
import { layersModelOf } from '../helpers/models.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

const glorot = (seed: number) => tfl.initializers.glorotUniform({ seed });

function mlp(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(
    tfl.layers.dense({
      name: 'fc1',
      inputShape: [12],
      units: 10,
      activation: 'relu',
      kernelInitializer: glorot(1),
    }),
  );
  m.add(tfl.layers.dropout({ rate: 0.2 }));
  m.add(
    tfl.layers.dense({ name: 'fc2', units: 8, activation: 'tanh', kernelInitializer: glorot(2) }),
  );
  m.add(
    tfl.layers.dense({
      name: 'head',
      units: 5,
      activation: 'softmax',
      kernelInitializer: glorot(3),
    }),
  );
  return m;
}

/** Two conv blocks with a skip connection, batch norm and pooling: a small ResNet. */
export function residualCnn(seed = 10, classes = 5): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 1] });
  const stem = tfl.layers
    .conv2d({
      name: 'stem',
      filters: 4,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: glorot(seed),
    })
    .apply(input) as tfl.SymbolicTensor;
  const c1 = tfl.layers
    .conv2d({
      name: 'block.conv1',
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      kernelInitializer: glorot(seed + 1),
    })
    .apply(stem) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ name: 'block.bn1' }).apply(c1) as tfl.SymbolicTensor;
  const r1 = tfl.layers.activation({ activation: 'relu' }).apply(bn) as tfl.SymbolicTensor;
  const c2 = tfl.layers
    .conv2d({
      name: 'block.conv2',
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      kernelInitializer: glorot(seed + 2),
    })
    .apply(r1) as tfl.SymbolicTensor;
  const sum = tfl.layers.add({ name: 'block.add' }).apply([stem, c2]) as tfl.SymbolicTensor;
  const act = tfl.layers.activation({ activation: 'relu' }).apply(sum) as tfl.SymbolicTensor;
  const pool = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(act) as tfl.SymbolicTensor;
  const flat = tfl.layers.flatten().apply(pool) as tfl.SymbolicTensor;
  const head = tfl.layers
    .dense({ name: 'head', units: classes, kernelInitializer: glorot(seed + 3) })
    .apply(flat) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: head });
}

/** Two branches from the input, merged by concatenation. */
function branching(): tfl.LayersModel {
  const input = tfl.input({ shape: [6] });
  const a = tfl.layers
    .dense({ name: 'left', units: 4, activation: 'relu', kernelInitializer: glorot(20) })
    .apply(input) as tfl.SymbolicTensor;
  const b = tfl.layers
    .dense({ name: 'right', units: 3, activation: 'sigmoid', kernelInitializer: glorot(21) })
    .apply(input) as tfl.SymbolicTensor;
  const cat = tfl.layers.concatenate().apply([a, b]) as tfl.SymbolicTensor;
  const out = tfl.layers
    .dense({ name: 'out', units: 3, kernelInitializer: glorot(22) })
    .apply(cat) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/** Conv1D over a sequence, then a depthwise convolution over an image view of it. */
function convVariety(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(
    tfl.layers.conv1d({
      name: 'seq',
      inputShape: [9, 2],
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: glorot(30),
    }),
  );
  m.add(tfl.layers.reshape({ targetShape: [3, 3, 4] }));
  m.add(
    tfl.layers.depthwiseConv2d({
      name: 'dw',
      kernelSize: 2,
      depthMultiplier: 2,
      activation: 'relu',
      depthwiseInitializer: glorot(31),
    }),
  );
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ name: 'head', units: 3, kernelInitializer: glorot(32) }));
  return m;
}

function randomBatch(model: PrunableModel, count: number, classes: number, seed: number): Batch {
  const lm = layersModelOf(model);
  const shape = lm.inputs[0]!.shape.slice(1) as number[];
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: count * size }, () => rng.normal());
  const y = Int32Array.from({ length: count }, () => rng.int(classes));
  return { count, inputs: tf.tensor(x, [count, ...shape]), targets: tf.tensor1d(y, 'int32') };
}

function predictOf(model: PrunableModel, batch: Batch): Float32Array {
  return tf.tidy(
    () => (layersModelOf(model).predict(batch.inputs) as tf.Tensor).dataSync() as Float32Array,
  );
}

type Conv2dConfig = {
  strides?: number | number[];
  padding?: string;
  dilationRate?: number | number[];
};

/** im2col of an NHWC array, float64, written from the definition (TensorFlow 'same' padding). */
function im2colReference(
  x: Float32Array,
  [n, h, w, c]: number[],
  kh: number,
  kw: number,
  config: Conv2dConfig,
): Float64Array {
  const pair = (v: number | number[] | undefined): [number, number] =>
    v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : [v[0]!, v[1] ?? v[0]!];
  const [sh, sw] = pair(config.strides);
  const [dh, dw] = pair(config.dilationRate);
  const same = config.padding === 'same';
  const oh = same ? Math.ceil(h! / sh) : Math.floor((h! - (kh - 1) * dh - 1) / sh) + 1;
  const ow = same ? Math.ceil(w! / sw) : Math.floor((w! - (kw - 1) * dw - 1) / sw) + 1;
  const padTop = same ? Math.floor(Math.max((oh - 1) * sh + (kh - 1) * dh + 1 - h!, 0) / 2) : 0;
  const padLeft = same ? Math.floor(Math.max((ow - 1) * sw + (kw - 1) * dw + 1 - w!, 0) / 2) : 0;
  const cols = kh * kw * c!;
  const out = new Float64Array(n! * oh * ow * cols);
  for (let b = 0; b < n!; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let p = 0; p < kh; p++)
          for (let q = 0; q < kw; q++)
            for (let ch = 0; ch < c!; ch++) {
              const y = i * sh + p * dh - padTop;
              const xx = j * sw + q * dw - padLeft;
              const v =
                y >= 0 && y < h! && xx >= 0 && xx < w!
                  ? (x[((b * h! + y) * w! + xx) * c! + ch] as number)
                  : 0;
              out[((b * oh + i) * ow + j) * cols + (p * kw + q) * c! + ch] = v;
            }
  return out;
}

/** X of a Dense or Conv2D layer from tfjs's own sub-model predict of the layer's input. */
function referenceInput(
  model: PrunableModel,
  batch: Batch,
  name: string,
): Float64Array | undefined {
  const lm = layersModelOf(model);
  const layer = lm.getLayer(name);
  const info = model.operators.find((o) => o.name === name)!;
  if (info.kind !== 'dense' && info.kind !== 'conv2d') return undefined;
  const sub = tfl.model({ inputs: lm.inputs, outputs: layer.input as tfl.SymbolicTensor });
  const a = tf.tidy(() => sub.predict(batch.inputs) as tf.Tensor);
  const data = a.dataSync() as Float32Array;
  const shape = a.shape;
  a.dispose();
  if (info.kind === 'dense') return Float64Array.from(data);
  return im2colReference(
    data,
    shape,
    info.kernelShape[0]!,
    info.kernelShape[1]!,
    layer.getConfig() as Conv2dConfig,
  );
}

function subject(name: string, build: () => tfl.LayersModel, classes: number, count: number) {
  return {
    name,
    families: builtinFamilyLookup,
    exact: true,
    load: async () => new TfjsLayersModel(build()),
    batch: (model: PrunableModel) => randomBatch(model, count, classes, 4),
    reference: predictOf,
    referenceInput,
  };
}

describe('tfjs-layers family', () => {
  before(async () => {
    await initBackend('wasm');
  });
  describeFamilyConformance(
    subject('sequential MLP with dropout and a softmax head (wasm)', mlp, 5, 6),
  );
  describeFamilyConformance(subject('residual CNN with batch norm (wasm)', residualCnn, 5, 3));
  describeFamilyConformance(subject('branches merged by concatenation (wasm)', branching, 3, 5));
  describeFamilyConformance(subject('Conv1D and DepthwiseConv2D (wasm)', convVariety, 3, 4));

  describe('on the cpu backend', () => {
    before(async () => {
      await tf.setBackend('cpu');
    });
    after(async () => {
      await tf.setBackend('wasm');
    });
    describeFamilyConformance(subject('residual CNN with batch norm (cpu)', residualCnn, 5, 3));
    describeFamilyConformance(subject('Conv1D and DepthwiseConv2D (cpu)', convVariety, 3, 4));
  });

  it('runs hooked convolutions on wasm (own gradients) within float tolerance of the cpu backend', async () => {
    const outputs: Float32Array[] = [];
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      const model = new TfjsLayersModel(residualCnn());
      const batch = randomBatch(model, 3, 5, 8);
      const names = model.operators.map((o) => o.name);
      // The ε pass (per-sample gradients) takes the explicit path for every operator.
      outputs.push(
        tf.tidy(() => {
          const eps = names.map((n) => tf.zeros(model.perturbationShape(n, batch.inputs)));
          const grads = tf.grads((...xs: tf.Tensor[]) => {
            const perturb = new Map(names.map((n, i) => [n, xs[i] as tf.Tensor]));
            const out = model.forward(batch.inputs, { perturb, inputGradientsOnly: true }).output;
            return tf.sum(model.task.perSampleLoss(out, batch)) as tf.Scalar;
          })(eps);
          return tf.concat(grads.map((g) => tf.reshape(g, [-1]))).dataSync() as Float32Array;
        }),
      );
      tf.dispose([batch.inputs, batch.targets]);
      model.dispose();
    }
    await tf.setBackend('wasm');
    const [w, c] = outputs as [Float32Array, Float32Array];
    const scale = Math.max(...Array.from(c, Math.abs));
    expectArraysClose(w, c, 1e-5 * scale, '∂L/∂z');
  });

  it('rejects a model that branches into two outputs, naming the layer', async () => {
    const input = tfl.input({ shape: [4] });
    const a = tfl.layers.dense({ name: 'head_a', units: 2 }).apply(input) as tfl.SymbolicTensor;
    const b = tfl.layers.dense({ name: 'head_b', units: 2 }).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: [a, b] });
    assert.throws(
      () => new TfjsLayersModel(model),
      (e: unknown) =>
        (e as { code?: string }).code === 'E_DATA' &&
        /head_b/.test((e as Error).message) &&
        (e as { layer?: string }).layer === 'head_b',
    );
    model.dispose();
  });
});
