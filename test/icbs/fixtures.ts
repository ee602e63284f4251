// Small real models and data for the iCBS tests: seeded tfjs MLPs (and a tiny conv net) on
// random real-shaped inputs, with labels from a random teacher so the task is learnable, trained
// a few deterministic SGD steps so weights are not just their initialisation.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/models/backend.js';
import { Rng } from '../../src/util/rng.js';
import type { Dataset, DatasetSplit } from '../../src/data/types.js';
import { meanLoss, perSampleLoss } from '../../src/models/loss.js';
import type { Batch } from '../../src/plugin-api/task.js';
import { outputKindOf } from '../helpers/models.js';

export async function useWasm(): Promise<void> {
  await initBackend('wasm');
}

export interface MlpOptions {
  sizes?: number[];
  /** Final activation: 'linear' (logits, default) or 'softmax'. */
  head?: 'linear' | 'softmax';
  dropout?: boolean;
  seed?: number;
}

/** A Dense chain, e.g. 20-16-8-4, relu hidden layers, named linear1..n. */
export function mlp(opts: MlpOptions = {}): tfl.Sequential {
  const sizes = opts.sizes ?? [20, 16, 8, 4];
  const seed = opts.seed ?? 1;
  const model = tfl.sequential();
  for (let l = 1; l < sizes.length; l++) {
    const last = l === sizes.length - 1;
    model.add(
      tfl.layers.dense({
        name: `linear${l}`,
        units: sizes[l] as number,
        activation: last ? (opts.head ?? 'linear') : 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed * 100 + l }),
        biasInitializer: tfl.initializers.randomNormal({
          mean: 0,
          stddev: 0.1,
          seed: seed * 100 + 50 + l,
        }),
        ...(l === 1 ? { inputShape: [sizes[0] as number] } : {}),
      }),
    );
    if (opts.dropout === true && !last) model.add(tfl.layers.dropout({ rate: 0.3 }));
  }
  return model;
}

/** A tiny conv net on [6, 6, 1] inputs: conv(3x3x1x4) → flatten → dense(4). */
export function convNet(seed = 3): tfl.Sequential {
  const model = tfl.sequential();
  model.add(
    tfl.layers.conv2d({
      name: 'conv1',
      inputShape: [6, 6, 1],
      filters: 4,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
    }),
  );
  model.add(tfl.layers.flatten({ name: 'flat' }));
  model.add(
    tfl.layers.dense({
      name: 'head',
      units: 4,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
    }),
  );
  return model;
}

/** Random inputs and teacher labels: a split of `count` samples with `sampleShape`. */
export function teacherSplit(
  name: string,
  count: number,
  sampleShape: number[],
  classes: number,
  seed: number,
): DatasetSplit {
  const rng = new Rng(seed);
  const dim = sampleShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(count * dim);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const teacherRng = new Rng(777);
  const teacher = new Float64Array(dim * classes);
  for (let i = 0; i < teacher.length; i++) teacher[i] = teacherRng.normal();
  const y = new Int32Array(count);
  for (let s = 0; s < count; s++) {
    let best = 0;
    let bestV = -Infinity;
    for (let c = 0; c < classes; c++) {
      let v = 0;
      for (let i = 0; i < dim; i++)
        v += (x[s * dim + i] as number) * (teacher[i * classes + c] as number);
      if (v > bestV) {
        bestV = v;
        best = c;
      }
    }
    y[s] = best;
  }
  const ids = new Int32Array(count);
  for (let s = 0; s < count; s++) ids[s] = s;
  return { name, count, sampleShape, x, y, ids };
}

export function teacherDataset(
  sampleShape: number[],
  classes: number,
  train = 256,
  test = 128,
): Dataset {
  return {
    source: 'synthetic',
    numClasses: classes,
    splits: new Map([
      ['train', teacherSplit('train', train, sampleShape, classes, 11)],
      ['test', teacherSplit('test', test, sampleShape, classes, 12)],
    ]),
  };
}

/** A task batch of samples [start, start + count); `x` and `labels` name the same tensors. */
export function batchOf(
  split: DatasetSplit,
  start: number,
  count: number,
): Batch & { x: tf.Tensor; labels: tf.Tensor1D } {
  const dim = split.sampleShape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(split.x.subarray(start * dim, (start + count) * dim), [
    count,
    ...split.sampleShape,
  ]);
  const labels = tf.tensor1d(split.y.subarray(start, start + count), 'int32');
  return { count, inputs: x, targets: labels, x, labels };
}

/** Input and label tensors as a classification Batch. */
export function asBatch(x: tf.Tensor, labels: tf.Tensor1D): Batch {
  return { count: labels.shape[0], inputs: x, targets: labels };
}

/** A few full-batch SGD steps (deterministic) so the weights are "trained". */
export function trainSteps(
  model: tfl.LayersModel,
  split: DatasetSplit,
  steps: number,
  lr = 0.1,
): void {
  const { x, labels } = batchOf(split, 0, split.count);
  const kind = outputKindOf(model);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  for (let t = 0; t < steps; t++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => meanLoss(model.apply(x) as tf.Tensor, labels, kind),
        vars,
      );
      for (const v of vars) {
        const g = grads[v.name];
        if (g !== undefined) v.assign(tf.sub(v, tf.mul(g, lr)));
      }
    });
  }
  x.dispose();
  labels.dispose();
}

/** Independent reference: ∂L_s/∂W of one sample by its own backward pass (model.apply). */
export function referencePerSample(
  model: tfl.LayersModel,
  layer: string,
  x: tf.Tensor,
  labels: tf.Tensor1D,
): Float32Array[] {
  const kind = outputKindOf(model);
  const kernel = model
    .getLayer(layer)
    .weights.find((w) => /kernel/.test(w.originalName))
    ?.read() as tf.Variable;
  const out: Float32Array[] = [];
  for (let s = 0; s < labels.shape[0]; s++) {
    out.push(
      tf.tidy(() => {
        const xs = tf.slice(x, s, 1);
        const ls = tf.slice(labels, s, 1);
        const { grads } = tf.variableGrads(
          () => tf.sum(perSampleLoss(model.apply(xs) as tf.Tensor, ls, kind)) as tf.Scalar,
          [kernel],
        );
        return Float32Array.from((grads[kernel.name] as tf.Tensor).dataSync());
      }),
    );
  }
  return out;
}
