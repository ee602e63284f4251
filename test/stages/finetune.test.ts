import { strict as assert } from 'node:assert';
import { builtinFamilyLookup } from '../../src/models/families.js';
import * as tf from '@tensorflow/tfjs-core';
import { readModelArtifact } from '../../src/models/model-artifact.js';
import { applyMasks, readKernel, writeKernel } from '../helpers/models.js';
import { finetuneStage } from '../../src/stages/finetune.js';
import type { Artifact } from '../../src/plugin-api/stage.js';
import { Rng } from '../../src/util/rng.js';
import { runStage } from '../helpers/stage-context.js';
import { fashionSubset, makeModel, modelArtifact } from './fixtures.js';

function randomMask(n: number, density: number, rng: Rng): Uint8Array {
  return Uint8Array.from({ length: n }, () => (rng.float() < density ? 1 : 0));
}

describe('finetune stage', function () {
  this.timeout(60_000);
  let data: Artifact;
  before(async () => {
    data = await fashionSubset();
  });

  it('keeps every masked weight at exactly +0.0 while the kept weights change', async () => {
    const rng = new Rng(11);
    const model = makeModel();
    const masks = new Map([
      ['linear1', randomMask(784 * 32, 0.3, rng)],
      ['linear2', randomMask(32 * 10, 0.5, rng)],
    ]);
    applyMasks(model, masks);
    const before = new Map([...masks.keys()].map((n) => [n, readKernel(model, n)]));
    const plain = await modelArtifact(model, masks);
    model.dispose();
    // As a pruning stage would pass it: with its record of how the model was pruned.
    const pruning = { method: 'wanda', layerDensities: { method: 'owl', M: 5, lambda: 0.08 } };
    const input = { ...plain, manifest: { ...plain.manifest, pruning } };

    const tensors = tf.memory().numTensors;
    // 600 samples / batch 50 = 12 Adam steps.
    const r = await runStage(
      finetuneStage,
      { epochs: 1, batchSize: 50, samples: 600, learningRate: 0.01 },
      { inputs: [input, data] },
    );
    assert.equal(tf.memory().numTensors, tensors, 'finetune leaked tensors');
    assert.equal(r.ctx.progressLog[0]?.done, 12);
    assert.deepEqual(r.result.manifest?.pruning, pruning, 'the pruning record is carried forward');

    const out = await readModelArtifact(r.artifact, builtinFamilyLookup);
    for (const [name, mask] of masks) {
      assert.deepEqual(out.masks.get(name), mask, `masks of ${name} must be carried over`);
      const w = readKernel(out, name);
      const w0 = before.get(name) as Float32Array;
      let changed = 0;
      let kept = 0;
      for (let i = 0; i < w.length; i++) {
        if (mask[i] === 0) {
          assert.ok(Object.is(w[i], 0), `${name}[${i}] is pruned but holds ${w[i]}`);
        } else {
          kept++;
          if (w[i] !== w0[i]) changed++;
        }
      }
      assert.ok(changed > 0.9 * kept, `${name}: only ${changed} of ${kept} kept weights changed`);
    }
    out.dispose();
  });

  it('without masks, keeps the exact zeros of the model at zero', async () => {
    const model = makeModel();
    const w = readKernel(model, 'linear1');
    for (let i = 0; i < w.length; i += 3) w[i] = 0;
    writeKernel(model, 'linear1', w);
    const input = await modelArtifact(model);
    model.dispose();
    const r = await runStage(
      finetuneStage,
      { epochs: 1, batchSize: 100, samples: 300, learningRate: 0.01 },
      { inputs: [input, data] },
    );
    const out = await readModelArtifact(r.artifact, builtinFamilyLookup);
    const w1 = readKernel(out, 'linear1');
    for (let i = 0; i < w1.length; i += 3) assert.ok(Object.is(w1[i], 0));
    assert.notEqual(w1[1], w[1]);
    assert.equal(out.masks.size, 0);
    out.dispose();
  });
});
