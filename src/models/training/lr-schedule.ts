// Learning-rate schedules as pure functions of the step, so that a resumed run uses exactly the
// rates an uninterrupted one would. `step` is the 0-based index of the update about to be applied
// (t = step + 1 is its 1-based number):
//   constant:       lr
//   warmup-cosine:  t ≤ W: lr·t/W                                 (linear warmup, reaches lr at t = W)
//                   t > W: min + (lr − min)·½(1 + cos(π·p)),  p = min(1, (t − W)/(T − W))
// so the last update (t = T) uses exactly minLearningRate; steps past T stay there.
import { ErrorCode, ScalpelError } from '../../errors.js';

export type LrSchedule =
  | { readonly kind: 'constant'; readonly learningRate: number }
  | {
      readonly kind: 'warmup-cosine';
      /** Peak rate, reached at the end of the warmup. */
      readonly learningRate: number;
      /** Rate of the last update. */
      readonly minLearningRate: number;
      /** W: updates of linear warmup (0 = none). */
      readonly warmupSteps: number;
      /** T: updates in the whole run. */
      readonly totalSteps: number;
    };

/** Throws E_STAGE (naming `where`) when the schedule cannot be followed. */
export function checkSchedule(s: LrSchedule, where: string): void {
  const bad = (what: string): ScalpelError =>
    new ScalpelError(ErrorCode.Stage, `${where}: learning-rate schedule: ${what}`, {
      hint: 'fix the learning-rate settings of the stage',
    });
  if (!(s.learningRate > 0 && Number.isFinite(s.learningRate)))
    throw bad(`learningRate must be a positive number, got ${s.learningRate}`);
  if (s.kind === 'constant') return;
  if (!(s.minLearningRate >= 0 && s.minLearningRate <= s.learningRate))
    throw bad(
      `minLearningRate ${s.minLearningRate} must lie in [0, learningRate ${s.learningRate}]`,
    );
  if (!(Number.isInteger(s.totalSteps) && s.totalSteps >= 1))
    throw bad(`totalSteps must be a positive integer, got ${s.totalSteps}`);
  if (!(Number.isInteger(s.warmupSteps) && s.warmupSteps >= 0 && s.warmupSteps <= s.totalSteps))
    throw bad(
      `warmupSteps must be an integer in [0, totalSteps ${s.totalSteps}], got ${s.warmupSteps}`,
    );
}

/** The learning rate of update `step` (0-based). */
export function learningRateAt(s: LrSchedule, step: number): number {
  if (s.kind === 'constant') return s.learningRate;
  const t = step + 1;
  const w = s.warmupSteps;
  if (t <= w) return (s.learningRate * t) / w;
  const p = s.totalSteps > w ? Math.min(1, (t - w) / (s.totalSteps - w)) : 1;
  return (
    s.minLearningRate + (s.learningRate - s.minLearningRate) * 0.5 * (1 + Math.cos(Math.PI * p))
  );
}
