// Direct access to the kernel variables of prunable layers, for code that must act on weights
// inside the training loop without a round trip through JS arrays (finetune re-masking).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ErrorCode, ScalpelError } from '../errors.js';
import { isKernelWeight } from './prunable-layers.js';

/** The kernel variable of layer `name` (the weight isKernelWeight picks). */
export function kernelVariable(model: tfl.LayersModel, name: string): tf.Variable {
  const layer = model.layers.find((l) => l.name === name);
  const weight = layer?.weights.find(isKernelWeight);
  if (layer === undefined || weight === undefined) {
    throw new ScalpelError(
      ErrorCode.Data,
      `the model has no prunable layer '${name}' with a kernel`,
      {
        layer: name,
        hint: 'the masks do not belong to this model: re-run the stage that produced them on this model',
      },
    );
  }
  return weight.read() as tf.Variable;
}

/** Mask tensors (bool, kernel-shaped) for in-graph re-masking. Caller disposes. */
export function maskTensors(
  model: tfl.LayersModel,
  masks: ReadonlyMap<string, Uint8Array>,
): Map<tf.Variable, tf.Tensor> {
  const out = new Map<tf.Variable, tf.Tensor>();
  for (const [name, mask] of masks) {
    const v = kernelVariable(model, name);
    if (v.size !== mask.length) {
      for (const t of out.values()) t.dispose();
      throw new ScalpelError(
        ErrorCode.Data,
        `mask of '${name}' has ${mask.length} entries, its kernel ${v.size}`,
        { layer: name, hint: 'the masks do not belong to this model' },
      );
    }
    out.set(v, tf.tensor(mask, v.shape, 'bool'));
  }
  return out;
}

/** kernel ← mask ? kernel : +0.0 for every masked layer (a select, so no −0.0 and no NaN·0). */
export function reapplyMasks(maskByVariable: ReadonlyMap<tf.Variable, tf.Tensor>): void {
  for (const [v, m] of maskByVariable) {
    tf.tidy(() => v.assign(tf.where(m, v, tf.zerosLike(v))));
  }
}
