// The conformance suite on every bundled pruner (several parameter settings each) and on the
// example plugin of docs/plugins.md.
import baselines from '../../plugins/baselines/index.js';
import example from '../../plugins/examples/soft-magnitude.js';
import type { Pruner } from '../../src/plugin-api/pruner.js';
import { describePrunerConformance } from './pruner-conformance.js';
import { icbsPruner } from '../../src/icbs/pruner.js';

function byName(name: string): Pruner {
  const p = baselines.pruners?.find((x) => x.name === name);
  if (p === undefined) throw new Error(`baselines plugin has no pruner '${name}'`);
  return p;
}
const plugin = baselines.name ?? 'scalpel-baselines';
const pattern24 = { pattern: { keep: 2, of: 4 } };

describePrunerConformance(byName('magnitude'), {
  plugin,
  invalidParams: [{ granularity: 'per-row' }, { pattern: { keep: 2 } }],
});
describePrunerConformance(byName('magnitude'), {
  plugin,
  params: { granularity: 'global' },
  density: 0.2,
});
describePrunerConformance(byName('magnitude'), { plugin, params: { granularity: 'per-input' } });
describePrunerConformance(byName('magnitude'), { plugin, params: pattern24 });
describePrunerConformance(byName('random'), {
  plugin,
  density: 0.15,
  invalidParams: [{ seed: 'x' }, { granularity: 3 }],
});
describePrunerConformance(byName('gradient'), { plugin, params: { granularity: 'per-output' } });
describePrunerConformance(byName('wanda'), { plugin, invalidParams: [{ granularity: 'global' }] });
describePrunerConformance(byName('wanda'), { plugin, params: { pattern: { keep: 4, of: 8 } } });
describePrunerConformance(byName('sparsegpt'), {
  plugin,
  density: 0.25,
  invalidParams: [{ percdamp: -1 }, { blocksize: 0 }],
});
describePrunerConformance(byName('sparsegpt'), { plugin, params: pattern24 });

for (const p of example.pruners ?? []) {
  describePrunerConformance(p, {
    plugin: example.name ?? 'example',
    params: { temperature: 0.5 },
    invalidParams: [{ temperature: 0 }],
  });
}

// The built-in iCBS, with a small budget (a few steps on small blocks) so the suite stays quick.
describePrunerConformance(icbsPruner, {
  plugin: 'builtin',
  params: {
    steps: 4,
    blockSize: 32,
    k: 16,
    batchSize: 32,
    initSamples: 64,
    epochs: 1,
    solver: { uses: 'sa', restarts: 2 },
  },
  density: 0.3,
  invalidParams: [{ k: 'many' }, { hessian: 'diagonal' }],
});
