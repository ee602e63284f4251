// gradient: keep the weights of largest |w ⊙ ḡ|, ḡ the mean loss gradient over the calibration
// samples (first-order Taylor estimate of the loss change when a weight is removed).
import { definePruner, gradientScores, masksFromScores, readSchema } from '../../src/index.js';
import type { Granularity } from '../../src/index.js';
import { layerCalibration } from './calibration-input.js';

// A type alias, not an interface: it must be assignable to Record<string, unknown>.
export type GradientParams = {
  granularity: Granularity;
};

export const gradientPruner = definePruner<GradientParams>({
  name: 'gradient',
  version: '1',
  description: 'Keep the weights of largest |w ⊙ ḡ| (calibration mean gradient)',
  schema: readSchema('pruners/gradient.schema.json'),
  calibration: { meanGradient: true },
  prune({ layers, params, calibration }) {
    // Synchronous work, but a failure still comes back as a rejection, as from an async pruner.
    return new Promise((resolve) => {
      const score = (l: (typeof layers)[number]): Float32Array =>
        gradientScores(
          l.weights,
          layerCalibration('gradient', calibration, l.info.name, 'meanGradient'),
        );
      resolve({ masks: masksFromScores(layers, score, params) });
    });
  },
});
