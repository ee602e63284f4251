// im2col of an NHWC input with TensorFlow's padding conventions, from slices and reshapes only, so
// every backend differentiates it: the input matrix X a convolution's [fanIn, units] kernel
// multiplies (recorded inputs, statistics) and the fallback convolution for gradients.
import * as tf from '@tensorflow/tfjs-core';

export interface ConvConfig {
  strides?: number | number[];
  padding?: 'valid' | 'same' | 'causal';
  dilationRate?: number | number[];
  dataFormat?: 'channelsLast' | 'channelsFirst';
  activation?: unknown;
  depthMultiplier?: number;
}

export const pair = (v: number | number[] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0] ?? d, v[1] ?? v[0] ?? d];

/** Output spatial size of a convolution along one axis (TensorFlow's conventions). */
export function outSize(
  n: number,
  k: number,
  stride: number,
  dilation: number,
  padding: string,
): number {
  const eff = (k - 1) * dilation + 1;
  return padding === 'same' || padding === 'causal'
    ? Math.ceil(n / stride)
    : Math.floor((n - eff) / stride) + 1;
}

/** im2col of an NHWC input: [n·outH·outW, kh·kw·c], columns in (kh, kw, c) order. */
export function im2col(x: tf.Tensor4D, kh: number, kw: number, config: ConvConfig): tf.Tensor2D {
  return tf.tidy(() => {
    const [sh, sw] = pair(config.strides, 1);
    const [dh, dw] = pair(config.dilationRate, 1);
    const [n, h, w, c] = x.shape;
    const padding = config.padding ?? 'valid';
    const outH = outSize(h, kh, sh, dh, padding);
    const outW = outSize(w, kw, sw, dw, padding);
    let input: tf.Tensor4D = x;
    if (padding === 'same') {
      // TensorFlow's convention: the total padding split with the extra row/column at the end.
      const padH = Math.max((outH - 1) * sh + (kh - 1) * dh + 1 - h, 0);
      const padW = Math.max((outW - 1) * sw + (kw - 1) * dw + 1 - w, 0);
      input = tf.pad(x, [
        [0, 0],
        [padH >> 1, padH - (padH >> 1)],
        [padW >> 1, padW - (padW >> 1)],
        [0, 0],
      ]);
    } else if (padding === 'causal') {
      // Conv1D only (h = 1): all padding on the left of the time axis.
      input = tf.pad(x, [
        [0, 0],
        [0, 0],
        [(kw - 1) * dw, 0],
        [0, 0],
      ]);
    }
    // Slices and reshapes only (stridedSlice has no gradient in tfjs): a window of outH·sh rows
    // per kernel offset, subsampled by viewing it as [outH, sh] and keeping index 0. The extra
    // sh − 1 rows (sw − 1 columns) of zero padding are never picked.
    if (sh > 1 || sw > 1) {
      input = tf.pad(input, [
        [0, 0],
        [0, sh - 1],
        [0, sw - 1],
        [0, 0],
      ]);
    }
    const parts: tf.Tensor4D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        let part = tf.slice(input, [0, i * dh, j * dw, 0], [n, outH * sh, outW * sw, c]);
        if (sh > 1 || sw > 1) {
          part = tf.reshape(
            tf.slice(
              tf.reshape(part, [n, outH, sh, outW, sw, c]),
              [0, 0, 0, 0, 0, 0],
              [n, outH, 1, outW, 1, c],
            ),
            [n, outH, outW, c],
          );
        }
        parts.push(part);
      }
    }
    return tf.reshape<tf.Rank.R2>(tf.concat(parts, 3), [n * outH * outW, kh * kw * c]);
  });
}
