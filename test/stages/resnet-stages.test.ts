// The small ResNet (projection shortcut, batch norm) through prune → finetune (augmented) →
// export: pruned conv weights stay exactly 0 in every conv layer (shortcut included) while batch
// norm scales and shifts train; the exported tfjs files, loaded by plain tfjs, give bit-identical
// logits; augment on flattened samples is a clear error.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import baselines from '../../plugins/baselines/index.js';
import { isScalpelError } from '../../src/errors.js';
import { readModelArtifact } from '../../src/models/model-artifact.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import { exportStage } from '../../src/stages/export.js';
import { finetuneStage } from '../../src/stages/finetune.js';
import { pruneStage } from '../../src/stages/prune.js';
import { trainStage } from '../../src/stages/train.js';
import { Rng } from '../../src/util/rng.js';
import { resnetFanIns, resnetFixture } from '../conformance/resnet-fixture.js';
import { layersModelOf, registryWithFamilies } from '../helpers/models.js';
import { makeStageContext, runStage } from '../helpers/stage-context.js';
import { tempDir } from '../helpers/paths.js';
import { fashionSubset, plainLoad } from './fixtures.js';

function batchNormParams(model: PrunableModel): Float32Array[] {
  const m = layersModelOf(model);
  return ['block1.bn1', 'block2.bn2', 'block2.shortcut.bn'].flatMap((n) =>
    m.getLayer(n).trainableWeights.map((w) => Float32Array.from(w.read().dataSync())),
  );
}

describe('a ResNet with a projection shortcut: prune → finetune → export', function () {
  this.timeout(300_000);

  it('finetune keeps pruned conv weights at exactly 0, trains batch norm; export reloads bit-identically', async () => {
    const f = await resnetFixture();
    const registry = registryWithFamilies();
    registry.registerAll({ pruners: baselines.pruners ?? [] }, baselines.name ?? 'baselines');
    const pruned = await runStage(
      pruneStage,
      { method: 'magnitude', density: 0.4, layers: { include: ['*'] } },
      { inputs: [f.model], registry, stageId: 'prune' },
    );
    const before = await readModelArtifact(pruned.artifact, registry);
    assert.deepEqual(before.operators.map((o) => o.name).sort(), Object.keys(resnetFanIns).sort());
    for (const o of before.operators) assert.equal(o.fanIn, resnetFanIns[o.name], o.name);
    const masks = new Map(before.masks);
    const kernels0 = new Map(before.operators.map((o) => [o.name, before.readWeight(o.name)]));
    const bn0 = batchNormParams(before);
    before.dispose();

    const tuned = await runStage(
      finetuneStage,
      {
        epochs: 1,
        samples: 256,
        batchSize: 32,
        learningRate: 0.003,
        augment: { randomCrop: { padding: 2 }, horizontalFlip: true },
      },
      { inputs: [pruned.artifact, f.dataset], registry, stageId: 'finetune' },
    );
    assert.deepEqual((tuned.result.metrics ?? {}).augment, {
      randomCrop: { padding: 2 },
      horizontalFlip: true,
    });
    const after = await readModelArtifact(tuned.artifact, registry);
    for (const [name, mask] of masks) {
      const w = after.readWeight(name);
      const w0 = kernels0.get(name)!;
      let changed = 0;
      mask.forEach((m, i) => {
        if (m === 0) assert.ok(Object.is(w[i], 0), `${name}[${i}] pruned but ${w[i]}`);
        else if (w[i] !== w0[i]) changed++;
      });
      assert.ok(changed > 0, `${name}: kept weights trained`);
    }
    const bn1 = batchNormParams(after);
    bn1.forEach((p, k) => assert.notDeepEqual(p, bn0[k], `batch norm parameter ${k} trained`));

    const exported = await runStage(
      exportStage,
      { format: 'tfjs', to: 'out' },
      { inputs: [tuned.artifact], registry, recipeDir: tempDir('scalpel-resnet-export-') },
    );
    const loaded = await plainLoad(exported.ctx.outDir);
    const rng = new Rng(1);
    const x = tf.tensor4d(
      Float32Array.from({ length: 8 * 784 }, () => rng.normal()),
      [8, 28, 28, 1],
    );
    const a = layersModelOf(after).predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    assert.deepEqual(new Uint32Array(b.dataSync().buffer), new Uint32Array(a.dataSync().buffer));
    tf.dispose([x, a, b]);
    loaded.dispose();
    after.dispose();
  });

  it('augment on flattened samples is E_RECIPE_SCHEMA naming the shape and the fix', async () => {
    const flat = await fashionSubset();
    const ctx = makeStageContext(
      trainStage,
      {
        epochs: 1,
        augment: { horizontalFlip: true },
        model: { input: [784], layers: [{ type: 'dense', units: 10 }] },
      },
      { inputs: [flat], stageId: 'model' },
    );
    await assert.rejects(trainStage.run(ctx), (e: unknown) => {
      assert.ok(isScalpelError(e), String(e));
      assert.equal(e.code, 'E_RECIPE_SCHEMA');
      assert.match(e.message, /stage 'model'.*\[784\] \(flattened\)/);
      assert.match(e.hint ?? '', /flatten: false/);
      return true;
    });
  });
});
