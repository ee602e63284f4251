// docs/plugins.md "Making `scalpel` importable from your project": a plugin in a project of its
// own (scalpel as a peer dependency, node_modules/scalpel a link to this checkout) imports
// scalpel's helpers by package name, and the real CLI runs a recipe of that project with it.
// The plugin records where 'scalpel' resolved from, so the test sees it was the linked checkout.
import { strict as assert } from 'node:assert';
import { readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/models/backend.js';
import { saveLayersModelToDir } from '../../src/models/tfjs-layers/model-files.js';
import { cliPath, repoRoot } from '../helpers/paths.js';
import { runNode, tempProject } from './temp-project.js';

/** A magnitude pruner written against the public API only, as a user would. */
const plugin = `import { definePlugin, definePruner, masksFromScores } from 'scalpel';

const from = import.meta.resolve('scalpel');

export default definePlugin({
  name: 'my-plugins',
  pruners: [
    definePruner({
      name: 'my-magnitude',
      version: '1',
      description: 'keep the largest |w| of each layer',
      schema: { type: 'object', additionalProperties: false, properties: {} },
      async prune({ layers }) {
        const scores = (layer) => Float64Array.from(layer.weights, Math.abs);
        return { masks: masksFromScores(layers, scores, { granularity: 'layer' }), info: { from } };
      },
    }),
  ],
});
`;

describe('docs/plugins.md: a plugin in its own project imports scalpel by name', function () {
  this.timeout(60000);
  let dir: string;
  let kernel: number[];

  before(async () => {
    dir = tempProject('scalpel-doc-plugin-');
    writeFileSync(join(dir, 'my-pruner.js'), plugin);
    await initBackend('cpu');
    const m = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [4], units: 3, useBias: false, name: 'fc' })],
    });
    kernel = Array.from(m.getWeights()[0]?.dataSync() ?? []);
    await saveLayersModelToDir(m, join(dir, 'model'));
    m.dispose();
    writeFileSync(
      join(dir, 'recipe.yaml'),
      [
        'version: 1',
        'backend: cpu',
        'plugins: [./my-pruner.js]',
        'stages:',
        '  model: { uses: load-model, with: { path: model/model.json } }',
        '  prune: { uses: prune, needs: [model], with: { method: my-magnitude, density: 0.5 } }',
        '',
      ].join('\n'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs through the CLI, resolving scalpel to the linked checkout', async () => {
    const r = await runNode([cliPath, 'run', 'recipe.yaml', '--out', 'run'], dir);
    assert.equal(r.code, 0, r.stderr);
    const metrics = JSON.parse(readFileSync(join(dir, 'run', 'metrics.json'), 'utf8')) as Record<
      string,
      { from?: string; kept?: number }
    >;
    const prune = metrics.prune;
    assert.ok(prune !== undefined, JSON.stringify(metrics));
    // the import went through node_modules/scalpel, a link to this checkout
    const from = realpathSync(fileURLToPath(prune.from ?? ''));
    assert.equal(from, realpathSync(join(repoRoot, 'dist', 'src', 'index.js')));
    // 12 weights at density 0.5 keep ⌊0.5·12 + ½⌋ = 6: the six largest |w| of the kernel
    assert.equal(prune.kept, 6);
    // a copy: a small file's Buffer may be a view into a larger pooled ArrayBuffer
    const bytes = Uint8Array.from(
      readFileSync(join(dir, 'run', 'artifacts', 'prune', 'weights.bin')),
    );
    const pruned = new Float32Array(bytes.buffer);
    assert.equal(pruned.length, 12);
    const order = kernel.map((w, i) => [Math.abs(w), i] as const).sort((a, b) => b[0] - a[0]);
    const keep = new Set(order.slice(0, 6).map(([, i]) => i));
    kernel.forEach((w, i) => assert.equal(pruned[i], keep.has(i) ? Math.fround(w) : 0, `w[${i}]`));
  });
});
