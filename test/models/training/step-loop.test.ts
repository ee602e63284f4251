import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../../../src/errors.js';
import { initBackend } from '../../../src/models/backend.js';
import { newestCheckpoint } from '../../../src/models/training/checkpoint.js';
import {
  runStepLoop,
  type StepLoopOptions,
  type StepProgress,
} from '../../../src/models/training/step-loop.js';
import type { LrSchedule } from '../../../src/models/training/lr-schedule.js';
import type { PrunableModel } from '../../../src/plugin-api/model.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from '../../helpers/paths.js';
import { randomSamples, tinyModel, weightsOf } from './tiny-model.js';

const steps = 13;
const schedule: LrSchedule = {
  kind: 'warmup-cosine',
  learningRate: 0.05,
  minLearningRate: 0.005,
  warmupSteps: 3,
  totalSteps: steps,
};
const train = randomSamples(40, 1); // 5 batches of 8: the run wraps around the split twice
const validation = randomSamples(12, 2);

function options(model: PrunableModel, extra: Partial<StepLoopOptions> = {}): StepLoopOptions {
  return {
    model,
    train,
    validation,
    steps,
    batchSize: 8,
    schedule,
    optimizer: { weightDecay: 0.1 },
    clipNorm: 0.5,
    rng: new Rng(7).fork('train-loop'),
    curveEvery: 4,
    evaluation: { every: 5, batchSize: 5 },
    where: 'test',
    ...extra,
  };
}

function isDataError(file: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof ScalpelError, String(e));
    assert.equal(e.code, ErrorCode.Data, e.message);
    assert.ok(e.message.includes(file), `message names the file: ${e.message}`);
    return true;
  };
}

function assertBitIdentical(a: Float32Array[], b: Float32Array[]): void {
  assert.equal(a.length, b.length);
  a.forEach((va, k) => {
    const vb = b[k] as Float32Array;
    assert.equal(va.length, vb.length);
    va.forEach((x, i) => assert.ok(Object.is(x, vb[i]), `variable ${k}[${i}]: ${x} vs ${vb[i]}`));
  });
}

describe('step loop', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('an interrupted run resumed into a fresh model ends bit-identical to an uninterrupted one', async () => {
    const whole = tinyModel(3);
    const wholeResult = await runStepLoop(options(whole));
    const expected = weightsOf(whole);
    whole.dispose();

    // Same run, stopped (as by Ctrl-C) after step 6: it checkpoints at 4 and, on the abort, at 6.
    const dir = tempDir('scalpel-ckpt-');
    const first = tinyModel(3);
    const controller = new AbortController();
    await assert.rejects(
      runStepLoop(
        options(first, {
          checkpoints: { dir, every: 4 },
          signal: controller.signal,
          onProgress: (p) => {
            if (p.step === 6) controller.abort();
          },
        }),
      ),
    );
    first.dispose();
    assert.deepEqual(readdirSync(dir).sort(), ['step-000000004.ckpt', 'step-000000006.ckpt']);

    // A fresh process would build the model anew: other initial weights, other variable names.
    const fresh = tinyModel(99);
    let resumedAt = -1;
    const seen: number[] = [];
    const rest = await runStepLoop(
      options(fresh, {
        checkpoints: { dir, every: 4 },
        onResume: (step) => (resumedAt = step),
        onProgress: (p) => seen.push(p.step),
      }),
    );
    assert.equal(resumedAt, 6);
    assert.deepEqual(seen, [7, 8, 9, 10, 11, 12, 13]);
    assertBitIdentical(weightsOf(fresh), expected);
    assert.deepEqual(rest.curve, wholeResult.curve);
    assert.deepEqual(rest.evaluations, wholeResult.evaluations);
    assert.equal(rest.samples, wholeResult.samples);
    fresh.dispose();
  });

  it('resuming matters: the weights after a run without the checkpoint differ', async () => {
    // Guards the test above: if restoring did nothing, the fresh model's run would differ.
    const a = tinyModel(3);
    await runStepLoop(options(a));
    const b = tinyModel(99);
    await runStepLoop(options(b));
    const [wa, wb] = [weightsOf(a), weightsOf(b)];
    assert.ok(wa.some((v, k) => v.some((x, i) => x !== (wb[k] as Float32Array)[i])));
    a.dispose();
    b.dispose();
  });

  it('reports the scheduled rate, a curve every N steps, evaluations, and leaks no tensors', async () => {
    const model = tinyModel(4);
    const progress: StepProgress[] = [];
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    const result = await runStepLoop(
      options(model, {
        onProgress: (p) => {
          progress.push(p);
          counts.push(tf.memory().numTensors);
        },
      }),
    );
    assert.equal(tf.memory().numTensors, before, 'tensors left after the loop');
    assert.ok(
      counts.every((c) => c === counts[0]),
      `tensor count per step: ${counts.join(' ')}`,
    );
    progress.forEach((p, i) => {
      const n = i + 1;
      const lr =
        n <= 3 ? (0.05 * n) / 3 : 0.005 + 0.0225 * (1 + Math.cos((Math.PI * (n - 3)) / 10));
      assert.ok(Math.abs(p.learningRate - lr) < 1e-15, `lr at step ${n}`);
      assert.equal(p.unit, 'samples');
      assert.ok(p.throughput > 0 && p.gradNorm !== undefined && p.gradNorm > 0);
    });
    // Curve points: means of the batch losses in windows of 4, the last one partial.
    assert.deepEqual(
      result.curve.map((c) => c.step),
      [4, 8, 12, 13],
    );
    const mean = (from: number, to: number): number =>
      progress.slice(from, to).reduce((a, p) => a + p.loss, 0) / (to - from);
    assert.ok(Math.abs((result.curve[1]?.loss ?? NaN) - mean(4, 8)) < 1e-12);
    assert.ok(Math.abs((result.curve[3]?.loss ?? NaN) - mean(12, 13)) < 1e-12);
    assert.deepEqual(
      result.evaluations.map((e) => e.step),
      [5, 10, 13],
    );
    assert.ok(
      result.evaluations.every((e) => Number.isFinite(e.loss) && e.values.accuracy !== undefined),
    );
    assert.equal(result.samples, steps * 8);
    model.dispose();
  });

  it('keeps pruned weights exactly +0 when given masks', async () => {
    const model = tinyModel(5);
    const name = model.operators[0]?.name as string;
    const mask = Uint8Array.from({ length: 6 * 8 }, (_, i) => (i % 3 === 0 ? 0 : 1));
    await runStepLoop(
      options(model, { masks: new Map([[name, mask]]), optimizer: { weightDecay: 0 } }),
    );
    const w = model.readWeight(name);
    mask.forEach((keep, i) => {
      if (keep === 0) assert.ok(Object.is(w[i], 0), `pruned weight ${i} is ${w[i]}`);
      else assert.notEqual(w[i], 0);
    });
    model.dispose();
  });

  it('the step loop refuses a corrupt newest checkpoint, and one of other settings', async () => {
    const dir = tempDir('scalpel-ckpt-');
    const train = randomSamples(16, 1);
    const base = {
      train,
      steps: 4,
      batchSize: 4,
      schedule: { kind: 'constant', learningRate: 0.01 } as const,
      where: 'test',
    };
    const m1 = tinyModel(1);
    await runStepLoop({
      ...base,
      steps: 4,
      model: m1,
      rng: new Rng(1),
      checkpoints: { dir, every: 2 },
    });
    m1.dispose();
    const path = (await newestCheckpoint(dir)) as string;
    const m2 = tinyModel(1);
    await assert.rejects(
      runStepLoop({
        ...base,
        batchSize: 2,
        model: m2,
        rng: new Rng(1),
        checkpoints: { dir, every: 2 },
      }),
      isDataError(path),
    );
    writeFileSync(path, readFileSync(path).subarray(0, 100));
    await assert.rejects(
      runStepLoop({ ...base, model: m2, rng: new Rng(1), checkpoints: { dir, every: 2 } }),
      isDataError(path),
    );
    m2.dispose();
  });
});
