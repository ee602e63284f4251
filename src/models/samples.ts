// Batches of samples (a DatasetSplit or a part of one, see src/data/batches.ts) as the two
// tensors training and evaluation feed the model.
import * as tf from '@tensorflow/tfjs-core';
import { gatherSamples, type Samples } from '../data/batches.js';

/** Tensors of one batch: x [n, ...sampleShape] float32 and y [n] int32. Caller disposes. */
export function batchTensors(
  s: Samples,
  rows: ArrayLike<number> | undefined,
): { x: tf.Tensor; y: tf.Tensor1D } {
  const b = rows === undefined ? s : gatherSamples(s, rows);
  return {
    x: tf.tensor(b.x, [b.count, ...b.sampleShape], 'float32'),
    y: tf.tensor1d(b.y, 'int32'),
  };
}
