// Training / validation samples as the model's task batches (the classification task reshapes a
// flat [784] dataset for a [28, 28, 1] model and vice versa when the sizes agree).
import type { PrunableModel } from '../plugin-api/model.js';
import type { Batch } from '../plugin-api/task.js';
import type { DatasetSplit } from '../plugin-api/dataset.js';
import { sliceSamples } from '../data/batches.js';

/** Samples [start, end) of a split. */
export function batchForModel(
  model: PrunableModel,
  split: DatasetSplit,
  start: number,
  end: number,
): Batch {
  return model.task.batch(sliceSamples(split, start, end));
}

/** The samples at `indices`. */
export function gatherForModel(
  model: PrunableModel,
  split: DatasetSplit,
  indices: ArrayLike<number>,
): Batch {
  return model.task.batch(split, indices);
}
