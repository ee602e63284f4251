// Which weights of a LayersModel can be pruned, and access to them as flat [fanIn, units]
// row-major arrays (the layout described in src/plugin-api/layers.ts).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { PrunableLayerInfo, PrunableLayerKind } from '../plugin-api/layers.js';

const kindByClass: Record<string, PrunableLayerKind> = {
  Dense: 'dense',
  Conv2D: 'conv2d',
  Conv1D: 'conv1d',
  DepthwiseConv2D: 'depthwiseConv2d',
};

type Layer = tfl.LayersModel['layers'][number];

/** The rule for "this weight is the layer's kernel" (the one pruned). */
export function isKernelWeight(w: {
  readonly originalName: string;
  readonly name: string;
}): boolean {
  return /(^|\/)(depthwise_)?kernel(:\d+)?$/.test(w.originalName) || /kernel/.test(w.name);
}

function kernelIndex(layer: Layer): number {
  return layer.weights.findIndex(isKernelWeight);
}

/** Prunable layers (those with a kernel of a supported kind), in model order. */
export function listPrunableLayers(model: tfl.LayersModel): PrunableLayerInfo[] {
  const out: PrunableLayerInfo[] = [];
  for (const layer of model.layers) {
    const kind = kindByClass[layer.getClassName()];
    if (kind === undefined) continue;
    const k = kernelIndex(layer);
    const variable = layer.weights[k];
    if (variable === undefined) continue;
    const shape = variable.shape.map((d) => d ?? 0);
    const units = shape[shape.length - 1] ?? 0;
    const paramCount = shape.reduce((a, b) => a * b, 1);
    out.push({
      name: layer.name,
      kind,
      kernelShape: shape,
      fanIn: paramCount / Math.max(units, 1),
      units,
      paramCount,
    });
  }
  return out;
}

function findLayer(model: tfl.LayersModel, name: string): Layer {
  const layer = model.layers.find((l) => l.name === name);
  if (layer === undefined) {
    throw new ScalpelError(ErrorCode.Data, `the model has no layer '${name}'`, {
      layer: name,
      hint: `layers: ${model.layers.map((l) => l.name).join(', ')}`,
    });
  }
  return layer;
}

/** A copy of the layer's kernel, flattened row-major. */
export function readKernel(model: tfl.LayersModel, name: string): Float32Array {
  const layer = findLayer(model, name);
  const variable = layer.weights[kernelIndex(layer)];
  if (variable === undefined)
    throw new ScalpelError(ErrorCode.Data, `layer '${name}' has no kernel`, { layer: name });
  const t = variable.read();
  return Float32Array.from(t.dataSync() as Float32Array);
}

/** Replace the layer's kernel with `data` (same layout and size as readKernel returns). */
export function writeKernel(model: tfl.LayersModel, name: string, data: Float32Array): void {
  const layer = findLayer(model, name);
  const k = kernelIndex(layer);
  const variable = layer.weights[k];
  if (variable === undefined)
    throw new ScalpelError(ErrorCode.Data, `layer '${name}' has no kernel`, { layer: name });
  const shape = variable.shape.map((d) => d ?? 0);
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `kernel of '${name}' needs ${size} values, got ${data.length}`,
      { layer: name },
    );
  }
  const t = tf.tensor(data, shape, 'float32');
  variable.write(t);
  t.dispose();
}

/** Zero the pruned weights of every masked layer (mask 1 = keep). */
export function applyMasks(model: tfl.LayersModel, masks: ReadonlyMap<string, Uint8Array>): void {
  for (const [name, mask] of masks) {
    const w = readKernel(model, name);
    if (w.length !== mask.length) {
      throw new ScalpelError(
        ErrorCode.Data,
        `mask of '${name}' has ${mask.length} entries, the kernel ${w.length}`,
        { layer: name },
      );
    }
    for (let i = 0; i < w.length; i++) if (mask[i] === 0) w[i] = 0;
    writeKernel(model, name, w);
  }
}
