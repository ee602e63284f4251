// wanda (Sun, Liu, Bair, Kolter 2023, arXiv:2306.11695): score |W[i,o]|·‖X_i‖₂, the weight
// magnitude times the L2 norm of its input feature over all calibration rows, and prune the
// lowest-scoring (1 − density) of each output unit's weights (per-output comparison, the paper's
// default; `layer` is its ablation), or the lowest of every N:M group.
import { definePruner, masksFromScores, readSchema, wandaScores } from '../../src/index.js';
import type { Granularity, NMPattern } from '../../src/index.js';
import { layerCalibration } from './calibration-input.js';

// A type alias, not an interface: it must be assignable to Record<string, unknown>.
export type WandaParams = {
  granularity: Extract<Granularity, 'per-output' | 'layer'>;
  pattern?: NMPattern;
};

export const wandaPruner = definePruner<WandaParams>({
  name: 'wanda',
  version: '1',
  description:
    'Wanda: keep the largest |w|·‖x‖₂ within each output unit (calibration input norms; N:M)',
  schema: readSchema('pruners/wanda.schema.json'),
  calibration: { inputNorms: true },
  layerwise: true,
  prune({ layers, params, calibration }) {
    // Synchronous work, but a failure still comes back as a rejection, as from an async pruner.
    return new Promise((resolve) => {
      const score = (l: (typeof layers)[number]): Float32Array =>
        wandaScores(
          l.weights,
          layerCalibration('wanda', calibration, l.info.name, 'inputNorms'),
          l.info.units,
        );
      resolve({ masks: masksFromScores(layers, score, params) });
    });
  },
});
