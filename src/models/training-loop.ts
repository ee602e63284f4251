// The training loop shared by the train and finetune stages: a custom loop (not model.fit) so that
// (1) shuffling and dropout noise come from the stage Rng — same seed, same weights — and (2) masks
// are re-applied after every optimizer step, keeping pruned weights exactly 0.0.
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Rng } from '../util/rng.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { Samples } from '../plugin-api/dataset.js';
import { maskTensors, reapplyMasks } from './kernel-variables.js';
import { disposeBatch } from '../data/batches.js';
import { BatchAugmenter, type TrainingAugment } from '../data/augment.js';
import {
  accumulatedGradients,
  checkMicroBatches,
  type MicroBatchRunner,
} from './training/micro-batches.js';

export type OptimizerName = 'adam' | 'sgd' | 'rmsprop';

export interface OptimizerSpec {
  name: OptimizerName;
  learningRate: number;
  /** SGD momentum / RMSprop momentum (0 = plain). */
  momentum?: number;
}

export function createOptimizer(spec: OptimizerSpec): tf.Optimizer {
  switch (spec.name) {
    case 'adam':
      return tf.train.adam(spec.learningRate);
    case 'sgd':
      return (spec.momentum ?? 0) > 0
        ? tf.train.momentum(spec.learningRate, spec.momentum ?? 0)
        : tf.train.sgd(spec.learningRate);
    case 'rmsprop':
      return tf.train.rmsprop(spec.learningRate, 0.9, spec.momentum ?? 0);
  }
}

export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch's batches (dropout active). */
  loss: number;
  /** Training accuracy over the epoch's batches (dropout active; tasks with countCorrect). */
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
}

export interface TrainLoopOptions {
  model: PrunableModel;
  train: Samples;
  validation?: Samples | undefined;
  optimizer: tf.Optimizer;
  epochs: number;
  batchSize: number;
  /**
   * Gradient accumulation: each batch's gradient summed over this many micro-batches, which run
   * on the data-parallel worker threads when there are any (src/parallel/training.ts). Default 1:
   * one forward over the whole batch.
   */
  microBatches?: number | undefined;
  /** Where micro-batches run when not here (src/parallel/training.ts workerMicroBatches). */
  microBatchRunner?: MicroBatchRunner | undefined;
  /** Shuffling, dropout noise and augmentation (forks 'shuffle', 'dropout', 'augment'). */
  rng: Rng;
  /** Augment every training batch (random crop, flip) from the 'augment' fork of `rng`. */
  augment?: TrainingAugment | undefined;
  /** Keep-masks re-applied after every step (finetune); none for plain training. */
  masks?: ReadonlyMap<string, Uint8Array> | undefined;
  /**
   * Gradual pruning: asked before the first step (0) and after every step t; new masks it returns
   * replace `masks` from then on (finetune's `gradual:`, pruning/gradual-magnitude.ts).
   */
  remask?(step: number): ReadonlyMap<string, Uint8Array> | undefined;
  signal?: AbortSignal | undefined;
  /** Called after each epoch. */
  onEpoch?(record: EpochRecord): void;
  /** Called after each optimizer step with the batch loss (for progress bars). */
  onStep?(step: number, loss: number): void;
  where: string;
}

/** Train in place; returns the per-epoch curve. */
export async function trainLoop(o: TrainLoopOptions): Promise<EpochRecord[]> {
  const task = o.model.task;
  const counts = task.countCorrect !== undefined;
  if (o.train.count === 0) {
    throw new ScalpelError(ErrorCode.Data, `${o.where}: no training samples`, {
      hint: 'check the dataset split and validationSplit',
    });
  }
  const microBatches = checkMicroBatches(o.microBatches, o.batchSize, o.where);
  const shuffleRng = o.rng.fork('shuffle');
  const dropoutRng = o.rng.fork('dropout');
  const augmenter =
    o.augment !== undefined
      ? new BatchAugmenter(o.augment.options, o.augment.image, o.rng.fork('augment'))
      : undefined;
  const variables = o.model.trainableVariables();
  let masks = o.masks !== undefined && o.masks.size > 0 ? maskTensors(o.model, o.masks) : undefined;
  const remask = (at: number): void => {
    const next = o.remask?.(at);
    if (next === undefined) return;
    if (masks !== undefined) tf.dispose([...masks.values()]);
    masks = undefined; // so the finally below cannot dispose them twice if maskTensors throws
    masks = maskTensors(o.model, next);
    reapplyMasks(masks);
  };
  const curve: EpochRecord[] = [];
  let step = 0;
  try {
    if (masks !== undefined) reapplyMasks(masks);
    remask(0);
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const started = performance.now();
      const order = shuffleRng.permutation(o.train.count);
      let lossSum = 0;
      let correct = 0;
      for (let start = 0; start < o.train.count; start += o.batchSize) {
        o.signal?.throwIfAborted();
        const rows = order.subarray(start, Math.min(start + o.batchSize, o.train.count));
        const batch =
          augmenter !== undefined
            ? task.batch(augmenter.gather(o.train, rows))
            : task.batch(o.train, rows);
        let batchLoss: number;
        if (microBatches > 1) {
          try {
            const g = await accumulatedGradients(
              o.model,
              batch,
              microBatches,
              dropoutRng,
              o.microBatchRunner,
            );
            o.optimizer.applyGradients(g.grads);
            tf.dispose(Object.values(g.grads));
            batchLoss = g.loss;
            correct += g.hits;
          } finally {
            disposeBatch(batch);
          }
          if (masks !== undefined) reapplyMasks(masks);
        } else {
          const acc: { hits?: tf.Tensor } = {};
          const cost = o.optimizer.minimize(
            () => {
              const out = o.model.forward(batch.inputs, { training: true, rng: dropoutRng }).output;
              const hits = task.countCorrect?.(out, batch);
              if (hits !== undefined) acc.hits = tf.keep(hits);
              return tf.mean<tf.Scalar>(task.perSampleLoss(out, batch));
            },
            true,
            variables,
          );
          if (masks !== undefined) reapplyMasks(masks);
          batchLoss = cost === null ? NaN : ((await cost.data())[0] ?? NaN);
          correct += acc.hits === undefined ? 0 : ((await acc.hits.data())[0] ?? 0);
          disposeBatch(batch);
          tf.dispose([cost ?? [], acc.hits ?? []]);
        }
        lossSum += batchLoss * rows.length;
        if (!Number.isFinite(batchLoss)) {
          throw new ScalpelError(
            ErrorCode.Stage,
            `${o.where}: the training loss became ${batchLoss} in epoch ${epoch}`,
            {
              hint: 'lower the learning rate, or check that the data is normalised',
            },
          );
        }
        step++;
        remask(step);
        o.onStep?.(step, batchLoss);
        // Yield to the event loop now and then so Ctrl-C and progress output get through.
        if (step % 20 === 0) await new Promise((r) => setImmediate(r));
      }
      const record: EpochRecord = {
        epoch,
        loss: lossSum / o.train.count,
        ...(counts ? { accuracy: correct / o.train.count } : {}),
        seconds: (performance.now() - started) / 1000,
      };
      if (o.validation !== undefined && o.validation.count > 0) {
        const v = task.evaluate(o.model, o.validation, { batchSize: 1000 });
        record.valLoss = v.loss;
        if (v.values.accuracy !== undefined) record.valAccuracy = v.values.accuracy;
      }
      curve.push(record);
      o.onEpoch?.(record);
    }
  } finally {
    if (masks !== undefined) tf.dispose([...masks.values()]);
  }
  return curve;
}
