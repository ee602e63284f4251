// Which layers of a tfjs LayersModel are prunable operators, and the one rule for "this weight is
// the layer's kernel". Every kernel is seen as the row-major [fanIn, units] matrix of
// src/plugin-api/layers.ts: a tfjs kernel's own row-major order already is that matrix (Dense
// [in, out]; Conv2D [kh, kw, cin, cout]; Conv1D [k, cin, cout]; DepthwiseConv2D [kh, kw, cin, mult]),
// so reading and writing is a flat copy.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { PrunableLayerInfo, PrunableLayerKind } from '../../plugin-api/layers.js';

export type Layer = tfl.LayersModel['layers'][number];
export type LayerVariable = Layer['weights'][number];

export const kindByClass: Readonly<Record<string, PrunableLayerKind>> = {
  Dense: 'dense',
  Conv2D: 'conv2d',
  Conv1D: 'conv1d',
  DepthwiseConv2D: 'depthwiseConv2d',
};

/** The rule for "this weight is the layer's kernel" (the one pruned). */
export function isKernelWeight(w: {
  readonly originalName: string;
  readonly name: string;
}): boolean {
  return /(^|\/)(depthwise_)?kernel(:\d+)?$/.test(w.originalName) || /kernel/.test(w.name);
}

/** The rule for the layer's bias. */
export function isBiasWeight(w: { readonly originalName: string }): boolean {
  return /(^|\/)bias(:\d+)?$/.test(w.originalName);
}

export function kernelOf(layer: Layer): LayerVariable | undefined {
  return layer.weights.find(isKernelWeight);
}

export function biasOf(layer: Layer): LayerVariable | undefined {
  return layer.weights.find(isBiasWeight);
}

/** The operator description of a prunable layer, or undefined if the layer is not one. */
export function operatorInfo(layer: Layer): PrunableLayerInfo | undefined {
  const kind = kindByClass[layer.getClassName()];
  const variable = kind === undefined ? undefined : kernelOf(layer);
  if (kind === undefined || variable === undefined) return undefined;
  const shape = variable.shape.map((d) => d ?? 0);
  const units = shape[shape.length - 1] ?? 0;
  const paramCount = shape.reduce((a, b) => a * b, 1);
  return {
    name: layer.name,
    kind,
    kernelShape: shape,
    fanIn: paramCount / Math.max(units, 1),
    units,
    paramCount,
  };
}

/** Prunable operators of the model, in model order. */
export function listOperators(model: tfl.LayersModel): PrunableLayerInfo[] {
  const out: PrunableLayerInfo[] = [];
  for (const layer of model.layers) {
    const info = operatorInfo(layer);
    if (info !== undefined) out.push(info);
  }
  return out;
}
