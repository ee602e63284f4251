// A ViT through the real stages on real Fashion-MNIST images ([28, 28, 1], flatten: false): train
// from a recipe's config (weights seeded from the stage Rng), finetune with masks on the
// attention and MLP projections (the pruned weights stay exactly +0.0), export in Hugging Face
// layout, and reload: the exported checkpoint gives bitwise the logits of the model artifact.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { builtinFamilyLookup } from '../../../src/models/families.js';
import { hfImageClassifierFamily } from '../../../src/models/hf/image-family.js';
import { readModelArtifact, writeModelArtifact } from '../../../src/models/model-artifact.js';
import { readDatasetArtifact, requireSplit } from '../../../src/data/dataset-artifact.js';
import type { PrunableModel } from '../../../src/plugin-api/model.js';
import type { Artifact } from '../../../src/plugin-api/stage.js';
import { exportStage } from '../../../src/stages/export.js';
import { finetuneStage } from '../../../src/stages/finetune.js';
import { loadDatasetStage } from '../../../src/stages/load-dataset.js';
import { trainStage } from '../../../src/stages/train.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from '../../helpers/paths.js';
import { artifactFrom, runStage } from '../../helpers/stage-context.js';
import { vitPruneConfig } from './prune-fixture.js';

/** The prune fixture's tiny ViT, with dropout so that training passes use the seeded stream. */
const config = { ...vitPruneConfig, hidden_dropout_prob: 0.1 };

/** 24 Adam steps of 25 images. */
const trainParams = {
  model: { family: 'hf-image-classifier', config },
  epochs: 2,
  batchSize: 25,
  learningRate: 0.003,
};

function logits(model: PrunableModel, x: Float32Array, count: number): Float32Array {
  return tf.tidy(() => {
    const inputs = tf.tensor(x.slice(0, count * 784), [count, 28, 28, 1]);
    return model.forward(inputs).output.dataSync() as Float32Array;
  });
}

describe('a ViT through train, finetune and export', function () {
  this.timeout(120_000);
  let data: Artifact;
  let trained: Artifact;

  before(async () => {
    await initBackend('wasm');
    ({ artifact: data } = await runStage(
      loadDatasetStage,
      {
        source: 'fashion-mnist',
        train: 300,
        test: 100,
        flatten: false,
        normalize: { mean: 0.5, std: 0.5 },
      },
      { seed: 1 },
    ));
    ({ artifact: trained } = await runStage(trainStage, trainParams, { inputs: [data], seed: 4 }));
  });

  it('trains from the config: same seed, same weights; the loss falls below chance', async () => {
    const again = await runStage(trainStage, trainParams, { inputs: [data], seed: 4 });
    const a = await readModelArtifact(trained, builtinFamilyLookup);
    const b = await readModelArtifact(again.artifact, builtinFamilyLookup);
    try {
      assert.equal(a.family, 'hf-image-classifier');
      for (const o of a.operators) assert.deepEqual(a.readWeight(o.name), b.readWeight(o.name));
      const curve = (trained.metrics.curve as { loss: number }[]).slice(-1);
      assert.ok(curve[0]!.loss < Math.log(10), `loss ${curve[0]!.loss} below ln 10`);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('finetune keeps masked attention and MLP weights at exactly +0.0; export → reload gives identical logits', async () => {
    const model = await readModelArtifact(trained, builtinFamilyLookup);
    const rng = new Rng(8);
    const pruned = model.operators.filter((o) =>
      /attention\.(attention\.(query|value)|output\.dense)|intermediate\.dense|\.output\.dense/.test(
        o.name,
      ),
    );
    assert.ok(pruned.length >= 8, 'attention and MLP operators of both blocks');
    for (const o of pruned) {
      const mask = Uint8Array.from({ length: o.paramCount }, () => (rng.float() < 0.4 ? 1 : 0));
      const w = model.readWeight(o.name);
      for (let i = 0; i < w.length; i++) if (mask[i] === 0) w[i] = 0;
      model.writeWeight(o.name, w);
      model.masks.set(o.name, mask);
    }
    const before = new Map(pruned.map((o) => [o.name, model.readWeight(o.name)]));
    const dir = join(tempDir('scalpel-vit-masked-'), 'model');
    const manifest = await writeModelArtifact(dir, model, builtinFamilyLookup);
    model.dispose();
    const masked = artifactFrom('model', dir, { manifest });

    const tensors = tf.memory().numTensors;
    const tuned = await runStage(
      finetuneStage,
      { epochs: 1, batchSize: 50, samples: 200, learningRate: 0.003 },
      { inputs: [masked, data], seed: 2 },
    );
    assert.equal(tf.memory().numTensors, tensors, 'finetune leaks no tensors');
    const out = await readModelArtifact(tuned.artifact, builtinFamilyLookup);
    const test = requireSplit(await readDatasetArtifact(data), 'test');
    try {
      for (const o of pruned) {
        const mask = out.masks.get(o.name);
        assert.ok(mask !== undefined, `${o.name}: mask carried`);
        const w = out.readWeight(o.name);
        const w0 = before.get(o.name) as Float32Array;
        let changed = 0;
        for (let i = 0; i < w.length; i++) {
          if (mask[i] === 0) assert.ok(Object.is(w[i], 0), `${o.name}[${i}] pruned but ${w[i]}`);
          else if (w[i] !== w0[i]) changed++;
        }
        assert.ok(changed > 0, `${o.name}: kept weights trained`);
      }

      const exported = await runStage(
        exportStage,
        { format: 'hf', masks: true },
        { inputs: [tuned.artifact] },
      );
      const files = (exported.result.manifest as { files: string[] }).files;
      assert.ok(files.includes('model.safetensors') && files.includes('config.json'));
      const json = JSON.parse(readFileSync(join(exported.ctx.outDir, 'config.json'), 'utf8'));
      assert.equal(json.model_type, 'vit');
      assert.deepEqual(json.architectures, ['ViTForImageClassification']);
      assert.equal(json.num_labels, 10);
      const back = await hfImageClassifierFamily.load(exported.ctx.outDir);
      try {
        assert.deepEqual(logits(back, test.x, 16), logits(out, test.x, 16), 'bitwise logits');
        // The classification task's accuracy is the argmax agreement with the labels.
        const metrics = back.task.evaluate(back, test, { batchSize: 40 });
        const z = logits(back, test.x, test.count);
        let hits = 0;
        for (let s = 0; s < test.count; s++) {
          const row = Array.from(z.subarray(s * 10, s * 10 + 10));
          if (row.indexOf(Math.max(...row)) === test.y[s]) hits++;
        }
        assert.equal(metrics.values.accuracy, hits / test.count);
      } finally {
        back.dispose();
      }
    } finally {
      out.dispose();
    }
  });
});
