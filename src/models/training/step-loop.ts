// The step-based training loop for long runs (language models): a fixed number of AdamW updates on
// batches from a seeded cursor that wraps around the split, a learning-rate schedule, optional
// gradient clipping, masks re-applied after each update, a loss curve, periodic evaluation, and
// checkpoints every K steps with resume from the newest. A resumed run gives bit-identical weights
// and curves: the batch order is replayed from its seeded stream, the dropout stream's position is
// restored, and the rate is a pure function of the step.
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../../errors.js';
import { BatchCursor, disposeBatch } from '../../data/batches.js';
import type { Samples } from '../../plugin-api/dataset.js';
import type { PrunableModel } from '../../plugin-api/model.js';
import type { Rng } from '../../util/rng.js';
import { maskTensors, reapplyMasks } from '../kernel-variables.js';
import { BatchAugmenter, type TrainingAugment } from '../../data/augment.js';
import { AdamW, type AdamWOptions } from './adamw.js';
import {
  loadCheckpoint,
  newestCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
  type TrainingState,
} from './checkpoint.js';
import { clipByGlobalNorm } from './clip.js';
import { accumulatedGradients, checkMicroBatches, type MicroBatchRunner } from './micro-batches.js';
import {
  freshLoopState,
  loopJson,
  readLoopJson,
  type CurvePoint,
  type EvaluationPoint,
  type LoopConfig,
  type LoopState,
} from './loop-state.js';
import { checkSchedule, learningRateAt, type LrSchedule } from './lr-schedule.js';

export type { CurvePoint, EvaluationPoint } from './loop-state.js';

export interface StepLoopOptions {
  model: PrunableModel;
  train: Samples;
  validation?: Samples | undefined;
  /** Updates in the whole run. */
  steps: number;
  batchSize: number;
  /**
   * Gradient accumulation over this many micro-batches per update, on the data-parallel worker
   * threads when there are any (src/parallel/training.ts). Default 1: one forward per batch.
   */
  microBatches?: number | undefined;
  /** Where micro-batches run when not here (src/parallel/training.ts workerMicroBatches). */
  microBatchRunner?: MicroBatchRunner | undefined;
  schedule: LrSchedule;
  /** AdamW settings (weightDecay 0: plain Adam). */
  optimizer?: AdamWOptions | undefined;
  /** Clip gradients to this global L2 norm; none when undefined. */
  clipNorm?: number | undefined;
  /** Batch order (fork 'shuffle'), dropout noise (fork 'dropout') and augmentation (fork 'augment'). */
  rng: Rng;
  /** Augment every training batch; its stream's position is checkpointed like dropout's. */
  augment?: TrainingAugment | undefined;
  /** Keep-masks re-applied after every update (finetune). */
  masks?: ReadonlyMap<string, Uint8Array> | undefined;
  /** A loss-curve point every this many steps (and after the last). Default 10. */
  curveEvery?: number | undefined;
  /** Evaluate on `validation` every `every` steps and after the last. */
  evaluation?: { every: number; batchSize: number } | undefined;
  /** Checkpoint every `every` steps into `dir` (keeping the newest `keep`, default 2); resume from the newest. */
  checkpoints?: { dir: string; every: number; keep?: number } | undefined;
  /** Identifies the run (e.g. the stage's node hash): checkpoints of another run are refused. */
  fingerprint?: string | undefined;
  signal?: AbortSignal | undefined;
  /** After every update. */
  onProgress?(p: StepProgress): void;
  onEvaluation?(e: EvaluationPoint): void;
  /** When training continues from a checkpoint. */
  onResume?(step: number, path: string): void;
  where: string;
}

export interface StepProgress {
  readonly step: number;
  readonly steps: number;
  /** This update's batch loss. */
  readonly loss: number;
  readonly learningRate: number;
  /** Global gradient norm before clipping (when clipping is on). */
  readonly gradNorm: number | undefined;
  /** Tokens per second for causal-lm, samples per second otherwise, since this process started. */
  readonly throughput: number;
  readonly unit: 'tokens' | 'samples';
}

export interface StepLoopResult {
  readonly steps: number;
  readonly curve: readonly CurvePoint[];
  readonly evaluations: readonly EvaluationPoint[];
  /** Samples trained on (with repeats); tokens too for causal-lm. */
  readonly samples: number;
  readonly tokens: number;
}

function positiveInt(x: number | undefined): boolean {
  return x !== undefined && Number.isInteger(x) && x > 0;
}

function checkOptions(o: StepLoopOptions): void {
  const bad = (what: string): ScalpelError =>
    new ScalpelError(ErrorCode.Stage, `${o.where}: ${what}`, {
      hint: 'fix the training settings of the stage',
    });
  if (!positiveInt(o.steps)) throw bad(`steps must be a positive integer, got ${o.steps}`);
  if (!positiveInt(o.batchSize))
    throw bad(`batchSize must be a positive integer, got ${o.batchSize}`);
  if (o.curveEvery !== undefined && !positiveInt(o.curveEvery))
    throw bad(`the loss-curve interval must be a positive integer, got ${o.curveEvery}`);
  if (
    o.evaluation !== undefined &&
    !(positiveInt(o.evaluation.every) && positiveInt(o.evaluation.batchSize))
  )
    throw bad('the evaluation interval and batch size must be positive integers');
  if (o.checkpoints !== undefined && !positiveInt(o.checkpoints.every))
    throw bad(`the checkpoint interval must be a positive integer, got ${o.checkpoints.every}`);
  if (o.clipNorm !== undefined && !(o.clipNorm > 0))
    throw bad(`clipNorm must be > 0, got ${o.clipNorm}`);
  if (o.train.count === 0) {
    throw new ScalpelError(ErrorCode.Data, `${o.where}: no training samples`, {
      hint: 'check the dataset split and validationSplit',
    });
  }
  checkSchedule(o.schedule, o.where);
}

function configOf(o: StepLoopOptions, optimizer: AdamW): LoopConfig {
  return {
    fingerprint: o.fingerprint ?? null,
    steps: o.steps,
    batchSize: o.batchSize,
    trainSamples: o.train.count,
    validationSamples: o.validation?.count ?? 0,
    schedule: { ...o.schedule },
    optimizer: {
      beta1: optimizer.beta1,
      beta2: optimizer.beta2,
      epsilon: optimizer.epsilon,
      weightDecay: optimizer.weightDecay,
    },
    clipNorm: o.clipNorm ?? null,
    seed: o.rng.seed,
    // Backends round differently: continuing a wasm run on cpu would silently diverge.
    backend: tf.getBackend(),
    masks: o.masks === undefined ? [] : [...o.masks.keys()].sort(),
    curveEvery: o.curveEvery ?? 10,
    evaluation: o.evaluation === undefined ? null : { ...o.evaluation },
    ...(o.augment !== undefined ? { augment: { ...o.augment.options } } : {}),
    // Absent at 1 (checkpoints from before the parameter existed still fit).
    ...(o.microBatches !== undefined && o.microBatches > 1 ? { microBatches: o.microBatches } : {}),
  };
}

/** Train in place for `o.steps` updates (continuing from the newest checkpoint when there is one). */
export async function runStepLoop(o: StepLoopOptions): Promise<StepLoopResult> {
  checkOptions(o);
  const microBatches = checkMicroBatches(o.microBatches, o.batchSize, o.where);
  const task = o.model.task;
  const unit = task.name === 'causal-lm' ? 'tokens' : 'samples';
  const curveEvery = o.curveEvery ?? 10;
  const shuffleRng = o.rng.fork('shuffle');
  const dropoutRng = o.rng.fork('dropout');
  const augmenter =
    o.augment !== undefined
      ? new BatchAugmenter(o.augment.options, o.augment.image, o.rng.fork('augment'))
      : undefined;
  const cursor = new BatchCursor(
    { name: 'train', ...o.train },
    { batchSize: o.batchSize, shuffle: true, rng: shuffleRng },
  );
  const variables = o.model.trainableVariables();
  const optimizer = new AdamW(variables, o.optimizer);
  const masks =
    o.masks !== undefined && o.masks.size > 0 ? maskTensors(o.model, o.masks) : undefined;
  const training: TrainingState = {
    variables,
    optimizer,
    rngs: {
      shuffle: shuffleRng,
      dropout: dropoutRng,
      ...(augmenter !== undefined ? { augment: augmenter.rng } : {}),
    },
  };
  const config = configOf(o, optimizer);
  let s: LoopState = freshLoopState();
  let savedAt = -1;
  const save = async (): Promise<void> => {
    if (o.checkpoints === undefined || savedAt === s.step) return;
    s.cursor = { epoch: cursor.epoch, position: cursor.position };
    await saveCheckpoint(
      o.checkpoints.dir,
      s.step,
      training,
      loopJson(config, s),
      o.checkpoints.keep,
    );
    savedAt = s.step;
  };
  try {
    if (o.checkpoints !== undefined) {
      const path = await newestCheckpoint(o.checkpoints.dir);
      if (path !== undefined) {
        s = await resume(path, config, cursor, training);
        savedAt = s.step;
        o.onResume?.(s.step, path);
      }
    }
    if (masks !== undefined) reapplyMasks(masks);
    const started = performance.now();
    let counted = 0;
    while (s.step < o.steps) {
      if (o.signal?.aborted === true) {
        await save(); // a clean stop keeps all work done so far
        o.signal.throwIfAborted();
      }
      const learningRate = learningRateAt(o.schedule, s.step);
      const rows = cursor.nextIndices();
      const batch =
        augmenter !== undefined
          ? task.batch(augmenter.gather(o.train, rows))
          : task.batch(o.train, rows);
      let loss: number;
      let gradNorm: number | undefined;
      const count = batch.count * (unit === 'tokens' ? (batch.inputs.shape[1] ?? 1) : 1);
      try {
        let grads: tf.NamedTensorMap;
        // The batch loss: known from the micro-batches, else read after the update (as always).
        let value: tf.Scalar | undefined;
        let summedLoss = NaN;
        if (microBatches > 1) {
          const g = await accumulatedGradients(
            o.model,
            batch,
            microBatches,
            dropoutRng,
            o.microBatchRunner,
          );
          grads = g.grads;
          summedLoss = g.loss;
        } else {
          const whole = tf.variableGrads(() => {
            const out = o.model.forward(batch.inputs, { training: true, rng: dropoutRng }).output;
            return tf.mean<tf.Scalar>(task.perSampleLoss(out, batch));
          }, variables);
          grads = whole.grads;
          value = whole.value;
        }
        let applied = grads;
        try {
          if (o.clipNorm !== undefined) {
            const c = clipByGlobalNorm(grads, o.clipNorm);
            applied = c.grads;
            gradNorm = c.norm;
          }
          optimizer.update(applied, learningRate);
        } finally {
          tf.dispose(Object.values(applied));
        }
        if (masks !== undefined) reapplyMasks(masks);
        if (value !== undefined) {
          loss = (await value.data())[0] ?? NaN;
          value.dispose();
        } else loss = summedLoss;
      } finally {
        disposeBatch(batch);
      }
      if (!Number.isFinite(loss) || (gradNorm !== undefined && !Number.isFinite(gradNorm))) {
        throw new ScalpelError(
          ErrorCode.Stage,
          `${o.where}: the training ${Number.isFinite(loss) ? 'gradient norm' : 'loss'} became ${Number.isFinite(loss) ? gradNorm : loss} at step ${s.step + 1}`,
          { hint: 'lower the learning rate, add gradient clipping, or check the data' },
        );
      }
      s.step++;
      s.samples += batch.count;
      if (unit === 'tokens') s.tokens += count;
      counted += count;
      s.window.steps++;
      s.window.lossSum += loss;
      s.window.gradNormSum += gradNorm ?? 0;
      if (s.step % curveEvery === 0 || s.step === o.steps) {
        const w = s.window;
        s.curve.push({
          step: s.step,
          loss: w.lossSum / w.steps,
          learningRate,
          ...(o.clipNorm !== undefined ? { gradNorm: w.gradNormSum / w.steps } : {}),
        });
        s.window = { steps: 0, lossSum: 0, gradNormSum: 0 };
      }
      if (o.evaluation !== undefined && o.validation !== undefined && o.validation.count > 0) {
        if (s.step % o.evaluation.every === 0 || s.step === o.steps) {
          const m = task.evaluate(o.model, o.validation, { batchSize: o.evaluation.batchSize });
          const point = { step: s.step, loss: m.loss, values: { ...m.values } };
          s.evaluations.push(point);
          o.onEvaluation?.(point);
        }
      }
      const seconds = (performance.now() - started) / 1000;
      o.onProgress?.({
        step: s.step,
        steps: o.steps,
        loss,
        learningRate,
        gradNorm,
        throughput: seconds > 0 ? counted / seconds : 0,
        unit,
      });
      if (o.checkpoints !== undefined && s.step % o.checkpoints.every === 0 && s.step < o.steps)
        await save();
      // Yield to the event loop now and then so Ctrl-C and progress output get through.
      if (s.step % 20 === 0) await new Promise((r) => setImmediate(r));
    }
  } finally {
    optimizer.dispose();
    if (masks !== undefined) tf.dispose([...masks.values()]);
  }
  return {
    steps: s.step,
    curve: s.curve,
    evaluations: s.evaluations,
    samples: s.samples,
    tokens: s.tokens,
  };
}

/** Load a checkpoint into the live state; returns the loop state to continue from. */
async function resume(
  path: string,
  config: LoopConfig,
  cursor: BatchCursor,
  training: TrainingState,
): Promise<LoopState> {
  const data = await loadCheckpoint(path);
  const state = readLoopJson(data.loop, config, path);
  // The batch order is a pure function of the shuffle stream: replay it to where the run was.
  for (let i = 0; i < state.step; i++) cursor.nextIndices();
  const shuffled = training.rngs.shuffle?.snapshot();
  const saved = data.rngs.shuffle;
  const same =
    state.step === data.step &&
    cursor.epoch === state.cursor.epoch &&
    cursor.position === state.cursor.position &&
    saved !== undefined &&
    JSON.stringify(saved) === JSON.stringify(shuffled);
  if (!same) {
    throw new ScalpelError(
      ErrorCode.Data,
      `training checkpoint ${path} does not fit this training run: replaying ${state.step} batches does not reach the recorded data position`,
      { location: { file: path }, hint: 'delete the checkpoint directory to train from the start' },
    );
  }
  const { shuffle: _replayed, ...restored } = training.rngs;
  restoreCheckpoint(data, { ...training, rngs: restored }, path);
  return state;
}
