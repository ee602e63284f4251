// The gradient of a batch's mean loss w.r.t. some variables of a model: one forward (with the
// hooks that say weight gradients follow) and one backward, through the task's per-sample loss.
import * as tf from '@tensorflow/tfjs-core';
import type { PrunableModel } from '../plugin-api/model.js';
import type { Batch } from '../plugin-api/task.js';

/** `{ value, grads }` as tf.variableGrads returns them; the caller disposes both. */
export function meanLossGradients(
  model: PrunableModel,
  batch: Batch,
  variables: tf.Variable[],
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  return tf.variableGrads(
    () =>
      tf.mean<tf.Scalar>(
        model.task.perSampleLoss(
          model.forward(batch.inputs, { weightGradients: true }).output,
          batch,
        ),
      ),
    variables,
  );
}
