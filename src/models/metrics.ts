// Model quality and size measurements used by the evaluate stage (and the training curve).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { listPrunableLayers, readKernel } from './prunable-layers.js';
import { perSampleLoss, type OutputKind } from './loss.js';
import { sliceSamples, type Samples } from '../data/batches.js';
import { batchTensors } from './samples.js';

export interface QualityMetrics {
  count: number;
  /** Top-1 accuracy. */
  accuracy: number;
  /** Top-k accuracy, when k > 1 was asked for. */
  topK?: { k: number; accuracy: number };
  /** Mean cross-entropy (loss.ts), summed in float64. */
  loss: number;
}

/** Accuracy and mean loss of `model` on `samples`, in inference mode (no dropout). */
export function evaluateSamples(
  model: tfl.LayersModel,
  samples: Samples,
  opts: { batchSize: number; outputKind: OutputKind; topK?: number },
): QualityMetrics {
  const k = opts.topK ?? 1;
  let correct = 0;
  let correctK = 0;
  let lossSum = 0;
  for (let start = 0; start < samples.count; start += opts.batchSize) {
    const part = sliceSamples(samples, start, Math.min(start + opts.batchSize, samples.count));
    const [hit, hitK, losses] = tf.tidy(() => {
      const { x, y } = batchTensors(part, undefined);
      // predict() would cut the batch into its default batchSize of 32: one call per batch instead.
      const out = model.predict(x, { batchSize: part.count }) as tf.Tensor2D;
      const top1 = tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), y), 'int32'));
      let topk: tf.Tensor = tf.scalar(0, 'int32');
      if (k > 1) {
        const idx = tf.topk(out, Math.min(k, out.shape[1]), true).indices;
        topk = tf.sum(tf.cast(tf.equal(idx, tf.expandDims(y, 1)), 'int32'));
      }
      return [top1, topk, perSampleLoss(out, y, opts.outputKind)];
    });
    correct += hit.dataSync()[0] ?? 0;
    correctK += hitK.dataSync()[0] ?? 0;
    for (const v of losses.dataSync()) lossSum += v;
    tf.dispose([hit, hitK, losses]);
  }
  const n = Math.max(samples.count, 1);
  return {
    count: samples.count,
    accuracy: correct / n,
    ...(k > 1 ? { topK: { k, accuracy: correctK / n } } : {}),
    loss: lossSum / n,
  };
}

export interface LayerSparsity {
  name: string;
  shape: number[];
  params: number;
  zeros: number;
  /** zeros / params. */
  sparsity: number;
}

export interface SparsityMetrics {
  layers: LayerSparsity[];
  /** Over the prunable layers' kernels. */
  prunable: { params: number; zeros: number; sparsity: number };
  /** Over every weight of the model (biases, batch-norm… included). */
  params: { total: number; nonZero: number };
}

/** Sparsity counted from the actual weights (exact zeros), not from masks. */
export function measureSparsity(model: tfl.LayersModel): SparsityMetrics {
  const layers: LayerSparsity[] = listPrunableLayers(model).map((info) => {
    const w = readKernel(model, info.name);
    let zeros = 0;
    for (let i = 0; i < w.length; i++) if (w[i] === 0) zeros++;
    return {
      name: info.name,
      shape: [...info.kernelShape],
      params: w.length,
      zeros,
      sparsity: w.length === 0 ? 0 : zeros / w.length,
    };
  });
  const params = layers.reduce((a, l) => a + l.params, 0);
  const zeros = layers.reduce((a, l) => a + l.zeros, 0);
  let total = 0;
  let nonZero = 0;
  for (const w of model.weights) {
    const values = w.read().dataSync();
    total += values.length;
    for (let i = 0; i < values.length; i++) if (values[i] !== 0) nonZero++;
  }
  return {
    layers,
    prunable: { params, zeros, sparsity: params === 0 ? 0 : zeros / params },
    params: { total, nonZero },
  };
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

/** Median wall time (ms) of `runs` forward passes on a batch of `batch` samples, after `warmup` passes. */
export async function measureLatency(
  model: tfl.LayersModel,
  samples: Samples,
  opts: { batch: number; runs: number; warmup: number },
): Promise<{ medianMs: number; batch: number; runs: number }> {
  const n = Math.min(opts.batch, samples.count);
  const { x, y } = batchTensors(sliceSamples(samples, 0, n), undefined);
  y.dispose();
  const times: number[] = [];
  try {
    for (let i = 0; i < opts.warmup + opts.runs; i++) {
      const t0 = performance.now();
      const out = model.predict(x, { batchSize: n }) as tf.Tensor;
      await out.data(); // wait for the backend to finish, not just to enqueue
      const dt = performance.now() - t0;
      out.dispose();
      if (i >= opts.warmup) times.push(dt);
    }
  } finally {
    x.dispose();
  }
  return { medianMs: median(times), batch: n, runs: opts.runs };
}
