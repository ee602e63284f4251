// Freeing a task batch's tensors (Task.batch hands them to the caller).
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../plugin-api/task.js';

export function disposeTaskBatch(batch: Batch): void {
  tf.dispose([batch.inputs, batch.targets]);
}
