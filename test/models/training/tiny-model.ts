// A tiny classifier and random data for the training tests: 6 inputs → Dense(8, relu) → Dropout →
// Dense(3 logits), through the tfjs-layers family, with seeded initialisers.
import * as tfl from '@tensorflow/tfjs-layers';
import { TfjsLayersModel } from '../../../src/models/tfjs-layers/layers-model.js';
import type { Samples } from '../../../src/plugin-api/dataset.js';
import { Rng } from '../../../src/util/rng.js';

export function tinyModel(seed: number): TfjsLayersModel {
  const init = (k: number): ReturnType<typeof tfl.initializers.glorotUniform> =>
    tfl.initializers.glorotUniform({ seed: seed * 10 + k });
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({
        inputShape: [6],
        units: 8,
        activation: 'relu',
        kernelInitializer: init(1),
        biasInitializer: 'zeros',
      }),
      tfl.layers.dropout({ rate: 0.25 }),
      tfl.layers.dense({ units: 3, kernelInitializer: init(2), biasInitializer: 'zeros' }),
    ],
  });
  return new TfjsLayersModel(model);
}

export function randomSamples(count: number, seed: number): Samples {
  const rng = new Rng(seed);
  return {
    count,
    sampleShape: [6],
    x: Float32Array.from({ length: count * 6 }, () => rng.normal()),
    y: Int32Array.from({ length: count }, () => rng.int(3)),
    ids: Int32Array.from({ length: count }, (_, i) => i),
  };
}

/** Every trainable value of the model, variable by variable. */
export function weightsOf(model: TfjsLayersModel): Float32Array[] {
  return model.trainableVariables().map((v) => Float32Array.from(v.dataSync() as Float32Array));
}
