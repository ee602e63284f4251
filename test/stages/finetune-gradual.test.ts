// finetune with `gradual:` on a real tiny model and Fashion-MNIST: updates at the schedule's steps
// (listed here by hand), the density path from the formula, exact final density per layer, pruned
// weights exactly 0, the masks in the artifact, no leaked tensors; bad schedules are located
// recipe errors (test/fixtures/bad-recipes) or, for endStep past the last step, a stage error.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { isScalpelError } from '../../src/errors.js';
import { builtinFamilyLookup } from '../../src/models/families.js';
import { readModelArtifact } from '../../src/models/model-artifact.js';
import type { Artifact } from '../../src/plugin-api/stage.js';
import { finetuneStage } from '../../src/stages/finetune.js';
import { readKernel } from '../helpers/models.js';
import { runStage } from '../helpers/stage-context.js';
import { fashionSubset, makeModel, modelArtifact } from './fixtures.js';

const rounded = (d: number, n: number): number => Math.floor(d * n + 0.5 + 1e-9);

describe('finetune gradual pruning', function () {
  this.timeout(60_000);
  let data: Artifact;
  let dense: Artifact;
  before(async () => {
    data = await fashionSubset();
    const model = makeModel();
    dense = await modelArtifact(model);
    model.dispose();
  });

  const gradual = {
    initialSparsity: 0.1,
    finalSparsity: 0.75,
    beginStep: 0,
    endStep: 8,
    power: 3,
    frequency: 3,
  };

  it('prunes on the schedule to exactly the final density, pruned weights exactly 0', async () => {
    const tensors = tf.memory().numTensors;
    // 600 samples / batch 50 = 12 steps; updates at 0, 3, 6 and (endStep) 8.
    const r = await runStage(
      finetuneStage,
      { epochs: 1, batchSize: 50, samples: 600, learningRate: 0.01, gradual },
      { inputs: [dense, data] },
    );
    assert.equal(tf.memory().numTensors, tensors, 'leaked tensors');
    const m = r.result.metrics as Record<string, unknown>;
    assert.equal(m.method, 'gradual-magnitude');
    const updates = (
      m.gradual as { updates: { step: number; sparsity: number; density: number }[] }
    ).updates;
    assert.deepEqual(
      updates.map((u) => u.step),
      [0, 3, 6, 8],
    );
    const size = 784 * 32 + 32 * 10;
    for (const u of updates) {
      const s = u.step >= 8 ? 0.75 : 0.75 + (0.1 - 0.75) * (1 - u.step / 8) ** 3;
      assert.ok(Math.abs(u.sparsity - s) < 1e-12, `step ${u.step}`);
      const kept = rounded(1 - s, 784 * 32) + rounded(1 - s, 32 * 10);
      assert.ok(Math.abs(u.density - kept / size) < 1e-12, `density at step ${u.step}`);
    }
    assert.equal(
      r.ctx.events.filter((e) => e.type === 'gradual-prune').length,
      4,
      'one event per update',
    );
    const out = await readModelArtifact(r.artifact, builtinFamilyLookup);
    for (const [name, n] of [
      ['linear1', 784 * 32],
      ['linear2', 320],
    ] as const) {
      const mask = out.masks.get(name);
      assert.ok(mask !== undefined, `${name} has a mask`);
      assert.equal(
        mask.reduce((a, b) => a + b, 0),
        rounded(0.25, n),
      );
      const w = readKernel(out, name);
      for (let j = 0; j < n; j++) if (mask[j] === 0) assert.ok(Object.is(w[j], 0));
    }
    assert.deepEqual(
      (r.result.manifest?.pruning as { method?: string } | undefined)?.method,
      'gradual-magnitude',
    );
    out.dispose();
  });

  it('endStep past the last optimizer step is an error saying how many steps there are', async () => {
    await assert.rejects(
      runStage(
        finetuneStage,
        { epochs: 1, batchSize: 50, samples: 300, gradual: { ...gradual, endStep: 7 } },
        { inputs: [dense, data], stageId: 'ft' },
      ),
      (e: unknown) => {
        assert.ok(isScalpelError(e));
        assert.match(
          e.message,
          /stages\.ft\.with\.gradual\.endStep: 7 is beyond the 6 optimizer steps/,
        );
        return true;
      },
    );
  });

  it('an input already sparser than finalSparsity is an error naming the layer and its counts', async () => {
    const model = makeModel();
    // linear1 arrives at density 0.1: gradual pruning only removes weights, so 0.25 is out of reach.
    const mask = new Uint8Array(784 * 32);
    for (let j = 0; j < mask.length; j += 10) mask[j] = 1;
    const sparse = await modelArtifact(model, new Map([['linear1', mask]]));
    model.dispose();
    await assert.rejects(
      runStage(
        finetuneStage,
        { epochs: 1, batchSize: 50, samples: 600, gradual },
        { inputs: [sparse, data], stageId: 'ft' },
      ),
      (e: unknown) => {
        assert.ok(isScalpelError(e));
        assert.match(
          e.message,
          /stages\.ft\.with\.gradual\.finalSparsity: layer 'linear1' keeps 2509 of 25088 weights \(target 6272\), fewer than finalSparsity 0\.75 leaves/,
        );
        return true;
      },
    );
  });
});
