// Per-layer calibration statistics of a model on a set of samples: ‖X_i‖₂ per input feature
// (Wanda), XᵀX (SparseGPT) and the mean loss gradient w.r.t. the kernel. X is the matrix the
// weight multiplies, as the family's forward records it (ForwardHooks.recordInputs: every token
// position of every sequence for a causal LM, im2col patches for convolutions). Shared by the
// calibrate stage (all layers of the dense model) and sequential pruning (one block at a time,
// from the partly pruned model).
import { meanLossGradients } from '../models/mean-loss-gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import { disposeBatch, sliceSamples } from '../data/batches.js';
import { readTensor } from '../models/read-tensor.js';
import { valuesView } from '../models/tensor-storage.js';
import type { LayerCalibration } from '../plugin-api/calibration.js';
import type { Samples } from '../plugin-api/dataset.js';
import type { PrunableLayerInfo } from '../plugin-api/layers.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { Progress } from '../plugin-api/stage.js';
import type { Batch } from '../plugin-api/task.js';
import type { ArrayScratch } from './array-scratch.js';

/** What to compute for one layer. */
export interface LayerStatisticsRequest {
  readonly info: PrunableLayerInfo;
  readonly inputNorms: boolean;
  readonly gram: boolean;
  readonly meanGradient: boolean;
}

export interface LayerStatisticsOptions {
  /** Samples per forward (memory only). */
  readonly batchSize: number;
  readonly signal?: AbortSignal;
  /** Ticked once per sample. */
  readonly progress?: Progress;
  /** Where the Gram matrices come from (reused buffers), when the caller hands them back. */
  readonly scratch?: ArrayScratch<Float64Array>;
}

interface Accumulator {
  readonly request: LayerStatisticsRequest;
  rows: number;
  sq?: Float64Array;
  gram?: Float64Array;
  grad?: Float64Array;
}

function addInto(acc: Float64Array, values: ArrayLike<number>, weight = 1): void {
  for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + weight * (values[i] as number);
}

/**
 * XᵀX as column blocks [fanIn, c] of at most ~1M values each, c = gramBlockColumns(fanIn): one
 * 3072-wide XᵀX whole is a 38 MB tensor per layer per batch, and wasm's heap never gives back
 * what it once grew to. The same bits as one matMul (each entry is the same dot product).
 */
function gramColumnBlocks(X: tf.Tensor): tf.Tensor[] {
  const [rows = 0, fanIn = 0] = X.shape;
  const c = gramBlockColumns(fanIn);
  if (c >= fanIn) return [tf.matMul(X, X, true, false)];
  const blocks: tf.Tensor[] = [];
  for (let c0 = 0; c0 < fanIn; c0 += c) {
    const cols = tf.slice(X, [0, c0], [rows, Math.min(c, fanIn - c0)]);
    blocks.push(tf.matMul(X, cols, true, false));
    cols.dispose();
  }
  return blocks;
}

export function gramBlockColumns(fanIn: number): number {
  return Math.max(1, Math.floor(2 ** 20 / Math.max(1, fanIn)));
}

/** Adds column blocks [fanIn, c_b] (in order) into the row-major fanIn × fanIn `gram`. */
function addColumnBlocks(
  gram: Float64Array,
  blocks: readonly { values: ArrayLike<number>; columns: number }[],
): void {
  const fanIn = Math.round(Math.sqrt(gram.length));
  let c0 = 0;
  for (const b of blocks) {
    const c = b.columns;
    const v = b.values;
    for (let i = 0; i < fanIn; i++) {
      const row = i * fanIn + c0;
      const src = i * c;
      for (let j = 0; j < c; j++)
        gram[row + j] = (gram[row + j] as number) + (v[src + j] as number);
    }
    c0 += c;
  }
}

/** layerStatistics' signature: the data-parallel calibrationStatistics has the same. */
export type StatisticsFunction = (
  model: PrunableModel,
  samples: Samples,
  requests: readonly LayerStatisticsRequest[],
  options: LayerStatisticsOptions,
) => Promise<Map<string, LayerCalibration>>;

/** One batch's statistics of one layer, as tensors (and the gradient as host values). */
export interface BatchStatistics {
  readonly rows: number;
  readonly sq?: tf.Tensor;
  /** XᵀX as column blocks [fanIn, c_b], in column order. */
  readonly gram: tf.Tensor[];
  readonly grad?: Float32Array;
}

/**
 * The statistics of one batch: Σx² and XᵀX of every recorded layer (pass 1) and the gradient of
 * the batch's mean loss (pass 2), by layer name. The caller disposes the tensors. The run's
 * thread and a data-parallel worker (src/parallel/calibration.ts) both make them here, so a
 * batch's numbers are the same bits wherever it is computed.
 */
export async function batchStatistics(
  model: PrunableModel,
  batch: Batch,
  requests: readonly LayerStatisticsRequest[],
): Promise<Map<string, BatchStatistics>> {
  const byName = new Map(requests.map((r) => [r.info.name, r]));
  const record = new Set(requests.filter((r) => r.inputNorms || r.gram).map((r) => r.info.name));
  const withGrad = requests.filter((r) => r.meanGradient);
  const out = new Map<string, BatchStatistics>();
  if (record.size > 0) {
    // Σx², XᵀX of one X, made as the forward records it (reduceInput), so only one block's X
    // exists at a time — the same ops on the same X as after the forward.
    const rows = new Map<string, number>();
    const reduce = (name: string, X: tf.Tensor): tf.Tensor[] => {
      const r = byName.get(name) as LayerStatisticsRequest;
      rows.set(name, X.shape[0] ?? 0);
      return [
        ...(r.inputNorms ? [tf.sum(tf.square(X), 0)] : []),
        ...(r.gram ? gramColumnBlocks(X) : []),
      ];
    };
    tf.tidy(() => {
      // inputsOnly: the family may stop after the last recorded layer (no LM head, and
      // for one block of a sequential prune, none of the blocks after it).
      const run = model.forward(batch.inputs, {
        recordInputs: record,
        inputsOnly: true,
        reduceInput: reduce,
      });
      const reduced = new Map(run.reducedInputs ?? []);
      // A family that ignores reduceInput returns X instead.
      for (const [name, X] of run.inputs) reduced.set(name, reduce(name, X));
      for (const [name, made] of reduced) {
        const r = byName.get(name) as LayerStatisticsRequest;
        const kept = made.map((t) => tf.keep(t));
        const sq = r.inputNorms ? kept.shift() : undefined;
        out.set(name, {
          rows: rows.get(name) ?? 0,
          ...(sq !== undefined ? { sq } : {}),
          gram: r.gram ? kept : [],
        });
      }
    });
  }
  if (withGrad.length > 0) {
    // Pass 2: gradient of the batch's mean loss.
    const names = withGrad.map((r) => r.info.name);
    const vars = names.map((n) => model.weightVariable(n));
    const { value, grads } = meanLossGradients(model, batch, vars);
    try {
      for (let i = 0; i < names.length; i++) {
        const name = names[i] as string;
        const g = grads[(vars[i] as tf.Variable).name];
        if (g === undefined) continue;
        // The statistic is kept in the [fanIn, units] view, whatever the variable's layout.
        const values =
          model.weightLayout(name) === 'transposed'
            ? readTensor(() => tf.transpose(g))
            : ((await g.data()) as Float32Array);
        out.set(name, { rows: 0, gram: [], ...out.get(name), grad: values });
      }
    } finally {
      tf.dispose([value, ...Object.values(grads)]);
    }
  }
  return out;
}

/** The float64 sums layerStatistics keeps, one per requested layer. */
export class StatisticsAccumulator {
  private readonly accs = new Map<string, Accumulator>();

  constructor(
    requests: readonly LayerStatisticsRequest[],
    private readonly count: number,
    scratch?: ArrayScratch<Float64Array>,
  ) {
    for (const request of requests) {
      const { info } = request;
      this.accs.set(info.name, {
        request,
        rows: 0,
        ...(request.inputNorms ? { sq: new Float64Array(info.fanIn) } : {}),
        ...(request.gram
          ? { gram: scratch?.take(info.fanIn * info.fanIn) ?? new Float64Array(info.fanIn ** 2) }
          : {}),
        ...(request.meanGradient ? { grad: new Float64Array(info.paramCount) } : {}),
      });
    }
  }

  /**
   * Adds one batch of `batchCount` samples: Σx² and XᵀX as they are, the gradient weighted by the
   * batch's share of the samples. Batches must come in sample order (float64 sums are ordered).
   * `gram` gives the column blocks' values and widths.
   */
  add(
    name: string,
    batchCount: number,
    stats: {
      rows: number;
      sq?: ArrayLike<number>;
      gram?: readonly { values: ArrayLike<number>; columns: number }[];
      grad?: ArrayLike<number>;
    },
  ): void {
    const acc = this.accs.get(name);
    if (acc === undefined) return;
    acc.rows += stats.rows;
    if (stats.sq !== undefined && acc.sq !== undefined) addInto(acc.sq, stats.sq);
    if (acc.gram !== undefined && stats.gram !== undefined) addColumnBlocks(acc.gram, stats.gram);
    if (acc.grad !== undefined && stats.grad !== undefined)
      addInto(acc.grad, stats.grad, batchCount / this.count);
  }

  result(): Map<string, LayerCalibration> {
    const out = new Map<string, LayerCalibration>();
    for (const [name, acc] of this.accs) {
      const cal: LayerCalibration = { rows: acc.rows };
      if (acc.sq !== undefined) cal.inputNorms = Float32Array.from(acc.sq, Math.sqrt);
      if (acc.gram !== undefined) cal.gram = acc.gram;
      if (acc.grad !== undefined) cal.meanGradient = Float32Array.from(acc.grad);
      out.set(name, cal);
    }
    return out;
  }
}

/**
 * Statistics of `requests` over `samples`, in batches of `options.batchSize`. Sums are float64
 * (each batch's Σx² and XᵀX is a float32 tfjs reduction, added in float64); memory is the
 * requested statistics plus one batch's recorded inputs.
 */
export async function layerStatistics(
  model: PrunableModel,
  samples: Samples,
  requests: readonly LayerStatisticsRequest[],
  options: LayerStatisticsOptions,
): Promise<Map<string, LayerCalibration>> {
  const count = samples.count;
  const acc = new StatisticsAccumulator(requests, count, options.scratch);
  for (let start = 0; start < count; start += options.batchSize) {
    options.signal?.throwIfAborted();
    const part = sliceSamples(samples, start, Math.min(start + options.batchSize, count));
    const batch = model.task.batch(part);
    try {
      const stats = await batchStatistics(model, batch, requests);
      // Added straight from the tensors' storage (valuesView, used before any other tfjs op):
      // a copy of every batch's XᵀX (GPT-2's 3072-wide: 38 MB) would only be garbage.
      for (const [name, s] of stats) {
        acc.add(name, part.count, {
          rows: s.rows,
          ...(s.sq !== undefined ? { sq: valuesView(s.sq) } : {}),
          gram: s.gram.map((g) => ({ values: valuesView(g), columns: g.shape[1] ?? 0 })),
          ...(s.grad !== undefined ? { grad: s.grad } : {}),
        });
        tf.dispose([s.sq ?? [], ...s.gram]);
      }
    } finally {
      disposeBatch(batch);
    }
    options.progress?.tick(part.count);
  }
  return acc.result();
}
