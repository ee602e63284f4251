// random: a uniformly random mask of exact density, seeded by the stage seed. Each layer draws
// from its own generator (forked by layer name), so selecting another layer does not change it.
import { definePruner, masksFromScores, randomScores, readSchema } from '../../src/index.js';
import type { Granularity } from '../../src/index.js';

// A type alias, not an interface: it must be assignable to Record<string, unknown>.
export type RandomParams = {
  granularity: Granularity;
};

export const randomPruner = definePruner<RandomParams>({
  name: 'random',
  version: '1',
  description: 'Keep a seeded uniformly random subset of the weights (sanity baseline)',
  schema: readSchema('pruners/random.schema.json'),
  prune({ layers, params, rng }) {
    // Synchronous work, but a failure still comes back as a rejection, as from an async pruner.
    return new Promise((resolve) => {
      resolve({
        masks: masksFromScores(
          layers,
          (l) => randomScores(l.weights.length, rng.fork(l.info.name)),
          params,
        ),
      });
    });
  },
});
