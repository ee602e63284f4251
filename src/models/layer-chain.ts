// Runs a model layer by layer (model.layers[i].apply), which lets scalpel (a) see the input of
// every prunable layer (calibration statistics) and (b) draw dropout noise from the stage Rng
// instead of tfjs' Math.random, so training is reproducible. Works for sequential models and for
// functional models that are a single chain; others are reported as unsupported by the caller.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Rng } from '../util/rng.js';
import { im2col, type Conv2dConfig } from './layer-input-matrix.js';

type Layer = tfl.LayersModel['layers'][number];

/** The model's layers in execution order, without InputLayers, or undefined if it is not a chain. */
export function layerChain(model: tfl.LayersModel): Layer[] | undefined {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return undefined;
  const chain = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  let previous: Layer | undefined;
  for (const layer of chain) {
    if (layer.inboundNodes.length !== 1) return undefined;
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    if (previous === undefined) {
      if (
        inbound.length > 1 ||
        (inbound.length === 1 && inbound[0]?.getClassName() !== 'InputLayer')
      )
        return undefined;
    } else if (inbound.length !== 1 || inbound[0] !== previous) {
      return undefined;
    }
    previous = layer;
  }
  return chain;
}

export interface ChainForwardOptions {
  /** Training mode: dropout active, with noise seeded from `rng`. */
  training?: boolean;
  rng?: Rng;
  /** Called with the input of each layer before it runs (the tensor is disposed by the caller's tidy). */
  onLayerInput?(layer: Layer, input: tf.Tensor): void;
}

/** Forward pass through a chain of layers (call inside tf.tidy or a gradient function). */
export function chainForward(
  chain: readonly Layer[],
  x: tf.Tensor,
  opts: ChainForwardOptions = {},
): tf.Tensor {
  let h = x;
  for (const layer of chain) {
    opts.onLayerInput?.(layer, h);
    if (layer.getClassName() === 'Dropout') {
      if (opts.training === true) {
        const rate = (layer.getConfig() as { rate: number }).rate;
        // A fresh seed per call: tfjs' own dropout with a fixed seed would reuse one mask forever.
        h = rate > 0 ? tf.dropout(h, rate, undefined, opts.rng?.nextUint32()) : h;
      }
      continue;
    }
    h =
      layer.getClassName() === 'Conv2D' && needsConvViaMatMul()
        ? conv2dViaMatMul(layer, h)
        : (layer.apply(h, { training: opts.training === true }) as tf.Tensor);
  }
  return h;
}

/**
 * The wasm backend has no Conv2DBackpropFilter kernel, so a Conv2D cannot be differentiated
 * w.r.t. its kernel there. Where it is missing, Conv2D layers run as im2col patches × kernel (a
 * matMul, which every backend can differentiate): the same function, equal up to float rounding.
 */
function needsConvViaMatMul(): boolean {
  return tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined;
}

const activationLayers = new Map<string, Layer>();

function conv2dViaMatMul(layer: Layer, x: tf.Tensor): tf.Tensor {
  const config = layer.getConfig() as Conv2dConfig & { activation?: string };
  const kernel = layer.weights.find((w) => /kernel/.test(w.originalName))?.read();
  const bias = layer.weights.find((w) => /bias/.test(w.originalName))?.read();
  if (kernel === undefined || config.dataFormat === 'channelsFirst')
    return layer.apply(x) as tf.Tensor;
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
  const patches = im2col(x as tf.Tensor4D, kh, kw, config);
  let z: tf.Tensor = tf.matMul(patches, tf.reshape(kernel, [kh * kw * cin, cout]));
  if (bias !== undefined) z = tf.add(z, bias);
  const [n, h, w] = x.shape as [number, number, number, number];
  const [sh, sw] =
    typeof config.strides === 'number'
      ? [config.strides, config.strides]
      : [config.strides?.[0] ?? 1, config.strides?.[1] ?? 1];
  const [dh, dw] =
    typeof config.dilationRate === 'number'
      ? [config.dilationRate, config.dilationRate]
      : [config.dilationRate?.[0] ?? 1, config.dilationRate?.[1] ?? 1];
  const outH =
    config.padding === 'same' ? Math.ceil(h / sh) : Math.floor((h - ((kh - 1) * dh + 1)) / sh) + 1;
  const outW =
    config.padding === 'same' ? Math.ceil(w / sw) : Math.floor((w - ((kw - 1) * dw + 1)) / sw) + 1;
  z = tf.reshape(z, [n, outH, outW, cout]);
  const activation = config.activation ?? 'linear';
  if (activation === 'linear') return z;
  let act = activationLayers.get(activation);
  if (act === undefined) {
    act = tfl.layers.activation({ activation: activation as 'relu' });
    activationLayers.set(activation, act);
  }
  return act.apply(z) as tf.Tensor;
}
