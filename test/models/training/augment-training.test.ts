// Augmentation inside the training loops: reproducible for a seed, different from no augmentation,
// absent from validation, and (step loop) resumed bit-identically — the augmentation stream's
// position travels in the checkpoint. Samples are tiny 2×3 images fed to the tiny classifier.
import { strict as assert } from 'node:assert';
import { initBackend } from '../../../src/models/backend.js';
import type { TrainingAugment } from '../../../src/data/augment.js';
import { runStepLoop, type StepLoopOptions } from '../../../src/models/training/step-loop.js';
import { createOptimizer, trainLoop } from '../../../src/models/training-loop.js';
import type { Samples } from '../../../src/plugin-api/dataset.js';
import type { TfjsLayersModel } from '../../../src/models/tfjs-layers/layers-model.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from '../../helpers/paths.js';
import { randomSamples, tinyModel, weightsOf } from './tiny-model.js';

const asImages = (s: Samples): Samples => ({ ...s, sampleShape: [2, 3, 1] });
const train = asImages(randomSamples(40, 1));
const validation = asImages(randomSamples(12, 2));
const augment: TrainingAugment = {
  options: { randomCrop: { padding: 1 }, horizontalFlip: true },
  image: {
    layout: 'hwc',
    height: 2,
    width: 3,
    channels: 1,
    sourceHeight: 2,
    sourceWidth: 3,
    padding: { top: 0, bottom: 0, left: 0, right: 0 },
    fill: [0],
    normalization: 'none',
  },
};

function sameBits(a: Float32Array[], b: Float32Array[]): boolean {
  return a.length === b.length && a.every((v, k) => v.every((x, i) => Object.is(x, b[k]?.[i])));
}

async function epochs(model: TfjsLayersModel, seed: number, aug?: TrainingAugment) {
  const optimizer = createOptimizer({ name: 'sgd', learningRate: 0.1 });
  try {
    return await trainLoop({
      model,
      train,
      validation,
      optimizer,
      epochs: 2,
      batchSize: 8,
      rng: new Rng(seed).fork('train-loop'),
      augment: aug,
      where: 'test',
    });
  } finally {
    optimizer.dispose();
  }
}

describe('augmentation in the training loops', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('epoch loop: same seed → same weights, other seed or no augmentation → others; validation is not augmented', async () => {
    const runs: Float32Array[][] = [];
    for (const [seed, aug] of [
      [5, augment],
      [5, augment],
      [6, augment],
      [5, undefined],
    ] as const) {
      const m = tinyModel(3);
      const curve = await epochs(m, seed, aug);
      runs.push(weightsOf(m));
      // The recorded validation loss is that of the plain validation samples.
      const plain = m.task.evaluate(m, validation, { batchSize: 1000 });
      assert.equal(curve[curve.length - 1]?.valLoss, plain.loss);
      m.dispose();
    }
    assert.ok(sameBits(runs[0]!, runs[1]!), 'same seed, same weights');
    assert.ok(!sameBits(runs[0]!, runs[2]!), 'another seed, other augmentations');
    assert.ok(!sameBits(runs[0]!, runs[3]!), 'augmentation changes training');
  });

  it('step loop: an interrupted run with augmentation resumes bit-identical to an uninterrupted one', async () => {
    const options = (
      model: TfjsLayersModel,
      extra: Partial<StepLoopOptions> = {},
    ): StepLoopOptions => ({
      model,
      train,
      steps: 11,
      batchSize: 8,
      schedule: {
        kind: 'warmup-cosine',
        learningRate: 0.05,
        minLearningRate: 0,
        warmupSteps: 2,
        totalSteps: 11,
      },
      rng: new Rng(7).fork('train-loop'),
      augment,
      where: 'test',
      ...extra,
    });
    const whole = tinyModel(3);
    const wholeResult = await runStepLoop(options(whole));
    const expected = weightsOf(whole);
    whole.dispose();

    const plain = tinyModel(3);
    await runStepLoop(options(plain, { augment: undefined }));
    assert.ok(!sameBits(weightsOf(plain), expected), 'augmentation changes the step loop');
    plain.dispose();

    const dir = tempDir('scalpel-aug-ckpt-');
    const first = tinyModel(3);
    const controller = new AbortController();
    await assert.rejects(
      runStepLoop(
        options(first, {
          checkpoints: { dir, every: 3 },
          signal: controller.signal,
          onProgress: (p) => {
            if (p.step === 5) controller.abort();
          },
        }),
      ),
    );
    first.dispose();
    const fresh = tinyModel(42);
    let resumedAt = -1;
    const rest = await runStepLoop(
      options(fresh, { checkpoints: { dir, every: 3 }, onResume: (s) => (resumedAt = s) }),
    );
    assert.equal(resumedAt, 5);
    assert.ok(sameBits(weightsOf(fresh), expected), 'resumed = uninterrupted');
    assert.deepEqual(rest.curve, wholeResult.curve);
    fresh.dispose();
  });
});
