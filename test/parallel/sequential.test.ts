// Sequential pruning of a causal LM (the prune stage with the LLM pruners) at 1 and 2 worker
// threads: each block's statistics are computed on the workers from the partly pruned model (a
// new weight version per block), and the masks and weights written must be the same bytes.
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sparsegptPruner } from '../../plugins/baselines/sparsegpt.js';
import { wandaPruner } from '../../plugins/baselines/wanda.js';
import { writeDatasetArtifact } from '../../src/data/dataset-artifact.js';
import { initBackend } from '../../src/models/backend.js';
import { builtinFamilies } from '../../src/models/families.js';
import { HfCausalLmModel } from '../../src/models/hf/causal-lm-model.js';
import { parseHfConfig } from '../../src/models/hf/hf-config.js';
import { writeModelArtifact } from '../../src/models/model-artifact.js';
import type { Artifact, StageType } from '../../src/plugin-api/stage.js';
import { Registry } from '../../src/registry/registry.js';
import { calibrateStage } from '../../src/stages/calibrate.js';
import { pruneStage } from '../../src/stages/prune.js';
import { tempDir } from '../helpers/paths.js';
import { artifactFrom, runStage } from '../helpers/stage-context.js';
import { llamaJson, llamaWeights, randomIds } from '../models/hf-forward/checkpoints.js';
import { withThreads } from './fixtures.js';

const SEQ = 8;
const COUNT = 20;

function filesOf(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
}

describe('data-parallel sequential pruning of a causal LM', function () {
  this.timeout(120_000);
  let model: Artifact;
  let cal: Artifact;
  let registry: Registry;
  let prune: StageType;

  before(async () => {
    await initBackend('wasm');
    registry = new Registry();
    registry.registerAll({ families: builtinFamilies }, 'builtin');
    registry.registerStage(pruneStage as StageType, 'builtin');
    registry.registerAll({ pruners: [wandaPruner, sparsegptPruner] }, 'test-plugin');
    prune = { ...(pruneStage as StageType), schema: registry.paramsSchema('stage', 'prune') };
    const m = new HfCausalLmModel(parseHfConfig(llamaJson), llamaWeights(3));
    const modelDir = tempDir('scalpel-par-seq-model-');
    mkdirSync(modelDir, { recursive: true });
    const manifest = await writeModelArtifact(modelDir, m, registry);
    m.dispose();
    model = artifactFrom('model', modelDir, { stageId: 'model', manifest });
    const dataDir = tempDir('scalpel-par-seq-data-');
    mkdirSync(dataDir, { recursive: true });
    const dm = await writeDatasetArtifact(dataDir, {
      source: 'text',
      numClasses: 50,
      splits: new Map([
        [
          'train',
          {
            name: 'train',
            count: COUNT,
            sampleShape: [SEQ],
            x: Float32Array.from(randomIds(11, COUNT, SEQ).flat()),
            y: new Int32Array(COUNT),
            ids: Int32Array.from({ length: COUNT }, (_, i) => i),
          },
        ],
      ]),
    });
    const data = artifactFrom('dataset', dataDir, { stageId: 'data', manifest: dm });
    cal = (
      await runStage(
        calibrateStage,
        { samples: 12, batchSize: 3 },
        { inputs: [model, data], stageId: 'calib', registry, seed: 5 },
      )
    ).artifact;
  });

  for (const params of [
    { method: 'wanda', density: 0.5 },
    { method: 'sparsegpt', density: 0.5 },
  ]) {
    it(`${params.method}: the same masks and weights at 2 threads as at 1`, async () => {
      const one = await runStage(prune, params, {
        inputs: [model, cal],
        stageId: 'prune',
        registry,
      });
      const two = await withThreads(2, () =>
        runStage(prune, params, { inputs: [model, cal], stageId: 'prune', registry }),
      );
      const a = filesOf(one.artifact.dir);
      const b = filesOf(two.artifact.dir);
      assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
      assert.ok(a.has('masks.bin'), 'a pruned model with masks');
      for (const [f, bytes] of a)
        assert.ok(bytes.equals(b.get(f) ?? Buffer.alloc(0)), `${f} differs`);
    });
  }
});
