import { strict as assert } from 'node:assert';
import { builtinFamilyLookup } from '../../src/models/families.js';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readModelArtifact } from '../../src/models/model-artifact.js';
import { trainStage } from '../../src/stages/train.js';
import { isScalpelError } from '../../src/errors.js';
import { readDatasetArtifact } from '../../src/data/dataset-artifact.js';
import type { Artifact } from '../../src/plugin-api/stage.js';
import { runStage } from '../helpers/stage-context.js';
import { fashionSubset, makeModel, modelArtifact, smallMlp } from './fixtures.js';

const params = { model: smallMlp, epochs: 2, batchSize: 64, samples: 1000 };

async function testAccuracy(artifact: Artifact, data: Artifact): Promise<number> {
  const model = await readModelArtifact(artifact, builtinFamilyLookup);
  const test = (await readDatasetArtifact(data)).splits.get('test');
  assert.ok(test);
  const q = model.task.evaluate(model, test, { batchSize: 500 });
  model.dispose();
  return q.values.accuracy ?? NaN;
}

describe('train stage', function () {
  this.timeout(60_000);
  let data: Artifact;
  before(async () => {
    data = await fashionSubset();
  });

  it('learns well above chance, deterministically for a seed, without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const a = await runStage(trainStage, params, { inputs: [data], seed: 5 });
    assert.equal(tf.memory().numTensors, before, 'train leaked tensors');
    const b = await runStage(trainStage, params, { inputs: [data], seed: 5 });
    const c = await runStage(trainStage, params, { inputs: [data], seed: 6 });
    const wa = await fs.readFile(join(a.ctx.outDir, 'weights.bin'));
    const wb = await fs.readFile(join(b.ctx.outDir, 'weights.bin'));
    const wc = await fs.readFile(join(c.ctx.outDir, 'weights.bin'));
    assert.ok(wa.equals(wb), 'same seed must give bit-identical weights');
    assert.ok(!wa.equals(wc), 'another seed must give other weights');
    const acc = await testAccuracy(a.artifact, data);
    assert.ok(acc > 0.6, `test accuracy ${acc} should be far above chance (0.1)`);
    const curve = (a.result.metrics as { curve: { loss: number; accuracy: number }[] }).curve;
    assert.equal(curve.length, 2);
    assert.ok(
      (curve[1]?.loss ?? Infinity) < (curve[0]?.loss ?? 0),
      'loss should fall from epoch 1 to 2',
    );
    assert.equal(a.ctx.progressLog[0]?.done, 2 * Math.ceil(1000 / 64));
  });

  it('continues training a model input, holding out a validation split', async () => {
    const model = makeModel();
    const input = await modelArtifact(model);
    const acc0 = await testAccuracy(input, data);
    model.dispose();
    const r = await runStage(
      trainStage,
      { epochs: 1, batchSize: 64, samples: 1000, validationSplit: 0.2 },
      { inputs: [data, input] },
    );
    const m = r.result.metrics as {
      trainSamples: number;
      validationSamples: number;
      final: { valAccuracy?: number };
    };
    assert.equal(m.trainSamples, 800);
    assert.equal(m.validationSamples, 200);
    assert.ok(typeof m.final.valAccuracy === 'number');
    assert.ok((await testAccuracy(r.artifact, data)) > acc0 + 0.2);
  });

  it('trains a conv net with max pooling and dropout on wasm (Conv2D kernel gradients via im2col), reproducibly', async () => {
    const conv = {
      model: {
        input: [784],
        layers: [
          { type: 'reshape', targetShape: [28, 28, 1] },
          {
            type: 'conv2d',
            filters: 4,
            kernelSize: 5,
            strides: 2,
            activation: 'relu',
            name: 'conv1',
          },
          { type: 'maxpool', poolSize: 2 },
          { type: 'flatten' },
          { type: 'dropout', rate: 0.25 },
          { type: 'dense', units: 10, name: 'head' },
        ],
      },
      epochs: 2,
      batchSize: 50,
      samples: 500,
      learningRate: 0.01,
    };
    const before = tf.memory().numTensors;
    const a = await runStage(trainStage, conv, { inputs: [data], seed: 2 });
    assert.equal(tf.memory().numTensors, before);
    const b = await runStage(trainStage, conv, { inputs: [data], seed: 2 });
    const wa = await fs.readFile(join(a.ctx.outDir, 'weights.bin'));
    assert.ok(
      wa.equals(await fs.readFile(join(b.ctx.outDir, 'weights.bin'))),
      'dropout noise must come from the seed',
    );
    assert.ok((await testAccuracy(a.artifact, data)) > 0.4);
  });

  it('rejects a model whose input does not fit the data, naming the stage', async () => {
    const bad = {
      ...params,
      model: { input: [28, 28, 1], layers: [{ type: 'flatten' }, { type: 'dense', units: 10 }] },
    };
    await assert.rejects(
      runStage(trainStage, bad, { inputs: [data], stageId: 'fit' }),
      (e: unknown) =>
        isScalpelError(e) &&
        e.code === 'E_STAGE' &&
        /fit/.test(e.message) &&
        /\[28, 28, 1\]/.test(e.message) &&
        e.hint !== undefined,
    );
  });
});
