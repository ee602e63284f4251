import { strict as assert } from 'node:assert';
import { ErrorCode, ScalpelError } from '../../../src/errors.js';
import {
  checkSchedule,
  learningRateAt,
  type LrSchedule,
} from '../../../src/models/training/lr-schedule.js';

describe('learning-rate schedule', () => {
  it('warmup-cosine equals its formula at every step, with exact boundary values', () => {
    const [peak, floor, W, T] = [3e-3, 3e-4, 5, 23];
    const s: LrSchedule = {
      kind: 'warmup-cosine',
      learningRate: peak,
      minLearningRate: floor,
      warmupSteps: W,
      totalSteps: T,
    };
    checkSchedule(s, 'test');
    for (let step = 0; step < T + 3; step++) {
      const n = step + 1; // 1-based update number
      // Written independently: a ramp of W equal increments, then half a cosine period from the
      // peak down to the floor over the remaining T − W updates, flat afterwards.
      const expected =
        n <= W
          ? (peak / W) * n
          : floor +
            ((peak - floor) / 2) * (1 + Math.cos((Math.PI * Math.min(n - W, T - W)) / (T - W)));
      const got = learningRateAt(s, step);
      assert.ok(Math.abs(got - expected) <= 1e-15, `step ${step}: ${got} vs ${expected}`);
    }
    assert.ok(
      Math.abs(learningRateAt(s, 0) - peak / W) < 1e-18,
      'first update: one warmup increment',
    );
    assert.equal(learningRateAt(s, W - 1), peak, 'end of warmup: the peak');
    assert.ok(
      learningRateAt(s, W) < peak && learningRateAt(s, W) > learningRateAt(s, W + 1),
      'decay starts right after',
    );
    assert.equal(learningRateAt(s, T - 1), floor, 'last update: the floor');
    assert.equal(learningRateAt(s, T + 10), floor, 'past the end: stays at the floor');
    const mid = learningRateAt(s, W + (T - W) / 2 - 1);
    assert.ok(
      Math.abs(mid - (peak + floor) / 2) < 1e-15,
      'half way through the decay: the mean of peak and floor',
    );
  });

  it('handles no warmup, warmup-only and the constant schedule', () => {
    const noWarmup: LrSchedule = {
      kind: 'warmup-cosine',
      learningRate: 1,
      minLearningRate: 0,
      warmupSteps: 0,
      totalSteps: 4,
    };
    assert.ok(Math.abs(learningRateAt(noWarmup, 0) - (1 + Math.cos(Math.PI / 4)) / 2) < 1e-15);
    assert.equal(learningRateAt(noWarmup, 3), 0);
    const onlyWarmup: LrSchedule = {
      kind: 'warmup-cosine',
      learningRate: 2,
      minLearningRate: 1,
      warmupSteps: 4,
      totalSteps: 4,
    };
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => learningRateAt(onlyWarmup, i)),
      [0.5, 1, 1.5, 2],
    );
    assert.equal(learningRateAt(onlyWarmup, 4), 1, 'after the run: the floor');
    assert.equal(learningRateAt({ kind: 'constant', learningRate: 0.25 }, 1e6), 0.25);
  });

  it('rejects schedules that cannot be followed with E_STAGE naming the place', () => {
    const bad: LrSchedule[] = [
      { kind: 'constant', learningRate: 0 },
      { kind: 'warmup-cosine', learningRate: 1, minLearningRate: 2, warmupSteps: 0, totalSteps: 4 },
      { kind: 'warmup-cosine', learningRate: 1, minLearningRate: 0, warmupSteps: 5, totalSteps: 4 },
      { kind: 'warmup-cosine', learningRate: 1, minLearningRate: 0, warmupSteps: 0, totalSteps: 0 },
    ];
    for (const s of bad) {
      assert.throws(
        () => checkSchedule(s, "stage 'pretrain'"),
        (e: unknown) =>
          e instanceof ScalpelError &&
          e.code === ErrorCode.Stage &&
          e.message.includes("stage 'pretrain'"),
        JSON.stringify(s),
      );
    }
  });
});
