// Statistics the wanda and gradient scores need (init and selection), computed from the first
// `initSamples` training samples when the pruner gets no calibration data:
//   input norms  ‖A_i‖₂ = sqrt(Σ over samples (and positions) of a_i²), per layer input feature
//   mean gradient ∂(mean loss)/∂W over those samples, per layer (at the ORIGINAL weights)
import * as tf from '@tensorflow/tfjs-core';
import type { DatasetSplit } from '../plugin-api/dataset.js';
import type { CalibrationData } from '../plugin-api/calibration.js';
import type { GradientEngine } from '../models/per-sample-gradients.js';
import { batchForModel } from './batch-input.js';
import { disposeBatch } from '../data/batches.js';

export interface InitStatistics {
  readonly inputNorms: Map<string, Float32Array>;
  readonly meanGradients: Map<string, Float32Array>;
  /** Where they came from, for the record. */
  readonly source: string;
}

export function computeInitStatistics(
  engine: GradientEngine,
  split: DatasetSplit,
  layers: readonly string[],
  need: { inputNorms: boolean; meanGradient: boolean },
  samples: number,
  batchSize: number,
  calibration: CalibrationData | undefined,
): InitStatistics {
  const inputNorms = new Map<string, Float32Array>();
  const meanGradients = new Map<string, Float32Array>();
  // Calibration statistics win when they cover the layer.
  for (const name of layers) {
    const c = calibration?.layers.get(name);
    if (need.inputNorms && c?.inputNorms !== undefined) inputNorms.set(name, c.inputNorms);
    if (need.meanGradient && c?.meanGradient !== undefined) meanGradients.set(name, c.meanGradient);
  }
  const missingNorms = need.inputNorms ? layers.filter((l) => !inputNorms.has(l)) : [];
  const missingGrads = need.meanGradient ? layers.filter((l) => !meanGradients.has(l)) : [];
  if (missingNorms.length + missingGrads.length === 0) {
    return { inputNorms, meanGradients, source: 'calibration' };
  }
  const count = Math.min(samples, split.count);
  const model = engine.model;
  const info = new Map(model.operators.map((o) => [o.name, o]));
  const sq = new Map(missingNorms.map((l) => [l, new Float64Array(info.get(l)?.fanIn ?? 0)]));
  const gsum = new Map(
    missingGrads.map((l) => [l, new Float64Array(info.get(l)?.paramCount ?? 0)]),
  );
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    const batch = batchForModel(model, split, start, end);
    try {
      if (missingNorms.length > 0) {
        const recorded = tf.tidy(() => {
          const run = model.forward(batch.inputs, { recordInputs: new Set(missingNorms) });
          return missingNorms.map((l) => tf.sum(tf.square(run.inputs.get(l) as tf.Tensor), 0));
        });
        missingNorms.forEach((l, i) => {
          const v = (recorded[i] as tf.Tensor).dataSync();
          const acc = sq.get(l) as Float64Array;
          for (let t = 0; t < acc.length; t++) acc[t] = (acc[t] as number) + (v[t] as number);
        });
        tf.dispose(recorded);
      }
      if (missingGrads.length > 0) {
        const grads = engine.compute(batch, missingGrads);
        for (const l of missingGrads) {
          const lg = grads.get(l);
          if (lg === undefined) continue;
          const g = lg.meanGradient();
          const acc = gsum.get(l) as Float64Array;
          const w = end - start;
          for (let t = 0; t < acc.length; t++) acc[t] = (acc[t] as number) + w * (g[t] as number);
          lg.dispose();
        }
      }
    } finally {
      disposeBatch(batch);
    }
  }
  for (const [l, acc] of sq)
    inputNorms.set(
      l,
      Float32Array.from(acc, (v) => Math.sqrt(v)),
    );
  for (const [l, acc] of gsum)
    meanGradients.set(
      l,
      Float32Array.from(acc, (v) => v / count),
    );
  return {
    inputNorms,
    meanGradients,
    source: `the first ${count} samples of split '${split.name}'`,
  };
}
