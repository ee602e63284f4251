// Builds a tfjs model from the `model:` description of a train recipe:
//   model: { input: [784], layers: [ { type: dense, units: 512, activation: relu, name: linear1 }, … ] }
// A plain stack becomes a Sequential model; one with `residual` blocks (x + f(x), ResNet-style)
// becomes a functional model with Add layers. A block whose inner stack changes the shape (stride,
// more filters) adds through a projection shortcut: 1×1 conv with that stride, then batch norm.
// Every weight initialiser gets its own seed derived from the stage Rng (by layer position), so
// the same recipe seed gives bit-identical initial weights.
import * as tfl from '@tensorflow/tfjs-layers';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Rng } from '../util/rng.js';

type Activation =
  | 'linear'
  | 'relu'
  | 'relu6'
  | 'elu'
  | 'selu'
  | 'sigmoid'
  | 'tanh'
  | 'softmax'
  | 'softplus'
  | 'swish'
  | 'gelu';

export type LayerSpec =
  | { type: 'dense'; units: number; activation?: Activation; useBias?: boolean; name?: string }
  | {
      type: 'conv2d';
      filters: number;
      kernelSize: number | [number, number];
      strides?: number | [number, number];
      padding?: 'valid' | 'same';
      activation?: Activation;
      useBias?: boolean;
      name?: string;
    }
  | {
      type: 'maxpool';
      poolSize?: number | [number, number];
      strides?: number | [number, number];
      padding?: 'valid' | 'same';
      name?: string;
    }
  | { type: 'flatten'; name?: string }
  | { type: 'reshape'; targetShape: number[]; name?: string }
  | { type: 'dropout'; rate: number; name?: string }
  | { type: 'activation'; activation: Activation; name?: string }
  | { type: 'batchNorm'; momentum?: number; epsilon?: number; name?: string }
  | { type: 'globalAvgPool'; name?: string };

/** The projection of a residual block's input to the inner stack's output shape (ResNet option B). */
export interface ShortcutSpec {
  /** Output channels (default: the inner stack's). */
  filters?: number;
  /** Stride of the 1×1 conv (default: input size / output size). */
  strides?: number | [number, number];
  /** Batch norm after the conv (default true; the conv then has no bias). */
  batchNorm?: boolean;
  /** Name of the 1×1 conv (its batch norm: name + '.bn'); default: the block's name + '.shortcut'. */
  name?: string;
}

/**
 * A residual block: activation(x + layers(x)), or activation(shortcut(x) + layers(x)) with a
 * projection shortcut; without one the inner stack must keep the input's shape.
 */
export interface ResidualSpec {
  type: 'residual';
  layers: LayerSpec[];
  /** 'projection': filters and strides from the shapes; or set them. */
  shortcut?: 'projection' | ShortcutSpec;
  /** Applied after the addition (default relu, as in ResNet basic blocks). */
  activation?: Activation;
  /** Name of the Add layer. */
  name?: string;
}

export type ModelLayerSpec = LayerSpec | ResidualSpec;

export interface ModelSpec {
  /** Shape of one sample, e.g. [784] or [28, 28, 1]. */
  input: number[];
  layers: ModelLayerSpec[];
}

type Layer = tfl.LayersModel['layers'][number];

/** One tfjs layer for a spec; `seed` seeds its kernel initialiser. */
function makeLayer(
  layer: LayerSpec,
  seed: number,
  common: { name?: string; inputShape?: number[] },
): Layer {
  const kernelInitializer = tfl.initializers.glorotUniform({ seed });
  switch (layer.type) {
    case 'dense':
      return tfl.layers.dense({
        ...common,
        units: layer.units,
        activation: layer.activation ?? 'linear',
        useBias: layer.useBias ?? true,
        kernelInitializer,
      });
    case 'conv2d':
      return tfl.layers.conv2d({
        ...common,
        filters: layer.filters,
        kernelSize: layer.kernelSize,
        strides: layer.strides ?? 1,
        padding: layer.padding ?? 'valid',
        activation: layer.activation ?? 'linear',
        useBias: layer.useBias ?? true,
        kernelInitializer,
      });
    case 'maxpool':
      return tfl.layers.maxPooling2d({
        ...common,
        poolSize: layer.poolSize ?? 2,
        ...(layer.strides !== undefined ? { strides: layer.strides } : {}),
        padding: layer.padding ?? 'valid',
      });
    case 'flatten':
      return tfl.layers.flatten(common);
    case 'reshape':
      return tfl.layers.reshape({ ...common, targetShape: layer.targetShape });
    case 'dropout':
      // Dropout noise during training is drawn by the forward pass from the stage Rng.
      return tfl.layers.dropout({ ...common, rate: layer.rate });
    case 'activation':
      return tfl.layers.activation({ ...common, activation: layer.activation });
    case 'batchNorm':
      return tfl.layers.batchNormalization({
        ...common,
        ...(layer.momentum !== undefined ? { momentum: layer.momentum } : {}),
        ...(layer.epsilon !== undefined ? { epsilon: layer.epsilon } : {}),
      });
    case 'globalAvgPool':
      return tfl.layers.globalAveragePooling2d(common);
  }
}

function buildError(
  where: string,
  path: string,
  layer: { type: string; name?: string | undefined },
  e: unknown,
): ScalpelError {
  return new ScalpelError(
    ErrorCode.RecipeSchema,
    `${where}: cannot add with.model.layers${path} (${layer.type}${layer.name !== undefined ? ` '${layer.name}'` : ''}): ${(e as Error).message}`,
    {
      hint: 'check the layer parameters and that its input shape fits (conv2d/maxpool need [h, w, c] inputs; use reshape; a residual block must keep its input shape, or add shortcut: projection)',
      cause: e,
    },
  );
}

/** The stride taking `size` to `out` as a 'same' conv does (out = ⌈size / stride⌉), or undefined. */
function strideFor(size: number, out: number): number | undefined {
  const s = Math.max(1, Math.round(size / out));
  return Math.ceil(size / s) === out ? s : undefined;
}

/** The projection shortcut of a residual block: 1×1 conv (stride) + batch norm, from x to f's shape. */
function projection(
  block: ResidualSpec,
  x: tfl.SymbolicTensor,
  f: tfl.SymbolicTensor,
  seed: number,
  where: string,
  path: string,
): tfl.SymbolicTensor {
  const spec: ShortcutSpec = block.shortcut === 'projection' ? {} : (block.shortcut ?? {});
  const fail = (message: string, hint: string): ScalpelError =>
    new ScalpelError(
      ErrorCode.RecipeSchema,
      `${where}: with.model.layers${path}.shortcut: ${message}`,
      { hint },
    );
  const [, inH, inW] = x.shape;
  const [, outH, outW, outC] = f.shape;
  if (x.shape.length !== 4 || f.shape.length !== 4) {
    throw fail(
      `a projection shortcut needs image tensors [h, w, c], but the block maps [${x.shape.slice(1).join(', ')}] to [${f.shape.slice(1).join(', ')}]`,
      'use shortcuts in convolutional blocks only',
    );
  }
  const strides =
    spec.strides ??
    (() => {
      const sh = strideFor(inH as number, outH as number);
      const sw = strideFor(inW as number, outW as number);
      if (sh === undefined || sw === undefined) {
        throw fail(
          `no stride takes the block's input ${inH}×${inW} to its output ${outH}×${outW}`,
          'use padding: same in the block (so a stride s gives ⌈size/s⌉), or set shortcut.strides',
        );
      }
      return [sh, sw] as [number, number];
    })();
  const name = spec.name ?? (block.name !== undefined ? `${block.name}.shortcut` : undefined);
  const batchNorm = spec.batchNorm ?? true;
  try {
    const conv = tfl.layers
      .conv2d({
        ...(name !== undefined ? { name } : {}),
        filters: spec.filters ?? (outC as number),
        kernelSize: 1,
        strides,
        padding: 'same',
        useBias: !batchNorm,
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      })
      .apply(x) as tfl.SymbolicTensor;
    if (!batchNorm) return conv;
    return tfl.layers
      .batchNormalization(name !== undefined ? { name: `${name}.bn` } : {})
      .apply(conv) as tfl.SymbolicTensor;
  } catch (e) {
    throw buildError(where, `${path}.shortcut`, { type: 'shortcut', name }, e);
  }
}

/** Build the (uncompiled) model. `where` names the stage for error messages. */
export function buildModel(spec: ModelSpec, rng: Rng, where: string): tfl.LayersModel {
  if (spec.layers.length === 0) {
    throw new ScalpelError(ErrorCode.RecipeSchema, `${where}: model.layers is empty`, {
      hint: 'list at least one layer, e.g. { type: dense, units: 10 }',
    });
  }
  const nameOf = (l: { name?: string }): { name?: string } =>
    l.name !== undefined ? { name: l.name } : {};
  if (!spec.layers.some((l) => l.type === 'residual')) {
    // A plain stack stays a Sequential model (as every model trained before residual blocks).
    const model = tfl.sequential();
    (spec.layers as LayerSpec[]).forEach((layer, i) => {
      const seed = rng.fork(`layer-${i}`).nextUint32();
      try {
        model.add(
          makeLayer(layer, seed, {
            ...nameOf(layer),
            ...(i === 0 ? { inputShape: spec.input } : {}),
          }),
        );
      } catch (e) {
        model.dispose();
        throw buildError(where, `[${i}]`, layer, e);
      }
    });
    return model;
  }
  const input = tfl.input({ shape: spec.input });
  let h: tfl.SymbolicTensor = input;
  const apply = (
    layer: LayerSpec,
    seed: number,
    x: tfl.SymbolicTensor,
    path: string,
  ): tfl.SymbolicTensor => {
    try {
      return makeLayer(layer, seed, nameOf(layer)).apply(x) as tfl.SymbolicTensor;
    } catch (e) {
      throw buildError(where, path, layer, e);
    }
  };
  spec.layers.forEach((layer, i) => {
    const layerRng = rng.fork(`layer-${i}`);
    if (layer.type !== 'residual') {
      h = apply(layer, layerRng.nextUint32(), h, `[${i}]`);
      return;
    }
    let f: tfl.SymbolicTensor = h;
    layer.layers.forEach((inner, j) => {
      f = apply(inner, layerRng.fork(`inner-${j}`).nextUint32(), f, `[${i}].layers[${j}]`);
    });
    const skip =
      layer.shortcut === undefined
        ? h
        : projection(layer, h, f, layerRng.fork('shortcut').nextUint32(), where, `[${i}]`);
    try {
      const sum = tfl.layers.add(nameOf(layer)).apply([skip, f]) as tfl.SymbolicTensor;
      const act = layer.activation ?? 'relu';
      h =
        act === 'linear'
          ? sum
          : (tfl.layers.activation({ activation: act }).apply(sum) as tfl.SymbolicTensor);
    } catch (e) {
      throw buildError(where, `[${i}]`, layer, e);
    }
  });
  return tfl.model({ inputs: input, outputs: h });
}
