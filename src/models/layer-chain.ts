// Runs a model layer by layer (model.layers[i].apply), which lets scalpel (a) see the input of
// every prunable layer (calibration statistics) and (b) draw dropout noise from the stage Rng
// instead of tfjs' Math.random, so training is reproducible. Works for sequential models and for
// functional models that are a single chain; others are reported as unsupported by the caller.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Rng } from '../util/rng.js';

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
      if (inbound.length > 1 || (inbound.length === 1 && inbound[0]?.getClassName() !== 'InputLayer')) return undefined;
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
export function chainForward(chain: readonly Layer[], x: tf.Tensor, opts: ChainForwardOptions = {}): tf.Tensor {
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
    h = layer.apply(h, { training: opts.training === true }) as tf.Tensor;
  }
  return h;
}
