// Every built-in pruner (and the example plugin) through the pruner conformance suite on a small
// trained ViT: exact densities / N:M patterns in the attention and MLP projections, pruned weights
// exactly 0, the excluded classifier untouched, the input artifact unchanged, deterministic per
// seed, no tensor leaks. Wanda and SparseGPT also block by block (sequential calibration).
import baselines from '../../../plugins/baselines/index.js';
import example from '../../../plugins/examples/soft-magnitude.js';
import { icbsPruner } from '../../../src/icbs/pruner.js';
import type { Pruner } from '../../../src/plugin-api/pruner.js';
import {
  describePrunerConformance,
  type ConformanceOptions,
} from '../../conformance/pruner-conformance.js';
import { vitPruneFixture } from './prune-fixture.js';

function byName(name: string): Pruner {
  const p = baselines.pruners?.find((x) => x.name === name);
  if (p === undefined) throw new Error(`baselines plugin has no pruner '${name}'`);
  return p;
}
const plugin = baselines.name ?? 'scalpel-baselines';
const pattern24 = { pattern: { keep: 2, of: 4 } };
const onVit = (
  sequential = false,
): Pick<ConformanceOptions, 'fixture' | 'excluded' | 'subject'> => ({
  fixture: vitPruneFixture(sequential),
  excluded: 'classifier',
  subject: sequential ? 'a ViT, block by block' : 'a ViT',
});

describePrunerConformance(byName('magnitude'), { plugin, ...onVit() });
describePrunerConformance(byName('magnitude'), {
  plugin,
  params: { granularity: 'global' },
  density: 0.2,
  ...onVit(),
});
describePrunerConformance(byName('magnitude'), { plugin, params: pattern24, ...onVit() });
describePrunerConformance(byName('random'), { plugin, density: 0.15, ...onVit() });
describePrunerConformance(byName('gradient'), {
  plugin,
  params: { granularity: 'per-output' },
  ...onVit(),
});
describePrunerConformance(byName('wanda'), { plugin, ...onVit() });
describePrunerConformance(byName('wanda'), { plugin, params: pattern24, ...onVit(true) });
describePrunerConformance(byName('sparsegpt'), { plugin, density: 0.25, ...onVit() });
describePrunerConformance(byName('sparsegpt'), { plugin, params: pattern24, ...onVit(true) });
for (const p of example.pruners ?? []) {
  describePrunerConformance(p, {
    plugin: example.name ?? 'example',
    params: { temperature: 0.5 },
    ...onVit(),
  });
}
describePrunerConformance(icbsPruner, {
  plugin: 'builtin',
  params: {
    steps: 3,
    blockSize: 16,
    k: 8,
    batchSize: 16,
    initSamples: 32,
    epochs: 1,
    solver: { uses: 'sa', restarts: 2 },
  },
  density: 0.3,
  ...onVit(),
});
