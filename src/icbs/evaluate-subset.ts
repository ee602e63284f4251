// Quality of the model with the current masks on a fixed validation subset (the first `samples`
// of a split), for the quality–time curve.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DatasetSplit } from '../data/types.js';
import { evaluateSamples } from '../models/metrics.js';
import type { OutputKind } from '../models/loss.js';
import { sliceSamples, type Samples } from '../data/batches.js';
import { modelSampleShape } from './batch-input.js';

export interface CurvePoint {
  step: number;
  elapsedMs: number;
  accuracy: number;
  loss: number;
  /** Sum of the predicted ΔL of all steps so far. */
  predictedDeltaL: number;
}

export function validationSubset(
  model: tfl.LayersModel,
  split: DatasetSplit,
  samples: number,
): Samples {
  const all: Samples = { ...split, sampleShape: modelSampleShape(model, split) };
  return sliceSamples(all, 0, Math.min(samples, split.count));
}

export function evaluateNow(
  model: tfl.LayersModel,
  subset: Samples,
  outputKind: OutputKind,
): { accuracy: number; loss: number } {
  const m = evaluateSamples(model, subset, { batchSize: 500, outputKind });
  return { accuracy: m.accuracy, loss: m.loss };
}
