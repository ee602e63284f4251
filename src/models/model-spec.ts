// Builds a tfjs sequential model from the `model:` description of a train recipe:
//   model: { input: [784], layers: [ { type: dense, units: 512, activation: relu, name: linear1 }, … ] }
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
  | { type: 'activation'; activation: Activation; name?: string };

export interface ModelSpec {
  /** Shape of one sample, e.g. [784] or [28, 28, 1]. */
  input: number[];
  layers: LayerSpec[];
}

/** Build the (uncompiled) model. `where` names the stage for error messages. */
export function buildModel(spec: ModelSpec, rng: Rng, where: string): tfl.Sequential {
  if (spec.layers.length === 0) {
    throw new ScalpelError(ErrorCode.RecipeSchema, `${where}: model.layers is empty`, {
      hint: 'list at least one layer, e.g. { type: dense, units: 10 }',
    });
  }
  const model = tfl.sequential();
  spec.layers.forEach((layer, i) => {
    const seed = rng.fork(`layer-${i}`).nextUint32();
    const kernelInitializer = tfl.initializers.glorotUniform({ seed });
    const common = {
      ...(layer.name !== undefined ? { name: layer.name } : {}),
      ...(i === 0 ? { inputShape: spec.input } : {}),
    };
    try {
      switch (layer.type) {
        case 'dense':
          model.add(
            tfl.layers.dense({
              ...common,
              units: layer.units,
              activation: layer.activation ?? 'linear',
              useBias: layer.useBias ?? true,
              kernelInitializer,
            }),
          );
          break;
        case 'conv2d':
          model.add(
            tfl.layers.conv2d({
              ...common,
              filters: layer.filters,
              kernelSize: layer.kernelSize,
              strides: layer.strides ?? 1,
              padding: layer.padding ?? 'valid',
              activation: layer.activation ?? 'linear',
              useBias: layer.useBias ?? true,
              kernelInitializer,
            }),
          );
          break;
        case 'maxpool':
          model.add(
            tfl.layers.maxPooling2d({
              ...common,
              poolSize: layer.poolSize ?? 2,
              ...(layer.strides !== undefined ? { strides: layer.strides } : {}),
              padding: layer.padding ?? 'valid',
            }),
          );
          break;
        case 'flatten':
          model.add(tfl.layers.flatten(common));
          break;
        case 'reshape':
          model.add(tfl.layers.reshape({ ...common, targetShape: layer.targetShape }));
          break;
        case 'dropout':
          // Dropout noise during training is drawn by training-loop.ts from the stage Rng.
          model.add(tfl.layers.dropout({ ...common, rate: layer.rate }));
          break;
        case 'activation':
          model.add(tfl.layers.activation({ ...common, activation: layer.activation }));
          break;
      }
    } catch (e) {
      model.dispose();
      throw new ScalpelError(
        ErrorCode.RecipeSchema,
        `${where}: cannot add with.model.layers[${i}] (${layer.type}${layer.name !== undefined ? ` '${layer.name}'` : ''}): ${(e as Error).message}`,
        {
          hint: 'check the layer parameters and that its input shape fits (conv2d/maxpool need [h, w, c] inputs; use reshape)',
          cause: e,
        },
      );
    }
  });
  return model;
}
