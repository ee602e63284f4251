// The one loss scalpel trains, evaluates, calibrates and prunes with: sparse categorical
// cross-entropy. Models built by the train stage end in a linear Dense layer and output LOGITS
// (softmax lives inside the loss: log-softmax is exact where softmax-then-log underflows). Loaded
// models whose last layer applies softmax output PROBABILITIES; `outputKindOf` tells which, and
// every caller passes that through so the two kinds give the same loss value.
import * as tf from '@tensorflow/tfjs-core';

export type OutputKind = 'logits' | 'probabilities';

/** Smallest probability fed to log() for models that output probabilities. */
const probabilityFloor = 1e-7;

/** Log-probabilities [batch, classes] from model outputs of the given kind. */
export function logProbabilities(outputs: tf.Tensor, kind: OutputKind): tf.Tensor2D {
  return tf.tidy(() =>
    kind === 'logits'
      ? tf.logSoftmax(outputs as tf.Tensor2D)
      : (tf.log(tf.clipByValue(outputs, probabilityFloor, 1)) as tf.Tensor2D),
  );
}

/**
 * Cross-entropy of every sample: −log p(label), shape [batch]. `labels` are int32 class indices.
 * Differentiable w.r.t. `outputs` (used inside tf.grads by finetune, calibrate and the pruners).
 */
export function perSampleLoss(
  outputs: tf.Tensor,
  labels: tf.Tensor1D,
  kind: OutputKind = 'logits',
): tf.Tensor1D {
  return tf.tidy(() => {
    const logp = logProbabilities(outputs, kind);
    const classes = logp.shape[1];
    const picked = tf.sum(tf.mul(logp, tf.oneHot(labels, classes)), 1);
    return tf.neg(picked) as tf.Tensor1D;
  });
}

/** Mean of perSampleLoss (scalar). */
export function meanLoss(
  outputs: tf.Tensor,
  labels: tf.Tensor1D,
  kind: OutputKind = 'logits',
): tf.Scalar {
  return tf.tidy(() => tf.mean<tf.Scalar>(perSampleLoss(outputs, labels, kind)));
}
