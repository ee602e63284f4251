// Softmax and log-softmax whose gradients can be differentiated again. tfjs records the gradient
// of an op that saves its OUTPUT (exp, softmax, sigmoid, tanh…) so that a second tf.grad silently
// loses the path through that output (second derivatives come out wrong or "not connected").
// These versions compute their gradients from their input only, recursively, so derivatives of
// any order are exact. Used by the exact block Hessian (block-hessian.ts).
import * as tf from '@tensorflow/tfjs-core';

/** softmax over the last axis; ∂ = s ⊙ (dy − Σ dy ⊙ s) with s recomputed from the input. */
export const softmaxTwice: (z: tf.Tensor) => tf.Tensor = tf.customGrad<tf.Tensor>(
  (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([z]);
    return {
      value: tf.softmax(z),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const s = softmaxTwice(saved[0] as tf.Tensor);
        return tf.mul(s, tf.sub(dy, tf.sum(tf.mul(dy, s), -1, true)));
      },
    };
  },
);

/** log-softmax over the last axis; ∂ = dy − softmax(z) Σ dy. */
export const logSoftmaxTwice: (z: tf.Tensor) => tf.Tensor = tf.customGrad<tf.Tensor>(
  (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([z]);
    return {
      value: tf.logSoftmax(z),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.sub(dy, tf.mul(softmaxTwice(saved[0] as tf.Tensor), tf.sum(dy, -1, true))),
    };
  },
);

/** Mean cross-entropy of logits [batch, classes] against int32 labels, twice differentiable. */
export function meanCrossEntropyTwice(logits: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  const classes = logits.shape[logits.rank - 1] ?? 0;
  return tf.neg(
    tf.mean(tf.sum(tf.mul(logSoftmaxTwice(logits), tf.oneHot(labels, classes)), -1)),
  ) as tf.Scalar;
}
