// Data-parallel per-sample gradients (iCBS's G, by the outer-product rule): a batch's samples
// split into contiguous shards, each worker running the forward and backward pass of its shard
// and keeping its rows of a and e; G's rows for a block are formed where those rows are and
// joined in shard order. Each sample's rows depend on that sample only, so G is bitwise the
// single-thread G; the mean gradient aᵀe/N is formed on the calling thread from the joined rows,
// exactly as one thread forms it. Operators without the outer-product rule stay on the calling
// thread (GradientEngine).
import * as tf from '@tensorflow/tfjs-core';
import { disposeBatch } from '../data/batches.js';
import {
  GradientEngine,
  OuterGradients,
  type BlockGradients,
  type LayerBatchGradients,
} from '../models/per-sample-gradients.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { Batch } from '../plugin-api/task.js';
import { dataParallelPool, replicaFor } from './context.js';
import type { DataParallelPool } from './pool.js';
import type { TaskRequest, TaskResult, WeightsMessage, WireBatch } from './protocol.js';
import { contiguousShards, type Shard } from './shard.js';
import { batchFromWire, wireBatch, wireBuffers } from './wire.js';
import { valuesView } from '../models/tensor-storage.js';
import { readTensor } from '../models/read-tensor.js';

/** A layer's gradients for one batch whose rows live on worker threads. Dispose when done. */
export interface ShardedLayerGradients {
  readonly layer: string;
  readonly method: 'outer';
  readonly samples: number;
  blockGradients(block: Int32Array): Promise<BlockGradients>;
  meanGradient(): Promise<Float32Array>;
  dispose(): void;
}

let nextHandle = 1;

function expect<T extends TaskResult['type']>(
  r: TaskResult,
  type: T,
): Extract<TaskResult, { type: T }> {
  if (r.type !== type) throw new Error(`data-parallel gradients: expected ${type}, got ${r.type}`);
  return r as Extract<TaskResult, { type: T }>;
}

/** Float32 arrays in shared memory, reused from call to call (fresh pages are slow to touch). */
class SharedScratch {
  private buffer: SharedArrayBuffer | undefined;

  /** A zero-offset view of `length` floats (valid until the next take). */
  take(length: number): Float32Array {
    if (this.buffer === undefined || this.buffer.byteLength < length * 4)
      this.buffer = new SharedArrayBuffer(length * 4);
    return new Float32Array(this.buffer, 0, length);
  }
}

/** Where a shard's rows live: shard → worker, handle, rows of a and e. */
interface ShardRows extends Shard {
  readonly handle: number;
  /** Rows of the operator's input matrix (samples × positions). */
  readonly rows: number;
}

class Sharded implements ShardedLayerGradients {
  readonly method = 'outer';
  private released = false;

  constructor(
    private readonly pool: DataParallelPool,
    readonly layer: string,
    readonly samples: number,
    private readonly shards: readonly ShardRows[],
    private readonly dims: { fanIn: number; units: number },
    private readonly scratch: { a: SharedScratch; e: SharedScratch },
  ) {}

  async blockGradients(block: Int32Array): Promise<BlockGradients> {
    const n = block.length;
    // Each worker writes its samples' rows straight into the caller's G.
    const data = new Float32Array(new SharedArrayBuffer(this.samples * n * 4));
    await Promise.all(
      this.shards.map(async (s) =>
        expect(
          await this.pool.run(s.index, {
            type: 'block-gradients',
            handle: s.handle,
            layer: this.layer,
            block,
            out: data.subarray(s.start * n, s.end * n),
          }),
          'block-gradients',
        ),
      ),
    );
    return { samples: this.samples, entries: n, data };
  }

  async meanGradient(): Promise<Float32Array> {
    const { fanIn, units } = this.dims;
    const rows = this.shards.reduce((t, s) => t + s.rows, 0);
    const a = this.scratch.a.take(rows * fanIn);
    const e = this.scratch.e.take(rows * units);
    let r0 = 0;
    const targets = this.shards.map((s) => {
      const at = r0;
      r0 += s.rows;
      return { s, at };
    });
    await Promise.all(
      targets.map(async ({ s, at }) =>
        expect(
          await this.pool.run(s.index, {
            type: 'outer-matrices',
            handle: s.handle,
            layer: this.layer,
            a: a.subarray(at * fanIn, (at + s.rows) * fanIn),
            e: e.subarray(at * units, (at + s.rows) * units),
          }),
          'outer-matrices',
        ),
      ),
    );
    // aᵀe / N split by its rows (the fanIn side) over the workers, each from all joined rows:
    // a product's rows do not depend on the other rows, so these are one thread's bits.
    const out = new Float32Array(new SharedArrayBuffer(fanIn * units * 4));
    const parts = contiguousShards(fanIn, this.shards.length);
    await Promise.all(
      parts.map(async (p) =>
        expect(
          await this.pool.run(p.index, {
            type: 'mean-rows',
            a,
            e,
            rows,
            samples: this.samples,
            from: p.start,
            to: p.end,
            out: out.subarray(p.start * units, p.end * units),
          }),
          'mean-rows',
        ),
      ),
    );
    return out;
  }

  dispose(): void {
    if (this.released) return;
    this.released = true;
    for (const s of this.shards) {
      // Nothing waits for it; a worker that died has nothing left to free.
      this.pool.run(s.index, { type: 'release', handle: s.handle }).catch(() => undefined);
    }
  }
}

/**
 * Multiply-adds of the forward pass (input rows × every operator's weights) a shard must have at
 * least: below it the round trips cost more than the second thread gains (measured on the garment
 * classifier, docs/performance.md: iCBS's batch of 200 is 1.3·10⁸ and ran slower on two threads).
 */
export const minShardWork = 5e8;

/** Per-sample gradients of a model's layers on the worker threads (one per model). */
export class ParallelGradients {
  private readonly weightsPerRow: number;
  private readonly scratch = {
    inputs: new SharedScratch(),
    a: new SharedScratch(),
    e: new SharedScratch(),
  };

  private constructor(
    private readonly pool: DataParallelPool,
    private readonly model: PrunableModel,
    private readonly minWork: number,
  ) {
    this.weightsPerRow = model.operators.reduce((a, o) => a + o.paramCount, 0);
  }

  /**
   * Undefined when there are no worker threads. `minWork` (default minShardWork) is the forward
   * multiply-adds per shard below which a batch stays on the calling thread.
   */
  static create(
    model: PrunableModel,
    opts: { minWork?: number } = {},
  ): Promise<ParallelGradients | undefined> {
    const pool = dataParallelPool();
    return Promise.resolve(
      pool === undefined
        ? undefined
        : new ParallelGradients(pool, model, opts.minWork ?? minShardWork),
    );
  }

  get threads(): number {
    return this.pool.threads;
  }

  /**
   * `layer`'s gradients for `batch` on the workers, or undefined when the layer has no outer-product
   * rule or the batch is too small to split (then GradientEngine on the calling thread).
   */
  async compute(batch: Batch, layer: string): Promise<ShardedLayerGradients | undefined> {
    if (!this.model.isLinearInInput(layer)) return undefined;
    // Rows of the operator's input per sample (token positions, conv patches): the work's scale.
    const rows = this.model.perturbationShape(layer, batch.inputs)[0];
    const work = rows * this.weightsPerRow;
    const parts = Math.min(this.pool.threads, Math.floor(work / Math.max(1, this.minWork)));
    if (Math.min(parts, batch.count) < 2) return undefined;
    // Made anew if it fell out of the workers' live few; undefined for a plugin's family or when
    // fewer than two copies fit in memory.
    const replica = await replicaFor(this.pool, this.model);
    if (replica === undefined) return undefined;
    const shards = contiguousShards(batch.count, Math.min(parts, replica.workers));
    const weights: WeightsMessage = replica.currentWeights();
    const on = { replica, weights };
    const handled = shards.map((s) => ({ ...s, handle: nextHandle++ }));
    const inputs = this.sharedInputs(batch);
    const done = await Promise.allSettled(
      handled.map((s) => {
        const part = wireBatch(batch, s.start, s.end, inputs);
        return this.pool.run(
          s.index,
          { type: 'gradients', handle: s.handle, batch: part, layers: [layer] },
          on,
          wireBuffers(part),
        );
      }),
    );
    const info = this.model.operators.find((o) => o.name === layer);
    const perSample = rows / Math.max(1, batch.count);
    const sharded = new Sharded(
      this.pool,
      layer,
      batch.count,
      handled.map((s) => ({ ...s, rows: (s.end - s.start) * perSample })),
      { fanIn: info?.fanIn ?? 0, units: info?.units ?? 0 },
      this.scratch,
    );
    const failed = done.find((d) => d.status === 'rejected');
    if (failed !== undefined) {
      sharded.dispose();
      throw failed.reason;
    }
    return sharded;
  }

  /**
   * A float32 batch's inputs copied once into reused shared memory (each worker reads its rows
   * there), or undefined for other dtypes (token ids: small, copied per shard).
   */
  private sharedInputs(batch: Batch): Float32Array | undefined {
    if (batch.inputs.dtype !== 'float32') return undefined;
    const out = this.scratch.inputs.take(batch.inputs.size);
    out.set(valuesView(batch.inputs));
    return out;
  }
}

/** A worker's side: the gradients of its shards, kept by handle until released. */
export class ShardGradients {
  private readonly engines = new WeakMap<PrunableModel, GradientEngine>();
  private readonly kept = new Map<
    number,
    { batch: Batch; grads: Map<string, LayerBatchGradients> }
  >();

  compute(
    model: PrunableModel,
    handle: number,
    wire: WireBatch,
    layers: readonly string[],
  ): TaskResult {
    let engine = this.engines.get(model);
    if (engine === undefined) {
      engine = new GradientEngine(model);
      this.engines.set(model, engine);
    }
    const batch = batchFromWire(wire);
    try {
      const grads = engine.compute(batch, layers);
      this.kept.set(handle, { batch, grads });
      return { type: 'gradients', rows: layers.map(() => wire.count) };
    } catch (e) {
      disposeBatch(batch);
      throw e;
    }
  }

  private outer(handle: number, layer: string): OuterGradients {
    const g = this.kept.get(handle)?.grads.get(layer);
    if (!(g instanceof OuterGradients))
      throw new Error(`no outer-product gradients of '${layer}' under handle ${handle}`);
    return g;
  }

  blockGradients(handle: number, layer: string, block: Int32Array, out: Float32Array): TaskResult {
    this.outer(handle, layer).blockGradients(block, out);
    return { type: 'block-gradients' };
  }

  matrices(handle: number, layer: string, a: Float32Array, e: Float32Array): TaskResult {
    const m = this.outer(handle, layer).matrices();
    if (m.a.length !== a.length || m.e.length !== e.length)
      throw new Error(
        `outer matrices of '${layer}': ${m.a.length} + ${m.e.length} values for ${a.length} + ${e.length}`,
      );
    a.set(m.a);
    e.set(m.e);
    return { type: 'outer-matrices' };
  }

  /** Rows [from, to) of aᵀe / N, as OuterGradients.meanGradient forms the whole of it. */
  meanRows(task: Extract<TaskRequest, { type: 'mean-rows' }>): TaskResult {
    const fanIn = task.a.length / Math.max(1, task.rows);
    const units = task.e.length / Math.max(1, task.rows);
    const part = readTensor(() => {
      const at = tf.transpose(tf.tensor2d(task.a, [task.rows, fanIn]));
      const rows = tf.slice(at, [task.from, 0], [task.to - task.from, task.rows]);
      return tf.div(tf.matMul(rows, tf.tensor2d(task.e, [task.rows, units])), task.samples);
    });
    task.out.set(part);
    return { type: 'mean-rows' };
  }

  release(handle: number): TaskResult {
    const k = this.kept.get(handle);
    this.kept.delete(handle);
    if (k !== undefined) {
      for (const g of k.grads.values()) g.dispose();
      disposeBatch(k.batch);
    }
    return { type: 'release' };
  }
}
