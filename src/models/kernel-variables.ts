// In-graph re-masking of the prunable operators' weight variables, for code that must act on
// weights inside the training loop without a round trip through JS arrays (finetune).
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { PrunableModel } from '../plugin-api/model.js';

/** Mask tensors (bool, shaped like each weight variable) for in-graph re-masking. Caller disposes. */
export function maskTensors(
  model: PrunableModel,
  masks: ReadonlyMap<string, Uint8Array>,
): Map<tf.Variable, tf.Tensor> {
  const out = new Map<tf.Variable, tf.Tensor>();
  for (const [name, mask] of masks) {
    let v: tf.Variable;
    try {
      v = model.weightVariable(name);
    } catch (e) {
      for (const t of out.values()) t.dispose();
      throw new ScalpelError(
        ErrorCode.Data,
        `the model has no prunable layer '${name}' for its mask`,
        {
          layer: name,
          hint: 'the masks do not belong to this model: re-run the stage that produced them on this model',
          cause: e,
        },
      );
    }
    if (v.size !== mask.length) {
      for (const t of out.values()) t.dispose();
      throw new ScalpelError(
        ErrorCode.Data,
        `mask of '${name}' has ${mask.length} entries, its kernel ${v.size}`,
        {
          layer: name,
          hint: 'the masks do not belong to this model',
        },
      );
    }
    const info = model.operators.find((o) => o.name === name);
    const m =
      model.weightLayout(name) === 'transposed' && info !== undefined
        ? tf.tidy(() =>
            tf.reshape(tf.transpose(tf.tensor2d(mask, [info.fanIn, info.units], 'bool')), v.shape),
          )
        : tf.tensor(mask, v.shape, 'bool');
    out.set(v, m);
  }
  return out;
}

/** weight ← mask ? weight : +0.0 for every masked operator (a select: no −0.0 and no NaN·0). */
export function reapplyMasks(maskByVariable: ReadonlyMap<tf.Variable, tf.Tensor>): void {
  for (const [v, m] of maskByVariable) {
    tf.tidy(() => v.assign(tf.where(m, v, tf.zerosLike(v))));
  }
}
