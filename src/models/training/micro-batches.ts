// Gradient accumulation (the `microBatches` training parameter): a batch cut into contiguous
// micro-batches, each one's gradient of (Σ its per-sample losses) / (the batch's count), summed on
// the calling thread in micro-batch order — the gradient of the batch's mean loss. Each
// micro-batch's forward draws its dropout from its own seed, drawn from the loop's dropout stream
// in micro-batch order. `microBatchGradients` is the one function computing a micro-batch's part,
// on the calling thread and on a data-parallel worker alike (a MicroBatchRunner:
// src/parallel/training.ts), so where it ran never changes a bit.
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { PrunableModel } from '../../plugin-api/model.js';
import type { Rng as RngContract } from '../../plugin-api/rng.js';
import type { Batch } from '../../plugin-api/task.js';
import { Rng } from '../../util/rng.js';

/** One micro-batch's part of a batch gradient. */
export interface MicroBatchGradients {
  /**
   * ∂(Σ per-sample losses / divisor)/∂v for every trainable variable, in trainableVariables
   * order; null for a variable the loss does not reach.
   */
  readonly grads: readonly (Float32Array | null)[];
  /** Σ per-sample losses / divisor (its float32 value). */
  readonly loss: number;
  /** Correct predictions (tasks with countCorrect), else 0. */
  readonly hits: number;
}

/** Samples [start, end) of a batch and the seed of their dropout noise. */
export interface MicroBatch {
  readonly index: number;
  readonly start: number;
  readonly end: number;
  readonly seed: number;
}

/**
 * The micro-batches of a batch of `count` samples: `microBatches` contiguous ranges as equal as
 * can be (the first ones get the extra sample), fewer when the batch is shorter (a last batch of
 * an epoch with fewer samples than `microBatches` is cut into one-sample micro-batches). Their
 * seeds are drawn from `dropout`, one per micro-batch, in order.
 */
export function microBatchesOf(
  count: number,
  microBatches: number,
  dropout: RngContract,
): MicroBatch[] {
  const n = Math.max(1, Math.min(microBatches, count));
  const out: MicroBatch[] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const size = Math.floor(count / n) + (i < count % n ? 1 : 0);
    out.push({ index: i, start, end: start + size, seed: dropout.nextUint32() });
    start += size;
  }
  return out;
}

/** Checks a loop's `microBatches` against its batch size (the schema checks the recipe's). */
export function checkMicroBatches(
  microBatches: number | undefined,
  batchSize: number,
  where: string,
): number {
  const k = microBatches ?? 1;
  if (!Number.isInteger(k) || k < 1) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `${where}: microBatches must be a positive integer, got ${k}`,
      { hint: 'set with.microBatches to 1 (no accumulation) or more' },
    );
  }
  if (k > batchSize) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `${where}: with.microBatches (${k}) is larger than with.batchSize (${batchSize}): a micro-batch would have no sample`,
      {
        hint: `set microBatches to at most batchSize (${batchSize}), or raise batchSize; each batch of batchSize samples is cut into microBatches parts`,
      },
    );
  }
  return k;
}

/** A micro-batch's gradients, loss and hits (training mode, dropout from `seed`). */
export function microBatchGradients(
  model: PrunableModel,
  batch: Batch,
  divisor: number,
  seed: number,
): MicroBatchGradients {
  const task = model.task;
  const variables = model.trainableVariables();
  const rng = new Rng(seed);
  let hits: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const out = model.forward(batch.inputs, { training: true, rng }).output;
    const h = task.countCorrect?.(out, batch);
    if (h !== undefined) hits = tf.keep(h);
    return tf.div<tf.Scalar>(tf.sum(task.perSampleLoss(out, batch)), divisor);
  }, variables);
  // wasm's dataSync is a copy of its own; other backends may hand out a tensor's storage.
  const owned = tf.getBackend() === 'wasm';
  try {
    return {
      grads: variables.map((v) => {
        const g = grads[v.name] as tf.Tensor | null | undefined;
        if (g === undefined || g === null) return null;
        const values = g.dataSync() as Float32Array;
        return owned ? values : values.slice();
      }),
      loss: value.dataSync()[0] ?? NaN,
      hits: hits === undefined ? 0 : (hits.dataSync()[0] ?? 0),
    };
  } finally {
    tf.dispose([value, ...Object.values(grads), hits ?? []]);
  }
}

/** A batch's gradient as the optimizer takes it. */
export interface BatchGradients {
  /** ∂(the batch's mean loss)/∂v by variable name (the caller disposes the tensors). */
  readonly grads: tf.NamedTensorMap;
  /** The batch's mean loss: the micro-batches' losses added in order. */
  readonly loss: number;
  /** Correct predictions in the batch (tasks with countCorrect), else 0. */
  readonly hits: number;
}

/**
 * Runs micro-batches' microBatchGradients somewhere else (the data-parallel worker threads,
 * src/parallel/training.ts), handing each result to `take` in micro-batch order. Resolves false,
 * having taken nothing, when it cannot run this model (then the calling thread does).
 */
export type MicroBatchRunner = (
  model: PrunableModel,
  batch: Batch,
  parts: readonly MicroBatch[],
  take: (part: MicroBatchGradients) => void,
) => Promise<boolean>;

/** The micro-batches' gradients added up in the order they are taken. */
class GradientSum {
  private readonly sums: (Float32Array | null)[];
  loss = 0;
  hits = 0;

  constructor(private readonly variables: readonly tf.Variable[]) {
    this.sums = variables.map(() => null);
  }

  add(part: MicroBatchGradients): void {
    if (part.grads.length !== this.variables.length) {
      throw new ScalpelError(
        ErrorCode.Internal,
        `a micro-batch gave gradients of ${part.grads.length} variables, the model has ${this.variables.length}`,
        { hint: "a bug in the model's family: its replica trains other variables" },
      );
    }
    part.grads.forEach((g, i) => {
      if (g === null) return;
      const size = (this.variables[i] as tf.Variable).size;
      if (g.length !== size) {
        throw new ScalpelError(
          ErrorCode.Internal,
          `a micro-batch gave ${g.length} gradient values for a variable of ${size}`,
          { hint: "a bug in the model's family: its replica trains other variables" },
        );
      }
      let sum = this.sums[i];
      if (sum === undefined || sum === null) {
        sum = new Float32Array(size);
        this.sums[i] = sum;
      }
      // Each element rounded to float32 after every addition, micro-batch after micro-batch.
      for (let j = 0; j < size; j++) sum[j] = (sum[j] as number) + (g[j] as number);
    });
    this.loss += part.loss;
    this.hits += part.hits;
  }

  result(): BatchGradients {
    const grads: tf.NamedTensorMap = {};
    this.variables.forEach((v, i) => {
      const sum = this.sums[i];
      if (sum !== undefined && sum !== null) grads[v.name] = tf.tensor(sum, v.shape, 'float32');
    });
    return { grads, loss: this.loss, hits: this.hits };
  }
}

/** Samples [start, end) of a batch as a batch of its own (the caller disposes it). */
export function sliceBatch(batch: Batch, start: number, end: number): Batch {
  const cut = (t: tf.Tensor): tf.Tensor =>
    tf.slice(t, [start, ...t.shape.slice(1).map(() => 0)], [end - start, ...t.shape.slice(1)]);
  return { count: end - start, inputs: cut(batch.inputs), targets: cut(batch.targets) };
}

/**
 * The gradient of `batch`'s mean loss as the sum of its `microBatches` micro-batches' parts, in
 * order; `runner` runs them elsewhere when it can, else they run here one after another.
 */
export async function accumulatedGradients(
  model: PrunableModel,
  batch: Batch,
  microBatches: number,
  dropout: RngContract,
  runner?: MicroBatchRunner,
): Promise<BatchGradients> {
  const parts = microBatchesOf(batch.count, microBatches, dropout);
  const sum = new GradientSum(model.trainableVariables());
  const ran = runner !== undefined && (await runner(model, batch, parts, (p) => sum.add(p)));
  if (!ran) {
    for (const p of parts) {
      const part = sliceBatch(batch, p.start, p.end);
      try {
        sum.add(microBatchGradients(model, part, batch.count, p.seed));
      } finally {
        tf.dispose([part.inputs, part.targets]);
      }
    }
  }
  return sum.result();
}
