// Model size, sparsity and latency measurements used by the evaluate stage. Quality (loss,
// accuracy, perplexity…) is the task's: PrunableModel.task.evaluate.
import * as tf from '@tensorflow/tfjs-core';
import type { PrunableModel } from '../plugin-api/model.js';
import type { Samples } from '../plugin-api/dataset.js';
import { disposeBatch, sliceSamples } from '../data/batches.js';

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
  /** Over the prunable operators' weights. */
  prunable: { params: number; zeros: number; sparsity: number };
  /** Over every weight of the model (biases, norms… included). */
  params: { total: number; nonZero: number };
}

/** Sparsity counted from the actual weights (exact zeros), not from masks. */
export function measureSparsity(model: PrunableModel): SparsityMetrics {
  const layers: LayerSparsity[] = model.operators.map((info) => {
    const w = model.readWeight(info.name);
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
  return {
    layers,
    prunable: { params, zeros, sparsity: params === 0 ? 0 : zeros / params },
    params: model.parameterCounts(),
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
  model: PrunableModel,
  samples: Samples,
  opts: { batch: number; runs: number; warmup: number },
): Promise<{ medianMs: number; batch: number; runs: number }> {
  const n = Math.min(opts.batch, samples.count);
  const batch = model.task.batch(sliceSamples(samples, 0, n));
  const times: number[] = [];
  try {
    for (let i = 0; i < opts.warmup + opts.runs; i++) {
      const t0 = performance.now();
      const out = tf.tidy(() => model.forward(batch.inputs).output);
      await out.data(); // wait for the backend to finish, not just to enqueue
      const dt = performance.now() - t0;
      out.dispose();
      if (i >= opts.warmup) times.push(dt);
    }
  } finally {
    disposeBatch(batch);
  }
  return { medianMs: median(times), batch: n, runs: opts.runs };
}
