// Data-parallel evaluation: the samples split into contiguous shards at multiples of the task's
// batch size, each evaluated on a worker thread (Task.evaluatePartial), the parts combined in
// shard order (Task.combineEvaluation). Every batch is the single-thread pass's batch and the
// float sums run in the same order, so the metrics are bitwise the single-thread metrics.
import type { Samples } from '../plugin-api/dataset.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { EvaluateOptions, EvaluationPartial, TaskMetrics } from '../plugin-api/task.js';
import { dataParallelPool, replicaFor } from './context.js';
import type { TaskResult, WireSamples } from './protocol.js';
import { contiguousShards } from './shard.js';
import { wireBuffers, wireSamples } from './wire.js';

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
  const shards = contiguousShards(samples.count, replica.workers, batch);
  const weights = replica.currentWeights();
  const parts = await Promise.all(
    shards.map(async (s) => {
      const part = wireSamples(samples, s.start, s.end);
      const r = await pool.run(
        s.index,
        { type: 'evaluate', samples: part, opts },
        { replica, weights },
        wireBuffers(part),
      );
      if (r.type !== 'evaluate') throw new Error(`evaluate: unexpected reply ${r.type}`);
      return r.partial;
    }),
  );
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
