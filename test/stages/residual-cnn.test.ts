// A residual CNN (two conv blocks with a skip connection and batch norm, a functional model)
// trained by a recipe on a subset of MNIST and pruned by magnitude, wanda, sparsegpt and iCBS —
// every stage on the wasm backend, through the real engine. iCBS must end above the magnitude
// mask it starts from, and every pruned layer must hold its exact density.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runRecipe } from '../../src/index.js';
import { keepCount } from '../../src/pruning/select-mask.js';
import { tempDir } from '../helpers/paths.js';

const density = 0.3;
/** Kernel rows (kh·kw·cin, or inputs) of each prunable layer of the recipe's model. */
const fanIns: Record<string, number> = {
  stem: 9,
  'block1.conv1': 72,
  'block1.conv2': 72,
  'block2.conv1': 72,
  'block2.conv2': 72,
  head: 392,
};

function recipe(): string {
  const evalOf = (stage: string) =>
    `{ uses: evaluate, needs: [${stage}, data], with: { metrics: [accuracy, loss, sparsity] } }`;
  return `version: 1
name: residual-cnn
seed: 5
backend: wasm
stages:
  data:
    uses: load-dataset
    with: { source: mnist, train: 2000, test: 500, flatten: false, normalize: { mean: 0.13, std: 0.31 } }
  model:
    uses: train
    needs: [data]
    with:
      epochs: 3
      batchSize: 32
      learningRate: 0.003
      model:
        input: [28, 28, 1]
        layers:
          - { type: conv2d, filters: 8, kernelSize: 3, strides: 2, padding: same, activation: relu, name: stem }
          - type: residual
            name: block1.add
            layers:
              - { type: conv2d, filters: 8, kernelSize: 3, padding: same, name: block1.conv1 }
              - { type: batchNorm, name: block1.bn1 }
              - { type: activation, activation: relu }
              - { type: conv2d, filters: 8, kernelSize: 3, padding: same, name: block1.conv2 }
          - { type: maxpool, poolSize: 2 }
          - type: residual
            name: block2.add
            layers:
              - { type: conv2d, filters: 8, kernelSize: 3, padding: same, activation: relu, name: block2.conv1 }
              - { type: conv2d, filters: 8, kernelSize: 3, padding: same, name: block2.conv2 }
          - { type: flatten }
          - { type: dense, units: 10, name: head }
  calib: { uses: calibrate, needs: [model, data], with: { samples: 128 } }
  magnitude: { uses: prune, needs: [model], with: { method: magnitude, density: ${density} } }
  wanda: { uses: prune, needs: [model, calib], with: { method: wanda, density: ${density} } }
  sparsegpt: { uses: prune, needs: [model, calib], with: { method: sparsegpt, density: ${density} } }
  icbs:
    uses: icbs
    needs: [model, data]
    with:
      density: ${density}
      init: { method: magnitude }
      blockSize: 64
      k: 24
      steps: 30
      epochs: 1
      batchSize: 64
      solver: { uses: sa, restarts: 2, workers: 0 }
  eval-dense: ${evalOf('model')}
  eval-magnitude: ${evalOf('magnitude')}
  eval-wanda: ${evalOf('wanda')}
  eval-sparsegpt: ${evalOf('sparsegpt')}
  eval-icbs: ${evalOf('icbs')}
`;
}

describe('a residual CNN through every stage on wasm', function () {
  this.timeout(600_000);

  it('trains, calibrates, and is pruned by magnitude, wanda, sparsegpt and iCBS (iCBS above its magnitude start)', async () => {
    const dir = tempDir('scalpel-residual-cnn-');
    const file = join(dir, 'recipe.yaml');
    writeFileSync(file, recipe());
    const summary = await runRecipe(file, {
      cwd: dir,
      cacheDir: join(dir, '.scalpel'),
      quiet: true,
    });
    const failed = summary.nodes.filter((n) => n.status !== 'ran');
    assert.deepEqual(
      failed.map((n) => `${n.id}: ${n.error?.message ?? n.status}`),
      [],
    );
    const metric = (id: string): Record<string, unknown> =>
      summary.nodes.find((n) => n.id === id)?.metrics ?? {};
    const accuracy = (id: string): number => metric(id).accuracy as number;

    assert.ok(
      accuracy('eval-dense') > 0.8,
      `the residual CNN learned MNIST (${accuracy('eval-dense')})`,
    );
    for (const method of ['magnitude', 'wanda', 'sparsegpt', 'icbs']) {
      const layers = metric(method).layers as Record<string, { kept: number; size: number }>;
      assert.deepEqual(Object.keys(layers).sort(), [
        'block1.conv1',
        'block1.conv2',
        'block2.conv1',
        'block2.conv2',
        'head',
        'stem',
      ]);
      for (const [name, l] of Object.entries(layers)) {
        // wanda compares within each output unit (per-output); the others over the whole layer.
        const fanIn = fanIns[name]!;
        const want =
          method === 'wanda'
            ? (l.size / fanIn) * keepCount(density, fanIn)
            : keepCount(density, l.size);
        assert.equal(l.kept, want, `${method}: ${name} holds its exact density`);
      }
      const sparsity = metric(`eval-${method}`).sparsity as { total: number };
      assert.ok(
        Math.abs(sparsity.total - (1 - density)) < 0.02,
        `${method}: measured sparsity ${sparsity.total}`,
      );
    }
    assert.ok(
      accuracy('eval-icbs') > accuracy('eval-magnitude'),
      `iCBS ${accuracy('eval-icbs')} must end above its magnitude start ${accuracy('eval-magnitude')}`,
    );
    assert.ok(
      accuracy('eval-sparsegpt') > accuracy('eval-magnitude') - 0.05,
      'sparsegpt reconstructs: not far below magnitude',
    );
  });
});
