// Rotary position embeddings in transformers' rotate-half layout (not interleaved pairs):
// x·cos + rotate_half(x)·sin, rotate_half(x) = cat(−x₂, x₁) over the two halves of head_dim, with
// cos/sin = cat(freqs, freqs) and freqs[t, i] = t·θ^(−2i/head_dim).
import * as tf from '@tensorflow/tfjs-core';

export interface RotaryTables {
  /** [seq, headDim] each. */
  readonly cos: Float32Array;
  readonly sin: Float32Array;
}

/**
 * cos and sin for positions 0…seq−1, each step rounded to float32 as transformers computes them
 * (inv_freq, t·inv_freq, then cos/sin), so long positions agree with it to float32 precision.
 */
export function rotaryTables(seq: number, headDim: number, theta: number): RotaryTables {
  const half = headDim / 2;
  const f = Math.fround;
  const invFreq = Float64Array.from({ length: half }, (_, i) =>
    f(1 / f(Math.pow(theta, f((2 * i) / headDim)))),
  );
  const cos = new Float32Array(seq * headDim);
  const sin = new Float32Array(seq * headDim);
  for (let t = 0; t < seq; t++) {
    for (let i = 0; i < half; i++) {
      const angle = f(t * (invFreq[i] as number));
      const at = t * headDim + i;
      cos[at] = cos[at + half] = Math.cos(angle);
      sin[at] = sin[at + half] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/** x [batch, heads, seq, headDim] rotated by position; cos/sin [seq, headDim] tensors. */
export function applyRotary(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D {
  const half = x.shape[3] / 2;
  const x1 = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, half]);
  const x2 = tf.slice(x, [0, 0, 0, half], [-1, -1, -1, half]);
  const rotated = tf.concat([tf.neg(x2), x1], 3);
  return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
}
