// The prunable layers computed from their own variables with plain tf ops, for the passes that
// need more than `layer.apply`: an ε added to the pre-activation output, a replaced kernel, a
// recorded input matrix, or gradients the backend has no kernel for (tfjs-backend-wasm lacks
// Conv2DBackpropFilter and both depthwise backprops). Convolutions run as the backend's conv2d with
// their own gradients (conv-with-gradients.ts); dilated ones, and any on request, as im2col ×
// kernel — a matMul every backend differentiates, but slow to differentiate through. Dense keeps
// tfjs-layers' exact arithmetic (fused bias for the activations Dense fuses), so an unperturbed
// pass equals `layer.apply` bit for bit.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { PrunableLayerInfo } from '../../plugin-api/layers.js';
import { biasOf, kernelOf, type Layer } from './operators.js';
import { conv2dWithGradients } from './conv-with-gradients.js';
import { im2col, outSize, pair, type ConvConfig } from './im2col.js';

/** A conv layer's input as NHWC (Conv1D [n, t, c] becomes [n, 1, t, c]) and its kernel size. */
function asImage(
  info: PrunableLayerInfo,
  x: tf.Tensor,
): { image: tf.Tensor4D; kh: number; kw: number } {
  if (info.kind === 'conv1d') {
    const [n, t, c] = x.shape as [number, number, number];
    return {
      image: tf.reshape<tf.Rank.R4>(x, [n, 1, t, c]),
      kh: 1,
      kw: info.kernelShape[0] ?? 1,
    };
  }
  return {
    image: x as tf.Tensor4D,
    kh: info.kernelShape[0] ?? 1,
    kw: info.kernelShape[1] ?? 1,
  };
}

function convConfig(layer: Layer, info: PrunableLayerInfo): ConvConfig {
  const c = layer.getConfig() as ConvConfig;
  if (c.dataFormat === 'channelsFirst') {
    throw new ScalpelError(
      ErrorCode.Data,
      `layer '${layer.name}': channelsFirst convolutions are not supported`,
      {
        layer: layer.name,
        hint: 'convert the model to channelsLast (NHWC), the tfjs default',
      },
    );
  }
  if (info.kind === 'conv1d') {
    // As a 2-D convolution of height 1.
    const s = typeof c.strides === 'number' ? c.strides : (c.strides?.[0] ?? 1);
    const d = typeof c.dilationRate === 'number' ? c.dilationRate : (c.dilationRate?.[0] ?? 1);
    return { ...c, strides: [1, s], dilationRate: [1, d] };
  }
  return c;
}

/** X [rows, fanIn]: the matrix the operator's [fanIn, units] weight multiplies for input `x`. */
export function inputMatrix(layer: Layer, info: PrunableLayerInfo, x: tf.Tensor): tf.Tensor2D {
  if (info.kind === 'dense') {
    return x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape<tf.Rank.R2>(x, [-1, info.fanIn]);
  }
  const { image, kh, kw } = asImage(info, x);
  return im2col(image, kh, kw, convConfig(layer, info));
}

/** Spatial/sequence dims of the output (without batch and units) for input `x`. */
export function outputInnerShape(layer: Layer, info: PrunableLayerInfo, x: tf.Tensor): number[] {
  if (info.kind === 'dense') return x.shape.slice(1, -1);
  const { image, kh, kw } = asImage(info, x);
  const c = convConfig(layer, info);
  const [sh, sw] = pair(c.strides, 1);
  const [dh, dw] = pair(c.dilationRate, 1);
  const padding = c.padding ?? 'valid';
  const [, h, w] = image.shape;
  const oh = outSize(h, kh, sh, dh, padding);
  const ow = outSize(w, kw, sw, dw, padding);
  return info.kind === 'conv1d' ? [ow] : [oh, ow];
}

const activationLayers = new Map<string, Layer>();

/** The layer's activation as a standalone tfjs Activation layer (the same function). */
export function activationOf(layer: Layer): { name: string; apply(z: tf.Tensor): tf.Tensor } {
  const config = layer.getConfig() as { activation?: unknown };
  const name = typeof config.activation === 'string' ? config.activation : 'linear';
  if (name === 'linear') return { name, apply: (z) => z };
  let act = activationLayers.get(name);
  if (act === undefined) {
    act = tfl.layers.activation({ activation: name as 'relu' });
    activationLayers.set(name, act);
  }
  const a = act;
  return { name, apply: (z) => a.apply(z) as tf.Tensor };
}

/** a·W (+ bias) whose gradient w.r.t. `a` is dy·Wᵀ with Wᵀ materialised; W and bias are constants. */
function matMulInputGrad(
  a: tf.Tensor2D,
  kernel: tf.Tensor2D,
  bias: tf.Tensor | undefined,
): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    return {
      value: tf.fused.matMul({ a: x, b: kernel, ...(bias !== undefined ? { bias } : {}) }),
      // tfjs-wasm's matMul is many times slower with a transpose flag, which its own gradient uses.
      gradFunc: (dy: tf.Tensor) => tf.matMul(dy, tf.transpose(kernel)),
    };
  });
  return op(a) as tf.Tensor2D;
}

export interface ExplicitOptions {
  /** Input matrix already computed for this input (recorded), reused. */
  readonly X?: tf.Tensor2D;
  /** [fanIn, units] replacement weight. */
  readonly weight?: tf.Tensor;
  /** [rows, units] added to z. */
  readonly epsilon?: tf.Tensor;
  /** Gradients flow to the input only (W and bias constants, Wᵀ materialised). */
  readonly inputGradientsOnly?: boolean;
  /** Leave the activation out (logits of a softmax head). */
  readonly skipActivation?: boolean;
  /** How convolutions run: the backend's conv2d with custom gradients (default) or im2col × W. */
  readonly convPath?: ConvPath;
}

export type ConvPath = 'native' | 'im2col';

function requireKernel(layer: Layer): NonNullable<ReturnType<typeof kernelOf>> {
  const kernel = kernelOf(layer);
  if (kernel === undefined)
    throw new ScalpelError(ErrorCode.Internal, `layer '${layer.name}' has no kernel`, {
      layer: layer.name,
    });
  return kernel;
}

function hasConvGradientKernels(): boolean {
  const backend = tf.getBackend();
  return (
    tf.getKernel('Conv2DBackpropFilter', backend) !== undefined &&
    tf.getKernel('Conv2DBackpropInput', backend) !== undefined
  );
}

/**
 * A Conv1D / Conv2D layer's pre-bias output as [rows, units], by conv2dWithGradients; undefined
 * for dilated convolutions, which it does not handle (the transposed convolution lacks dilation).
 */
function nativeConv(
  layer: Layer,
  info: PrunableLayerInfo,
  x: tf.Tensor,
  W: tf.Tensor2D,
  o: ExplicitOptions,
): tf.Tensor2D | undefined {
  const c = convConfig(layer, info);
  const [dh, dw] = pair(c.dilationRate, 1);
  if (dh !== 1 || dw !== 1) return undefined;
  const { image, kh, kw } = asImage(info, x);
  // Causal (Conv1D only): all padding on the left of the time axis, as in im2col, then 'valid'.
  const input =
    c.padding === 'causal'
      ? tf.pad(image, [
          [0, 0],
          [0, 0],
          [kw - 1, 0],
          [0, 0],
        ])
      : image;
  const padding = c.padding === 'same' ? 'same' : 'valid';
  const kernel = tf.reshape<tf.Rank.R4>(W, [kh, kw, info.fanIn / (kh * kw), info.units]);
  const strides = pair(c.strides, 1);
  // Where the backend has conv2d's own gradient kernels (cpu), tfjs' conv2d is used as it is.
  const y = hasConvGradientKernels()
    ? tf.conv2d(input, kernel, strides, padding)
    : conv2dWithGradients(input, kernel, { strides, padding }, o.inputGradientsOnly !== true);
  return tf.reshape<tf.Rank.R2>(y, [-1, info.units]);
}

/** Dense, Conv1D or Conv2D as X·W (+ bias) (+ ε), then the activation. */
export function runLinear(
  layer: Layer,
  info: PrunableLayerInfo,
  x: tf.Tensor,
  o: ExplicitOptions,
): tf.Tensor {
  const kernelVar = requireKernel(layer);
  const kernel = o.weight ?? kernelVar.read();
  const W = (
    kernel.rank === 2 ? kernel : tf.reshape(kernel, [info.fanIn, info.units])
  ) as tf.Tensor2D;
  const bias = biasOf(layer)?.read();
  const activation = activationOf(layer);
  const native =
    info.kind !== 'dense' && o.convPath !== 'im2col' ? nativeConv(layer, info, x, W, o) : undefined;
  const rows = native !== undefined ? undefined : (o.X ?? inputMatrix(layer, info, x));
  let z: tf.Tensor;
  if (rows === undefined) {
    z = native as tf.Tensor2D;
    if (bias !== undefined) z = tf.add(z, bias);
  } else if (info.kind === 'dense') {
    // tfjs-layers' Dense fuses the bias into the matMul for relu, linear and elu; others add it after.
    const fused =
      bias !== undefined && ['relu', 'linear', 'elu'].includes(activation.name) ? bias : undefined;
    z =
      o.inputGradientsOnly === true
        ? matMulInputGrad(rows, W, fused)
        : tf.fused.matMul({ a: rows, b: W, ...(fused !== undefined ? { bias: fused } : {}) });
    if (bias !== undefined && fused === undefined) z = tf.add(z, tf.reshape(bias, [1, info.units]));
  } else {
    z = o.inputGradientsOnly === true ? matMulInputGrad(rows, W, undefined) : tf.matMul(rows, W);
    if (bias !== undefined) z = tf.add(z, bias);
  }
  if (o.epsilon !== undefined) z = tf.add(z, o.epsilon);
  const outShape = [x.shape[0] ?? 0, ...outputInnerShape(layer, info, x), info.units];
  if (outShape.length !== 2) z = tf.reshape(z, outShape);
  return o.skipActivation === true ? z : activation.apply(z);
}

/**
 * DepthwiseConv2D from im2col patches: z[r, c·m + j] = Σ_k X[r, (k, c)]·W[(k, c), j]. Not linear in
 * the [fanIn, units] sense (each output channel sees one input channel), but differentiable on
 * every backend.
 */
export function runDepthwise(
  layer: Layer,
  info: PrunableLayerInfo,
  x: tf.Tensor,
  o: ExplicitOptions,
): tf.Tensor {
  const kernelVar = requireKernel(layer);
  const [kh = 1, kw = 1, cin = 1, mult = 1] = info.kernelShape;
  const kernel = tf.reshape(o.weight ?? kernelVar.read(), [1, kh * kw, cin, mult]);
  const X = o.X ?? inputMatrix(layer, info, x);
  const patches = tf.reshape(X, [-1, kh * kw, cin, 1]);
  let z: tf.Tensor = tf.reshape(tf.sum(tf.mul(patches, kernel), 1), [-1, cin * mult]);
  const bias = biasOf(layer)?.read();
  if (bias !== undefined) z = tf.add(z, bias);
  if (o.epsilon !== undefined) z = tf.add(z, o.epsilon);
  z = tf.reshape(z, [x.shape[0] ?? 0, ...outputInnerShape(layer, info, x), cin * mult]);
  return o.skipActivation === true ? z : activationOf(layer).apply(z);
}
