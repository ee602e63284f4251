// A prunable layer's input as the matrix X [rows, fanIn] its kernel (seen as [fanIn, units]) is
// multiplied with: for Dense, the input itself (leading dims flattened); for Conv2D, the im2col
// patches — one row per output position, columns in the kernel's (kh, kw, cin) order — so that the
// calibration statistics (‖X_i‖, XᵀX) mean the same for both. Other kinds are not supported yet.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { PrunableLayerInfo } from '../plugin-api/layers.js';

type Layer = tfl.LayersModel['layers'][number];

export interface Conv2dConfig {
  strides?: number | number[];
  padding?: 'valid' | 'same' | 'causal';
  dilationRate?: number | number[];
  dataFormat?: 'channelsLast' | 'channelsFirst';
}

const pair = (v: number | number[] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0] ?? d, v[1] ?? v[0] ?? d];

/** Whether `layerInputMatrix` handles this layer (and why not, if it does not). */
export function inputMatrixSupport(
  layer: Layer,
  info: PrunableLayerInfo,
): { ok: true } | { ok: false; reason: string } {
  if (info.kind === 'dense') return { ok: true };
  if (info.kind === 'conv2d') {
    const c = layer.getConfig() as Conv2dConfig;
    if (c.dataFormat === 'channelsFirst')
      return { ok: false, reason: 'channelsFirst Conv2D is not supported' };
    return { ok: true };
  }
  return { ok: false, reason: `${info.kind} layers are not supported by calibrate yet` };
}

/** im2col of an NHWC input for a Conv2D with the given kernel size and config. */
export function im2col(x: tf.Tensor4D, kh: number, kw: number, config: Conv2dConfig): tf.Tensor2D {
  return tf.tidy(() => {
    const [sh, sw] = pair(config.strides, 1);
    const [dh, dw] = pair(config.dilationRate, 1);
    const [n, h, w, c] = x.shape;
    const effH = (kh - 1) * dh + 1;
    const effW = (kw - 1) * dw + 1;
    let input: tf.Tensor4D = x;
    let outH: number;
    let outW: number;
    if (config.padding === 'same') {
      // TensorFlow's convention: total padding split with the extra row/column at the end.
      outH = Math.ceil(h / sh);
      outW = Math.ceil(w / sw);
      const padH = Math.max((outH - 1) * sh + effH - h, 0);
      const padW = Math.max((outW - 1) * sw + effW - w, 0);
      input = tf.pad(x, [
        [0, 0],
        [padH >> 1, padH - (padH >> 1)],
        [padW >> 1, padW - (padW >> 1)],
        [0, 0],
      ]);
    } else {
      outH = Math.floor((h - effH) / sh) + 1;
      outW = Math.floor((w - effW) / sw) + 1;
    }
    const parts: tf.Tensor4D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        parts.push(
          tf.stridedSlice(
            input,
            [0, i * dh, j * dw, 0],
            [n, i * dh + (outH - 1) * sh + 1, j * dw + (outW - 1) * sw + 1, c],
            [1, sh, sw, 1],
          ) as tf.Tensor4D,
        );
      }
    }
    return tf.reshape(tf.concat(parts, 3), [n * outH * outW, kh * kw * c]) as tf.Tensor2D;
  });
}

/** X [rows, fanIn] for a supported layer given its input tensor. */
export function layerInputMatrix(
  layer: Layer,
  info: PrunableLayerInfo,
  input: tf.Tensor,
): tf.Tensor2D {
  return tf.tidy(() => {
    if (info.kind === 'conv2d') {
      const [kh, kw] = [info.kernelShape[0] ?? 1, info.kernelShape[1] ?? 1];
      return im2col(input as tf.Tensor4D, kh, kw, layer.getConfig() as Conv2dConfig);
    }
    return tf.reshape(input, [-1, info.fanIn]) as tf.Tensor2D;
  });
}
