// The conformance suite on every built-in pruner with a small ResNet (conv layers, batch norm,
// identity and projection shortcuts) instead of the MLP: exact densities per conv layer, binary
// masks, determinism, no tensor leaks — through the tfjs-layers family (convs as im2col).
import baselines from '../../plugins/baselines/index.js';
import type { Pruner } from '../../src/plugin-api/pruner.js';
import { icbsPruner } from '../../src/icbs/pruner.js';
import { describePrunerConformance } from './pruner-conformance.js';
import { resnetFixture } from './resnet-fixture.js';

const plugin = baselines.name ?? 'scalpel-baselines';
const fixture = resnetFixture;
const subject = 'the ResNet';

function byName(name: string): Pruner {
  const p = baselines.pruners?.find((x) => x.name === name);
  if (p === undefined) throw new Error(`baselines plugin has no pruner '${name}'`);
  return p;
}

for (const name of ['magnitude', 'random', 'gradient', 'wanda', 'sparsegpt']) {
  describePrunerConformance(byName(name), { plugin, fixture, subject, timeout: 300_000 });
}
describePrunerConformance(byName('magnitude'), {
  plugin,
  fixture,
  params: { pattern: { keep: 2, of: 4 } },
  excluded: 'stem',
});
describePrunerConformance(icbsPruner, {
  plugin: 'builtin',
  fixture,
  params: {
    steps: 3,
    blockSize: 32,
    k: 16,
    batchSize: 32,
    initSamples: 64,
    epochs: 1,
    solver: { uses: 'sa', restarts: 2 },
  },
  density: 0.3,
  timeout: 300_000,
});
