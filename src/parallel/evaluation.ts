// Data-parallel evaluation: the samples split into contiguous shards at multiples of the task's
// batch size, a few per worker, each evaluated on whichever worker thread is free
// (Task.evaluatePartial), the parts combined in shard order (Task.combineEvaluation). Every batch
// is the single-thread pass's batch and the float sums run in the same order, so the metrics are
// bitwise the single-thread metrics, whichever worker took which shard.
import type { Samples } from '../plugin-api/dataset.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { EvaluateOptions, EvaluationPartial, TaskMetrics } from '../plugin-api/task.js';
import { dataParallelPool, replicaFor } from './context.js';
import type { TaskResult, WireSamples } from './protocol.js';
import { contiguousShards } from './shard.js';
import { wireBuffers, wireSamples } from './wire.js';

/**
 * Shards per worker: the split's granularity. Each costs a round trip (well under a millisecond);
 * four let the free workers absorb most of a slowed one's share.
 */
export const shardsPerWorker = 4;

/** The task's metrics of `model` on `samples`, on the worker threads when there are any. */
export async function evaluateModel(
  model: PrunableModel,
  samples: Samples,
  opts: EvaluateOptions,
): Promise<TaskMetrics> {
  const task = model.task;
  const pool = dataParallelPool();
  if (
    pool === undefined ||
    task.evaluationBatchSize === undefined ||
    task.evaluatePartial === undefined ||
    task.combineEvaluation === undefined
  )
    return task.evaluate(model, samples, opts);
  const batch = task.evaluationBatchSize(samples, opts);
  if (samples.count <= batch) return task.evaluate(model, samples, opts);
  const replica = await replicaFor(pool, model);
  if (replica === undefined) return task.evaluate(model, samples, opts);
  // More shards than workers, taken by whichever worker is free: a core that another process
  // takes for a while gets less of the split instead of holding up the pass.
  const shards = contiguousShards(samples.count, replica.workers * shardsPerWorker, batch);
  const weights = replica.currentWeights();
  const parts: EvaluationPartial[] = new Array<EvaluationPartial>(shards.length);
  let next = 0;
  const drain = async (worker: number): Promise<void> => {
    for (let i = next++; i < shards.length; i = next++) {
      const s = shards[i] as (typeof shards)[number];
      const part = wireSamples(samples, s.start, s.end);
      const r = await pool.run(
        worker,
        { type: 'evaluate', samples: part, opts },
        { replica, weights },
        wireBuffers(part),
      );
      if (r.type !== 'evaluate') throw new Error(`evaluate: unexpected reply ${r.type}`);
      parts[i] = r.partial;
    }
  };
  const workers = Math.min(replica.workers, shards.length);
  await Promise.all(Array.from({ length: workers }, (_, w) => drain(w)));
  return task.combineEvaluation(parts, samples, opts);
}

/** A worker's part: evaluate's sums over its shard. */
export function evaluateShard(
  model: PrunableModel,
  samples: WireSamples,
  opts: EvaluateOptions,
): TaskResult {
  const task = model.task;
  if (task.evaluatePartial === undefined)
    throw new Error(`task '${task.name}' has no evaluatePartial`);
  const partial: EvaluationPartial = task.evaluatePartial(model, samples, opts);
  return { type: 'evaluate', partial };
}
