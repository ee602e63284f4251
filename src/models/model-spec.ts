// Builds a tfjs model from the `model:` description of a train recipe:
//   model: { input: [784], layers: [ { type: dense, units: 512, activation: relu, name: linear1 }, … ] }
// A plain stack becomes a Sequential model; one with `residual` blocks (x + f(x), ResNet-style)
// becomes a functional model with Add layers.
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

/** A residual block: activation(x + layers(x)); the inner stack must keep the input's shape. */
export interface ResidualSpec {
  type: 'residual';
  layers: LayerSpec[];
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
      hint: 'check the layer parameters and that its input shape fits (conv2d/maxpool need [h, w, c] inputs; use reshape; a residual block must keep its input shape)',
      cause: e,
    },
  );
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
    try {
      const sum = tfl.layers.add(nameOf(layer)).apply([h, f]) as tfl.SymbolicTensor;
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
