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
import type { TaskResult, WeightsMessage, WireBatch } from './protocol.js';
import { contiguousShards, type Shard } from './shard.js';
import { batchFromWire, wireBatch, wireBuffers } from './wire.js';

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

class Sharded implements ShardedLayerGradients {
  readonly method = 'outer';
  private released = false;

  constructor(
    private readonly pool: DataParallelPool,
    readonly layer: string,
    readonly samples: number,
    private readonly shards: readonly (Shard & { readonly handle: number })[],
  ) {}

  async blockGradients(block: Int32Array): Promise<BlockGradients> {
    const parts = await Promise.all(
      this.shards.map(async (s) =>
        expect(
          await this.pool.run(s.index, {
            type: 'block-gradients',
            handle: s.handle,
            layer: this.layer,
            block,
          }),
          'block-gradients',
        ),
      ),
    );
    const n = block.length;
    const data = new Float32Array(this.samples * n);
    this.shards.forEach((s, i) => data.set((parts[i] as { data: Float32Array }).data, s.start * n));
    return { samples: this.samples, entries: n, data };
  }

  async meanGradient(): Promise<Float32Array> {
    const parts = await Promise.all(
      this.shards.map(async (s) =>
        expect(
          await this.pool.run(s.index, {
            type: 'outer-matrices',
            handle: s.handle,
            layer: this.layer,
          }),
          'outer-matrices',
        ),
      ),
    );
    const join = (arrays: Float32Array[]): Float32Array => {
      const out = new Float32Array(arrays.reduce((a, b) => a + b.length, 0));
      let o = 0;
      for (const a of arrays) {
        out.set(a, o);
        o += a.length;
      }
      return out;
    };
    const first = parts[0] as (typeof parts)[number];
    const a = join(parts.map((p) => p.a));
    const e = join(parts.map((p) => p.e));
    const rows = a.length / first.fanIn;
    // The single-thread code on the joined rows: the same bits as one thread's aᵀe / N.
    const whole = new OuterGradients(
      this.layer,
      this.samples,
      tf.tensor2d(a, [rows, first.fanIn]),
      tf.tensor2d(e, [rows, first.units]),
    );
    try {
      return whole.meanGradient();
    } finally {
      whole.dispose();
    }
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
    const shards = contiguousShards(batch.count, parts);
    if (shards.length < 2) return undefined;
    // Made anew if it fell out of the workers' live few; undefined for a plugin's family.
    const replica = await replicaFor(this.pool, this.model);
    if (replica === undefined) return undefined;
    const weights: WeightsMessage = replica.currentWeights();
    const on = { replica, weights };
    const handled = shards.map((s) => ({ ...s, handle: nextHandle++ }));
    const done = await Promise.allSettled(
      handled.map((s) => {
        const part = wireBatch(batch, s.start, s.end);
        return this.pool.run(
          s.index,
          { type: 'gradients', handle: s.handle, batch: part, layers: [layer] },
          on,
          wireBuffers(part),
        );
      }),
    );
    const sharded = new Sharded(this.pool, layer, batch.count, handled);
    const failed = done.find((d) => d.status === 'rejected');
    if (failed !== undefined) {
      sharded.dispose();
      throw failed.reason;
    }
    return sharded;
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

  blockGradients(handle: number, layer: string, block: Int32Array): TaskResult {
    return { type: 'block-gradients', data: this.outer(handle, layer).blockGradients(block).data };
  }

  matrices(handle: number, layer: string): TaskResult {
    const m = this.outer(handle, layer).matrices();
    return {
      type: 'outer-matrices',
      a: m.a.slice(),
      e: m.e.slice(),
      fanIn: m.fanIn,
      units: m.units,
    };
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
