// A `repeat:` schedule run for real (tiny MLP, 300 Fashion-MNIST samples): two rounds, then the
// same recipe with a third density appended — the first two rounds are cache hits, only the new
// round runs; each round's mask lies inside the previous round's and keeps exactly round(d·size)
// weights per layer; compare shows the density path and names the schedule by its rounds.
import { strict as assert } from 'node:assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runRecipe } from '../../src/engine/run.js';
import { planRecipe } from '../../src/engine/plan.js';
import { builtinFamilyLookup } from '../../src/models/families.js';
import { readModelArtifact, writeModelArtifact } from '../../src/models/model-artifact.js';
import { initBackend } from '../../src/models/backend.js';
import { collectReportData } from '../../src/report/collect.js';
import { compareTable } from '../../src/report/compare.js';
import { reportCharts } from '../../src/report/build-report.js';
import { asPrunable } from '../helpers/models.js';
import { tempDir } from '../helpers/paths.js';
import { makeModel } from './fixtures.js';

const rounded = (d: number, n: number): number => Math.floor(d * n + 0.5 + 1e-9);

function recipe(densities: number[]): string {
  return `version: 1
name: rounds
seed: 3
backend: wasm
stages:
  model: { uses: load-model, with: { path: tiny/model.json } }
  data: { uses: load-dataset, with: { source: fashion-mnist, train: 300, test: 100, normalize: { mean: 0.5, std: 0.5 } } }
  mag:
    uses: prune
    needs: [model]
    with: { method: magnitude }
    repeat:
      densities: [${densities.join(', ')}]
      finetune: { needs: [data], with: { epochs: 1, batchSize: 100, learningRate: 0.001 } }
      evaluate: { needs: [data], with: { metrics: [accuracy, loss] } }
  oneshot: { uses: prune, needs: [model], with: { method: magnitude, density: ${densities[densities.length - 1]} } }
  oneshot-ft: { uses: finetune, needs: [oneshot, data], with: { epochs: 1, batchSize: 100, learningRate: 0.001 } }
  oneshot-eval: { uses: evaluate, needs: [oneshot-ft, data], with: { metrics: [accuracy, loss] } }
`;
}

describe('repeat rounds through the engine', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    await initBackend('wasm');
    dir = tempDir('scalpel-rounds-');
    const model = makeModel();
    mkdirSync(join(dir, 'tiny'));
    await writeModelArtifact(join(dir, 'tiny'), asPrunable(model), builtinFamilyLookup);
    model.dispose();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reuses the finished rounds when one is appended; masks only grow; densities exact', async () => {
    const file = join(dir, 'rounds.yaml');
    writeFileSync(file, recipe([0.5, 0.3]));
    const first = await runRecipe(file, { cwd: dir, quiet: true });
    assert.equal(first.status, 'ok');
    assert.ok(first.nodes.every((n) => n.status === 'ran'));

    writeFileSync(file, recipe([0.5, 0.3, 0.2]));
    const second = await runRecipe(file, { cwd: dir, quiet: true });
    assert.equal(second.status, 'ok');
    const status = new Map(second.nodes.map((n) => [n.id, n.status]));
    for (const id of [
      'model',
      'data',
      'mag@0.5',
      'mag-finetune@0.5',
      'mag-evaluate@0.5',
      'mag@0.3',
      'mag-finetune@0.3',
      'mag-evaluate@0.3',
    ])
      assert.equal(status.get(id), 'cached', id);
    for (const id of [
      'mag@0.2',
      'mag-finetune@0.2',
      'mag-evaluate@0.2',
      'oneshot',
      'oneshot-ft',
      'oneshot-eval',
    ])
      assert.equal(status.get(id), 'ran', id);

    // The record's recipe.resolved.yaml holds the expanded stages and replans to the same nodes.
    const replanned = await planRecipe(join(second.dir, 'recipe.resolved.yaml'), { cwd: dir });
    assert.deepEqual(
      replanned.nodes.map((n) => [n.id, n.hash, n.cached]),
      second.nodes.map((n) => [n.id, n.hash, true]),
    );

    // Masks only grow from round to round, and each round is at its exact density.
    let previous: Map<string, Uint8Array> | undefined;
    for (const d of [0.5, 0.3, 0.2]) {
      const m = await readModelArtifact(
        join(second.dir, 'artifacts', `mag-finetune@${d}`),
        builtinFamilyLookup,
      );
      for (const layer of m.operators) {
        const mask = m.masks.get(layer.name) as Uint8Array;
        assert.equal(
          mask.reduce((a, b) => a + b, 0),
          rounded(d, layer.paramCount),
          `${layer.name} at ${d}`,
        );
        const before = previous?.get(layer.name);
        if (before !== undefined)
          for (let j = 0; j < mask.length; j++)
            assert.ok(!(mask[j] === 1 && before[j] === 0), `${layer.name}[${j}] regrew at ${d}`);
        const w = m.readWeight(layer.name);
        for (let j = 0; j < mask.length; j++) if (mask[j] === 0) assert.ok(Object.is(w[j], 0));
      }
      previous = new Map(m.masks);
      m.dispose();
    }

    // compare: the schedule is one configuration per round, named by its rounds, with its path.
    const data = collectReportData([second.dir], { warn: () => {} });
    const t = compareTable(data.rows);
    assert.ok(t.columns.includes('path'));
    const byName = t.rows.map((r) => [r.name, r.density, r.fields['path']]);
    assert.deepEqual(
      byName
        .filter(([n]) => String(n).startsWith('magnitude ×3'))
        .sort((a, b) => Number(b[1]) - Number(a[1])),
      [
        ['magnitude ×3 + finetune', 0.5, '0.5'],
        ['magnitude ×3 + finetune', 0.3, '0.5 → 0.3'],
        ['magnitude ×3 + finetune', 0.2, '0.5 → 0.3 → 0.2'],
      ],
    );
    assert.deepEqual(
      byName.filter(([n]) => n === 'magnitude + finetune'),
      [['magnitude + finetune', 0.2, '0.2']],
    );
    assert.ok(
      !t.columns.some((c) => c.includes('@')),
      `no per-round columns: ${t.columns.join(', ')}`,
    );
    const rounds = reportCharts(data, t).find((c) => c.id === 'rounds');
    assert.deepEqual(rounds?.expectedMarks, { line: 1, symbol: 3, text: 3 });
  });
});
