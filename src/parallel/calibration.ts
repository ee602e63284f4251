// Data-parallel calibration statistics (Σx², XᵀX, mean gradients: pruning/layer-statistics.ts):
// the batches of the single-thread pass, dealt round-robin to the worker threads (batch b to
// worker b mod T, T the workers holding the replica, at most T in flight so that only T
// batches' results are ever held), their float32 results added into the float64 sums on the
// calling thread in batch order. The same batches, the same per-batch bits and the same order of
// additions: bitwise the single-thread statistics.
import type { LayerCalibration } from '../plugin-api/calibration.js';
import type { Samples } from '../plugin-api/dataset.js';
import type { PrunableModel } from '../plugin-api/model.js';
import * as tf from '@tensorflow/tfjs-core';
import { disposeBatch } from '../data/batches.js';
import {
  batchStatistics,
  layerStatistics,
  StatisticsAccumulator,
  type LayerStatisticsOptions,
  type LayerStatisticsRequest,
} from '../pruning/layer-statistics.js';
import { dataParallelPool, replicaFor } from './context.js';
import type {
  BatchLayerStatistics,
  TaskResult,
  WireSamples,
  WireStatisticsRequest,
} from './protocol.js';
import { inOrderOverWorkers } from './in-order.js';
import { wireBuffers, wireSamples } from './wire.js';

/** layerStatistics, on the worker threads when there are any. */
export async function calibrationStatistics(
  model: PrunableModel,
  samples: Samples,
  requests: readonly LayerStatisticsRequest[],
  options: LayerStatisticsOptions,
): Promise<Map<string, LayerCalibration>> {
  const pool = dataParallelPool();
  const count = samples.count;
  const batches = Math.ceil(count / options.batchSize);
  if (pool === undefined || batches < 2) return layerStatistics(model, samples, requests, options);
  const replica = await replicaFor(pool, model);
  if (replica === undefined) return layerStatistics(model, samples, requests, options);
  const on = { replica, weights: replica.currentWeights() };
  const wire: WireStatisticsRequest[] = requests.map((r) => ({
    layer: r.info.name,
    inputNorms: r.inputNorms,
    gram: r.gram,
    meanGradient: r.meanGradient,
  }));
  const post = (b: number): Promise<TaskResult> => {
    options.signal?.throwIfAborted();
    const start = b * options.batchSize;
    const part = wireSamples(samples, start, Math.min(start + options.batchSize, count));
    return pool.run(
      b % replica.workers,
      { type: 'statistics', samples: part, requests: wire },
      on,
      wireBuffers(part),
    );
  };
  const acc = new StatisticsAccumulator(requests, count, options.scratch);
  // A cancelled run stops at the next batch's turn; batches still running end unseen.
  await inOrderOverWorkers(batches, replica.workers, post, (r, b) => {
    options.signal?.throwIfAborted();
    if (r.type !== 'statistics') throw new Error(`statistics: unexpected reply ${r.type}`);
    const batchCount = Math.min(options.batchSize, count - b * options.batchSize);
    for (const s of r.layers) {
      const gram: { values: Float32Array; columns: number }[] = [];
      if (s.gram !== undefined && s.columns !== undefined) {
        const fanIn = Math.round(Math.sqrt(s.gram.length));
        let o = 0;
        for (const c of s.columns) {
          gram.push({ values: s.gram.subarray(o, o + fanIn * c), columns: c });
          o += fanIn * c;
        }
      }
      acc.add(s.layer, batchCount, {
        rows: s.rows,
        ...(s.sq !== undefined ? { sq: s.sq } : {}),
        gram,
        ...(s.grad !== undefined ? { grad: s.grad } : {}),
      });
    }
    options.progress?.tick(batchCount);
  });
  return acc.result();
}

/** A worker's side: one batch's statistics as float32 arrays. */
export async function statisticsOfBatch(
  model: PrunableModel,
  samples: WireSamples,
  wire: readonly WireStatisticsRequest[],
): Promise<TaskResult> {
  const infos = new Map(model.operators.map((o) => [o.name, o]));
  const requests: LayerStatisticsRequest[] = wire.map((w) => {
    const info = infos.get(w.layer);
    if (info === undefined) throw new Error(`the model replica has no operator '${w.layer}'`);
    return { info, inputNorms: w.inputNorms, gram: w.gram, meanGradient: w.meanGradient };
  });
  const batch = model.task.batch(samples);
  try {
    const stats = await batchStatistics(model, batch, requests);
    const layers: BatchLayerStatistics[] = [];
    for (const [layer, s] of stats) {
      let gram: Float32Array | undefined;
      if (s.gram.length > 0) {
        gram = new Float32Array(s.gram.reduce((a, g) => a + g.size, 0));
        let o = 0;
        for (const g of s.gram) {
          gram.set(g.dataSync(), o);
          o += g.size;
        }
      }
      layers.push({
        layer,
        rows: s.rows,
        ...(s.sq !== undefined ? { sq: (s.sq.dataSync() as Float32Array).slice() } : {}),
        ...(gram !== undefined ? { gram, columns: s.gram.map((g) => g.shape[1] ?? 0) } : {}),
        ...(s.grad !== undefined ? { grad: s.grad } : {}),
      });
      tf.dispose([s.sq ?? [], ...s.gram]);
    }
    return { type: 'statistics', layers };
  } finally {
    disposeBatch(batch);
  }
}
