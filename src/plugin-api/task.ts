// The task seam: what a batch is, the loss, and the quality metrics. A model carries its task
// (PrunableModel.task); pruners, calibrate, iCBS, train, finetune and evaluate never assume class
// labels or image tensors themselves — they ask the task. Built in: `classification`
// (src/models/tasks/classification.ts); `causal-lm` follows the same contract.
import type * as tf from '@tensorflow/tfjs-core';
import type { Dataset, DatasetSplit, Samples } from './dataset.js';
import type { PrunableModel } from './model.js';

/** One batch as tensors, ready for PrunableModel.forward and Task.perSampleLoss. */
export interface Batch {
  /** Number of samples (the leading dimension of `inputs`). */
  readonly count: number;
  /** What the model's forward takes, [count, ...]. */
  readonly inputs: tf.Tensor;
  /** What the loss compares the output with (class indices, next tokens…). */
  readonly targets: tf.Tensor;
}

/** Quality of a model on some samples. `loss` is always there; the rest depends on the task. */
export interface TaskMetrics {
  readonly count: number;
  /** Mean per-sample loss, accumulated in float64. */
  readonly loss: number;
  /** Further named numbers (accuracy, top-k accuracy, perplexity…). */
  readonly values: Readonly<Record<string, number>>;
}

/**
 * What evaluating one contiguous part of the samples gives, before the metrics are formed:
 * combined in part order (Task.combineEvaluation) it yields exactly Task.evaluate's metrics, so
 * parts evaluated on different threads give the single-thread numbers bit for bit.
 */
export interface EvaluationPartial {
  readonly count: number;
  /** Integer tallies (correct predictions…): exact sums. */
  readonly counts: readonly number[];
  /** Float terms the metrics sum in this order in float64 (per-sample or per-batch losses). */
  readonly terms: Float64Array;
}

export interface EvaluateOptions {
  readonly batchSize: number;
  /** Top-k accuracy for classification (k > 1 adds `top<k>Accuracy`). */
  readonly topK?: number;
}

export interface Task {
  /** 'classification' | 'causal-lm' | a plugin's. */
  readonly name: string;
  /**
   * Throws a located ScalpelError (naming `where`) when this data cannot feed the model: sample
   * shape, label range, vocabulary… Called by every stage before it runs the model on a split.
   */
  checkData(dataset: Dataset, split: DatasetSplit, where: string): void;
  /** The samples at `rows` (all when undefined) as tensors. The caller disposes them (disposeBatch). */
  batch(samples: Samples, rows?: ArrayLike<number>): Batch;
  /** Loss of every sample, shape [count]; differentiable w.r.t. `output`. */
  perSampleLoss(output: tf.Tensor, batch: Batch): tf.Tensor1D;
  /**
   * The same mean loss, built only from ops tfjs can differentiate twice (for hessian: exact).
   * Optional: tasks without it cannot give exact Hessians.
   */
  meanLossTwiceDifferentiable?(output: tf.Tensor, batch: Batch): tf.Scalar;
  /**
   * Optional: how many log-likelihood terms one sample's loss is the mean of (causal-lm: the
   * seqLength − 1 predicted tokens of a sequence); 1 when absent. The information identity
   * E[∇ℓ∇ℓᵀ] = E[∇²ℓ] holds for a log-likelihood ℓ, and L_s = ℓ_s / m, so the empirical Fisher
   * of per-sample gradients estimates the Hessian of the mean loss only when multiplied by m
   * (iCBS's hessian: fisher).
   */
  termsPerSample?(batch: Batch): number;
  /**
   * Optional: how many samples of the batch the output gets right (classification: top-1), as an
   * int32 scalar; the training loop reports it as training accuracy. Tasks without it get none.
   */
  countCorrect?(output: tf.Tensor, batch: Batch): tf.Scalar;
  /** Loss and metrics of `model` on `samples` in inference mode, batched. */
  evaluate(model: PrunableModel, samples: Samples, opts: EvaluateOptions): TaskMetrics;
  /**
   * Optional, for data-parallel evaluation (src/parallel/evaluation.ts): the batch size evaluate
   * really uses for these samples (parts start at its multiples, so every batch is the same as in
   * one pass), evaluate's sums over one part, and the metrics from the parts in order. A task
   * without them is evaluated on the calling thread.
   */
  evaluationBatchSize?(samples: Samples, opts: EvaluateOptions): number;
  evaluatePartial?(
    model: PrunableModel,
    samples: Samples,
    opts: EvaluateOptions,
  ): EvaluationPartial;
  combineEvaluation?(
    parts: readonly EvaluationPartial[],
    whole: Pick<Samples, 'count' | 'sampleShape'>,
    opts: EvaluateOptions,
  ): TaskMetrics;
}
