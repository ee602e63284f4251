// Data-parallel training steps (the `microBatches` training parameter,
// models/training/micro-batches.ts): the MicroBatchRunner that runs a batch's micro-batches'
// forward and backward passes on the worker threads (at most T in flight, like calibration.ts),
// each with the microBatchGradients the calling thread would run, and hands their gradients back
// in micro-batch order to be summed on the calling thread. So the summed gradient, and the trained
// weights, are the same bits at every thread count.
import { disposeBatch } from '../data/batches.js';
import { TfjsLayersModel } from '../models/tfjs-layers/layers-model.js';
import {
  microBatchGradients,
  type MicroBatch,
  type MicroBatchGradients,
  type MicroBatchRunner,
} from '../models/training/micro-batches.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { Batch } from '../plugin-api/task.js';
import { dataParallelPool, replicaFor } from './context.js';
import { inOrderOverWorkers } from './in-order.js';
import type { TaskResult, WireBatch } from './protocol.js';
import { batchFromWire, wireBatch, wireBuffers } from './wire.js';

/**
 * Whether a training forward changes variables that are not trained (batch norm's moving
 * averages): on a worker those changes would stay in the replica, so such a model trains on the
 * calling thread.
 */
function forwardChangesState(model: PrunableModel): boolean {
  return model instanceof TfjsLayersModel && model.layersModel.nonTrainableWeights.length > 0;
}

/** Micro-batches on the worker threads; false (nothing run) without workers or for a plugin's family. */
export const workerMicroBatches: MicroBatchRunner = async (
  model: PrunableModel,
  batch: Batch,
  parts: readonly MicroBatch[],
  take: (part: MicroBatchGradients) => void,
): Promise<boolean> => {
  const pool = dataParallelPool();
  if (pool === undefined || forwardChangesState(model)) return false;
  const replica = await replicaFor(pool, model);
  if (replica === undefined) return false;
  // A new version after every optimizer step: the weights changed.
  const on = { replica, weights: replica.currentWeights() };
  const post = (k: number): Promise<TaskResult> => {
    const p = parts[k] as MicroBatch;
    const part = wireBatch(batch, p.start, p.end);
    return pool.run(
      k % replica.workers,
      { type: 'train-gradients', batch: part, divisor: batch.count, seed: p.seed },
      on,
      wireBuffers(part),
    );
  };
  await inOrderOverWorkers(parts.length, replica.workers, post, (r) => {
    if (r.type !== 'train-gradients') throw new Error(`training: unexpected reply ${r.type}`);
    take(r);
  });
  return true;
};

/** A worker's side: one micro-batch's gradients. */
export function trainingGradientsOf(
  model: PrunableModel,
  wire: WireBatch,
  divisor: number,
  seed: number,
): TaskResult {
  const batch = batchFromWire(wire);
  try {
    return { type: 'train-gradients', ...microBatchGradients(model, batch, divisor, seed) };
  } finally {
    disposeBatch(batch);
  }
}
