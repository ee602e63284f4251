// magnitude: keep the weights of largest |w| — per layer, per output unit, per input feature,
// globally, or in an N:M pattern.
import { definePruner, magnitudeScores, masksFromScores, readSchema } from '../../src/index.js';
import type { Granularity, NMPattern } from '../../src/index.js';

// A type alias, not an interface: it must be assignable to Record<string, unknown>.
export type MagnitudeParams = {
  granularity: Granularity;
  pattern?: NMPattern;
};

export const magnitudePruner = definePruner<MagnitudeParams>({
  name: 'magnitude',
  version: '1',
  description:
    'Keep the weights of largest |w| (layer, per-output, per-input or global threshold; N:M)',
  schema: readSchema('pruners/magnitude.schema.json'),
  prune({ layers, params }) {
    // Synchronous work, but a failure still comes back as a rejection, as from an async pruner.
    return new Promise((resolve) => {
      resolve({ masks: masksFromScores(layers, (l) => magnitudeScores(l.weights), params) });
    });
  },
});
