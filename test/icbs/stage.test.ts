import { strict as assert } from 'node:assert';
import { builtinFamilyLookup } from '../../src/models/families.js';
import { asPrunable } from '../helpers/models.js';
import { join } from 'node:path';
import { writeModelArtifact, readModelArtifact } from '../../src/models/model-artifact.js';
import { writeDatasetArtifact } from '../../src/data/dataset-artifact.js';
import { icbsStage } from '../../src/stages/icbs.js';
import { pruneStage, pruneSchemaFor } from '../../src/stages/prune.js';
import { createBuiltinRegistry } from '../../src/registry/builtins.js';
import { keepCount } from '../../src/pruning/select-mask.js';
import type { StageType } from '../../src/plugin-api/stage.js';
import { artifactFrom, runStage } from '../helpers/stage-context.js';
import { tempDir } from '../helpers/paths.js';
import { mlp, teacherDataset, trainSteps, useWasm } from './fixtures.js';

describe('icbs: the stage', () => {
  before(useWasm);

  it('`uses: icbs` and `uses: prune` + `method: icbs` give the same masks, exact densities and the record', async function () {
    this.timeout(60000);
    const data = teacherDataset([20], 4);
    const model = mlp();
    trainSteps(model, data.splits.get('train')!, 5);
    const root = tempDir('scalpel-icbs-stage-');
    await writeModelArtifact(join(root, 'model'), asPrunable(model), builtinFamilyLookup);
    await writeDatasetArtifact(join(root, 'data'), data);
    model.dispose();
    const inputs = [
      artifactFrom('model', join(root, 'model')),
      artifactFrom('dataset', join(root, 'data')),
    ];
    const params = {
      density: 0.3,
      blockSize: 32,
      k: 12,
      steps: 6,
      epochs: 1,
      batchSize: 32,
      evaluateEvery: 3,
      evaluateOn: { split: 'test', samples: 64 },
      solver: { uses: 'sa', restarts: 2, workers: 0 },
    };
    const registry = await createBuiltinRegistry();
    const a = await runStage(icbsStage, params, { inputs, seed: 7, registry });
    const pruneWithSchema = {
      ...pruneStage,
      schema: pruneSchemaFor(registry),
    } as unknown as StageType<Record<string, unknown>>;
    const b = await runStage(
      pruneWithSchema,
      { method: 'icbs', ...params },
      { inputs, seed: 7, registry },
    );

    const ma = (await readModelArtifact(a.ctx.outDir, builtinFamilyLookup)).masks;
    const mb = (await readModelArtifact(b.ctx.outDir, builtinFamilyLookup)).masks;
    assert.deepEqual([...ma.keys()].sort(), ['linear1', 'linear2', 'linear3']);
    for (const [name, mask] of ma) {
      assert.deepEqual(mask, mb.get(name), `${name}: same masks through both stage types`);
      let kept = 0;
      for (const v of mask) kept += v;
      assert.equal(kept, keepCount(0.3, mask.length), `${name}: exact density`);
    }
    const icbs = a.result.metrics?.icbs as {
      steps: number;
      curve: unknown[];
      layers: Record<string, unknown>;
    };
    assert.equal(icbs.steps, 6);
    assert.equal(icbs.curve.length, 3);
    assert.equal(a.ctx.events.filter((e) => e.type === 'icbs.step').length, 6);
    assert.ok(
      a.ctx.progressLog.some(
        (p) => p.label === 'icbs' && p.total === 6 && p.done === 6 && p.finished,
      ),
    );
    assert.ok(!a.ctx.logged.some((m) => /undisposed/.test(m.message)), 'no tensor leaks reported');
  });
});
