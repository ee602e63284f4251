// load-model on real tfjs models saved to disk: the artifact predicts like the original, the
// prunable-layer table matches the kernels, the fingerprint follows the file contents, and
// corrupt/truncated/missing files give clear errors. No tensors leak.
import { builtinFamilies } from '../../src/models/families.js';
import { layersModelOf } from '../helpers/models.js';
import { builtinFamilyLookup } from '../../src/models/families.js';
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { isScalpelError } from '../../src/errors.js';
import { initBackend } from '../../src/models/backend.js';
import { readModelArtifact } from '../../src/models/model-artifact.js';
import { saveLayersModelToDir } from '../../src/models/tfjs-layers/model-files.js';
import { loadModelStage } from '../../src/stages/load-model.js';
import { runStage } from '../helpers/stage-context.js';
import { tempDir } from '../helpers/paths.js';
import { Registry } from '../../src/registry/registry.js';

function convNet(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(
    tfl.layers.conv2d({
      inputShape: [6, 6, 1],
      filters: 3,
      kernelSize: 3,
      activation: 'relu',
      name: 'conv',
    }),
  );
  m.add(tfl.layers.flatten({ name: 'flat' }));
  m.add(tfl.layers.dense({ units: 5, activation: 'relu', name: 'hidden' }));
  m.add(tfl.layers.dense({ units: 2, name: 'logits', useBias: false }));
  return m;
}

describe('load-model stage', function () {
  this.timeout(30000);
  let dir: string;
  let original: tfl.LayersModel;

  before(async () => {
    await initBackend('wasm');
    dir = tempDir();
    original = convNet();
    await saveLayersModelToDir(original, join(dir, 'm'));
  });
  after(() => original.dispose());

  it('copies the model into a model artifact that predicts identically and reports prunable layers', async () => {
    const before = tf.memory().numTensors;
    const { ctx, result } = await runStage(
      loadModelStage,
      { path: 'm/model.json' },
      { recipeDir: dir },
    );
    assert.equal(tf.memory().numTensors, before, 'the stage leaked tensors');
    assert.equal(result.kind, 'model');
    const m = result.metrics ?? {};
    // conv 3*3*1*3 + 3, hidden 48*5 + 5, logits 5*2 (4×4×3 = 48 after a valid 3×3 conv on 6×6)
    assert.equal(m.totalParams, 27 + 3 + 240 + 5 + 10);
    assert.equal(m.prunableParams, 27 + 240 + 10);
    assert.deepEqual(m.prunableLayers, [
      { name: 'conv', kind: 'conv2d', kernelShape: [3, 3, 1, 3], params: 27 },
      { name: 'hidden', kind: 'dense', kernelShape: [48, 5], params: 240 },
      { name: 'logits', kind: 'dense', kernelShape: [5, 2], params: 10 },
    ]);
    assert.ok(ctx.logged.some((l) => l.level === 'info' && /3 prunable layers/.test(l.message)));
    const loaded = await readModelArtifact(ctx.outDir, builtinFamilyLookup);
    const x = tf.randomNormal([4, 6, 6, 1], 0, 1, 'float32', 3);
    const a = original.predict(x) as tf.Tensor;
    const b = layersModelOf(loaded).predict(x) as tf.Tensor;
    assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    loaded.dispose();
  });

  it('the fingerprint covers model.json and every weight file', async () => {
    const d = tempDir();
    await saveLayersModelToDir(original, d);
    const fctx = {
      recipeDir: d,
      resolvePath: (p: string) => join(d, p),
      registry: familyRegistry(),
    };
    const fp = async (): Promise<string> =>
      JSON.stringify(await loadModelStage.fingerprint?.({ path: 'model.json' }, fctx));
    const a = await fp();
    assert.match(a, /"weights":\{"weights\.bin":"[0-9a-f]{64}"\}/);
    assert.equal(await fp(), a);
    const w = await fs.readFile(join(d, 'weights.bin'));
    w[0] = (w[0] as number) ^ 1;
    await fs.writeFile(join(d, 'weights.bin'), w);
    const b = await fp();
    assert.notEqual(b, a);
    await fs.appendFile(join(d, 'model.json'), ' ');
    assert.notEqual(await fp(), b);
  });

  it('corrupt model.json, truncated weights and missing files are clear errors', async () => {
    const d = tempDir();
    await saveLayersModelToDir(original, d);
    const before = tf.memory().numTensors;
    const run = (): Promise<unknown> =>
      runStage(loadModelStage, { path: 'model.json' }, { recipeDir: d });

    const w = await fs.readFile(join(d, 'weights.bin'));
    await fs.writeFile(join(d, 'weights.bin'), w.subarray(0, w.length - 4));
    await assert.rejects(
      run(),
      (e: unknown) =>
        isScalpelError(e) && e.code === 'E_DATA' && /truncated or mismatched/.test(e.message),
    );

    await fs.rm(join(d, 'weights.bin'));
    await assert.rejects(
      run(),
      (e: unknown) =>
        isScalpelError(e) &&
        e.code === 'E_DATA' &&
        /weight file 'weights\.bin' .* cannot be read: ENOENT/.test(e.message),
    );
    await assert.rejects(
      Promise.resolve(
        loadModelStage.fingerprint?.(
          { path: 'model.json' },
          { recipeDir: d, resolvePath: (p) => join(d, p), registry: familyRegistry() },
        ),
      ),
      (e: unknown) =>
        isScalpelError(e) && e.code === 'E_IO' && /file not found: .*weights\.bin/.test(e.message),
    );

    await fs.writeFile(join(d, 'model.json'), '{"modelTopology": {"class_name": ');
    await assert.rejects(
      run(),
      (e: unknown) =>
        isScalpelError(e) && e.code === 'E_DATA' && /model\.json is not valid JSON/.test(e.message),
    );

    await assert.rejects(
      runStage(loadModelStage, { path: 'absent/model.json' }, { recipeDir: d }),
      (e: unknown) =>
        isScalpelError(e) &&
        e.code === 'E_IO' &&
        /model file not found: .*absent\/model\.json/.test(e.message),
    );
    await assert.rejects(
      runStage(loadModelStage, {}, { recipeDir: d }),
      (e: unknown) => isScalpelError(e) && e.code === 'E_RECIPE_SCHEMA',
    );
    assert.equal(tf.memory().numTensors, before, 'tensors leaked on error paths');
  });
});

function familyRegistry(): Registry {
  const r = new Registry();
  r.registerAll({ families: builtinFamilies }, 'builtin');
  return r;
}
