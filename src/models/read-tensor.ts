// Download the result of a tensor computation: run `f` in tf.tidy, read the returned tensor and
// dispose it. Never return a typed array FROM tf.tidy: tidy walks every key of its return value
// looking for tensors, which costs ~1 µs per element (seconds for a 1024 × 1024 Hessian).
import * as tf from '@tensorflow/tfjs-core';

export function readTensor(f: () => tf.Tensor): Float32Array {
  const t = tf.tidy(f);
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}
