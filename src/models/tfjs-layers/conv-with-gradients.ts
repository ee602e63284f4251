// A 2-D convolution (NHWC, dilation 1) whose gradients are convolutions too, for backends that lack
// some of conv2d's gradient kernels: tfjs-backend-wasm has Conv2D (XNNPACK) but no
// Conv2DBackpropFilter, and its Conv2DBackpropInput is several times slower than Conv2D. Both
// gradients are written as forward convolutions of rearranged tensors (below), never through
// im2col's kh·kw slices and concat, which made conv training on wasm slow.
import * as tf from '@tensorflow/tfjs-core';

export interface ConvGeometry {
  readonly strides: readonly [number, number];
  readonly padding: 'same' | 'valid';
}

/** Padding before the first row along one axis (TensorFlow's 'same': the extra one at the end). */
function padBefore(n: number, k: number, out: number, stride: number, padding: string): number {
  return padding === 'same' ? Math.max((out - 1) * stride + k - n, 0) >> 1 : 0;
}

/**
 * ∂L/∂kernel [kh, kw, cin, cout] of y = conv2d(x, kernel): dW[i, j, c, o] = Σ_{n,p,q}
 * x_pad[n, p·sh + i, q·sw + j, c]·dy[n, p, q, o] — a convolution of x with the batch and channel
 * axes swapped ([cin, H, W, n]) by dy as a filter ([oh, ow, n, cout]) dilated by the strides.
 */
export function conv2dKernelGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  kernelShape: readonly [number, number, number, number],
  g: ConvGeometry,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, cin, cout] = kernelShape;
    const [, h, w] = x.shape;
    const [, oh, ow] = dy.shape;
    const [sh, sw] = g.strides;
    const top = padBefore(h, kh, oh, sh, g.padding);
    const left = padBefore(w, kw, ow, sw, g.padding);
    // Pad the far side so that exactly kh × kw positions result (cropped when the input has rows
    // no output reads, as 'valid' can leave).
    const bottom = Math.max(kh + (oh - 1) * sh - h - top, 0);
    const right = Math.max(kw + (ow - 1) * sw - w - left, 0);
    const dW = tf.conv2d(
      tf.transpose<tf.Tensor4D>(x, [3, 1, 2, 0]),
      tf.transpose<tf.Tensor4D>(dy, [1, 2, 0, 3]),
      1,
      [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      'NHWC',
      [sh, sw],
    );
    const cropped =
      dW.shape[1] === kh && dW.shape[2] === kw ? dW : tf.slice(dW, 0, [cin, kh, kw, cout]);
    return tf.transpose(cropped, [1, 2, 0, 3]);
  });
}

/**
 * ∂L/∂x of y = conv2d(x, kernel). Stride 1: the correlation of dy with the kernel flipped in
 * space and with cin and cout swapped, padded so that every input position sees every output it
 * fed. Larger strides: the backend's transposed convolution (Conv2DBackpropInput).
 */
export function conv2dInputGradient(
  dy: tf.Tensor4D,
  kernel: tf.Tensor4D,
  xShape: readonly [number, number, number, number],
  g: ConvGeometry,
): tf.Tensor4D {
  const [sh, sw] = g.strides;
  if (sh !== 1 || sw !== 1) return tf.conv2dTranspose(dy, kernel, [...xShape], [sh, sw], g.padding);
  return tf.tidy(() => {
    const [, h, w] = xShape;
    const [kh, kw] = kernel.shape;
    const [, oh, ow] = dy.shape;
    const top = kh - 1 - padBefore(h, kh, oh, 1, g.padding);
    const left = kw - 1 - padBefore(w, kw, ow, 1, g.padding);
    const flipped = tf.transpose<tf.Tensor4D>(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]);
    return tf.conv2d(dy, flipped, 1, [
      [0, 0],
      [top, h + kh - 1 - top - oh],
      [left, w + kw - 1 - left - ow],
      [0, 0],
    ]);
  });
}

/**
 * conv2d(x, kernel) with the gradients above. With `kernelGradient` false the kernel is a constant
 * (no gradient flows to it and none is computed): for passes that only want ∂/∂input.
 */
export function conv2dWithGradients(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  g: ConvGeometry,
  kernelGradient: boolean,
): tf.Tensor4D {
  const strides: [number, number] = [g.strides[0], g.strides[1]];
  if (!kernelGradient) {
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const input = args[0] as tf.Tensor4D;
      const shape = input.shape; // all the gradient needs of the input
      return {
        value: tf.conv2d(input, kernel, strides, g.padding),
        gradFunc: (dy: tf.Tensor) => conv2dInputGradient(dy as tf.Tensor4D, kernel, shape, g),
      };
    });
    return op(x) as tf.Tensor4D;
  }
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor4D;
    const w = args[1] as tf.Tensor4D;
    const save = args[2] as tf.GradSaveFunc;
    save([input, w]);
    return {
      value: tf.conv2d(input, w, strides, g.padding),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const savedX = saved[0] as tf.Tensor4D;
        const savedW = saved[1] as tf.Tensor4D;
        return [
          conv2dInputGradient(dy as tf.Tensor4D, savedW, savedX.shape, g),
          conv2dKernelGradient(savedX, dy as tf.Tensor4D, savedW.shape, g),
        ];
      },
    };
  });
  return op(x, kernel);
}
