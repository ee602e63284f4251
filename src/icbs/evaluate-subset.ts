// Quality of the model with the current masks on a fixed validation subset (the first `samples`
// of a split), for the quality–time curve.
import type { PrunableModel } from '../plugin-api/model.js';
import type { DatasetSplit, Samples } from '../plugin-api/dataset.js';
import { sliceSamples } from '../data/batches.js';

export interface CurvePoint {
  step: number;
  elapsedMs: number;
  /** The task's metrics (accuracy for classification…) and its loss. */
  [metric: string]: number;
  loss: number;
  /** Sum of the predicted ΔL of all steps so far. */
  predictedDeltaL: number;
}

export function validationSubset(split: DatasetSplit, samples: number): Samples {
  return sliceSamples(split, 0, Math.min(samples, split.count));
}

export function evaluateNow(
  model: PrunableModel,
  subset: Samples,
): { loss: number } & Record<string, number> {
  const m = model.task.evaluate(model, subset, { batchSize: 500 });
  return { ...m.values, loss: m.loss };
}
