// Messages between the data-parallel pool (pool.ts, the run's thread) and its worker threads
// (worker-entry.ts). Every request carries an id; each worker answers its requests in the order
// they were posted. Typed arrays in replies are transferred, weights come in a SharedArrayBuffer.
import type { EvaluateOptions, EvaluationPartial } from '../plugin-api/task.js';
import type { BackendName } from '../models/backend.js';

/** What a worker thread is started with. */
export interface WorkerStart {
  readonly backend: BackendName;
}

/** Samples as they cross threads: copies of one part (a view would carry its whole buffer). */
export interface WireSamples {
  readonly count: number;
  readonly sampleShape: readonly number[];
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly ids: Int32Array;
}

/** A tensor as it crosses threads (a batch's inputs or targets, cut to one shard's samples). */
export interface WireTensor {
  readonly values: Float32Array | Int32Array;
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int32';
}

/** A Batch as it crosses threads. */
export interface WireBatch {
  readonly count: number;
  readonly inputs: WireTensor;
  readonly targets: WireTensor;
}

/** Where a worker loads a model replica from (a directory its family saved). */
export interface ReplicaSource {
  readonly id: number;
  readonly family: string;
  readonly modelPath: string;
}

/** The values of a replica's synchronised variables (replica.ts), one version. */
export interface WeightsMessage {
  readonly version: number;
  /** Every variable's values back to back, float32, in syncedVariables order. */
  readonly buffer: SharedArrayBuffer;
  readonly shapes: readonly (readonly number[])[];
}

/** A layer's statistics request as calibration.ts sends it (LayerStatisticsRequest by name). */
export interface WireStatisticsRequest {
  readonly layer: string;
  readonly inputNorms: boolean;
  readonly gram: boolean;
  readonly meanGradient: boolean;
}

/** One batch's statistics of one layer: what layerStatistics adds into its float64 sums. */
export interface BatchLayerStatistics {
  readonly layer: string;
  readonly rows: number;
  readonly sq?: Float32Array;
  /** XᵀX as column blocks [fanIn, c_b] back to back; `columns` gives each c_b. */
  readonly gram?: Float32Array;
  readonly columns?: readonly number[];
  /** ∂(batch mean loss)/∂W in the [fanIn, units] view. */
  readonly grad?: Float32Array;
}

export type TaskRequest =
  | { readonly type: 'evaluate'; readonly samples: WireSamples; readonly opts: EvaluateOptions }
  | {
      /** Outer-product gradient matrices of `layers` for these samples, kept as `handle`. */
      readonly type: 'gradients';
      readonly handle: number;
      readonly batch: WireBatch;
      readonly layers: readonly string[];
    }
  | {
      /** Rows of G for the samples of `handle` (per-sample-gradients.ts OuterGradients). */
      readonly type: 'block-gradients';
      readonly handle: number;
      readonly layer: string;
      readonly block: Int32Array;
      /** This shard's rows of G, in shared memory: the worker writes them there. */
      readonly out: Float32Array;
    }
  | {
      /** This shard's rows of a and e, written into the shared `a` and `e`. */
      readonly type: 'outer-matrices';
      readonly handle: number;
      readonly layer: string;
      readonly a: Float32Array;
      readonly e: Float32Array;
    }
  | {
      /**
       * Rows [from, to) of aᵀe / N (the fanIn side) from the joined rows a [rows, fanIn] and
       * e [rows, units] in shared memory, written into `out` (those rows of [fanIn, units]).
       */
      readonly type: 'mean-rows';
      readonly a: Float32Array;
      readonly e: Float32Array;
      readonly rows: number;
      readonly samples: number;
      readonly from: number;
      readonly to: number;
      readonly out: Float32Array;
    }
  | { readonly type: 'release'; readonly handle: number }
  | {
      /** One micro-batch's training gradients (models/training/micro-batches.ts). */
      readonly type: 'train-gradients';
      readonly batch: WireBatch;
      /** The whole batch's sample count: each micro-batch's loss is Σ its losses / divisor. */
      readonly divisor: number;
      /** The dropout seed of this micro-batch, drawn on the run's thread. */
      readonly seed: number;
    }
  | {
      /** One batch of calibration statistics. */
      readonly type: 'statistics';
      readonly samples: WireSamples;
      readonly requests: readonly WireStatisticsRequest[];
    };

export interface Request {
  readonly id: number;
  /** The replica the task runs on; loaded first if this worker has not got it. */
  readonly replica?: ReplicaSource;
  /** New values of the replica's variables, when this worker's copy is older. */
  readonly weights?: WeightsMessage;
  /** Drop these replicas (their models were disposed on the run's thread). */
  readonly drop?: readonly number[];
  readonly task: TaskRequest;
}

export type TaskResult =
  | { readonly type: 'evaluate'; readonly partial: EvaluationPartial }
  | { readonly type: 'gradients'; readonly rows: readonly number[] }
  | { readonly type: 'block-gradients' }
  | { readonly type: 'outer-matrices' }
  | { readonly type: 'mean-rows' }
  | { readonly type: 'release' }
  | { readonly type: 'statistics'; readonly layers: readonly BatchLayerStatistics[] }
  | {
      readonly type: 'train-gradients';
      /** In the replica's trainableVariables order; null where the loss does not reach. */
      readonly grads: readonly (Float32Array | null)[];
      readonly loss: number;
      readonly hits: number;
    };

/** A failure as it crosses threads: a ScalpelError's code, hint and layer survive. */
export interface WireError {
  readonly message: string;
  readonly code?: string;
  readonly hint?: string;
  readonly layer?: string;
  readonly stack?: string;
}

export type Reply =
  | { readonly id: number; readonly ok: true; readonly result: TaskResult }
  | { readonly id: number; readonly ok: false; readonly error: WireError };

/** The ArrayBuffers of a result, to transfer instead of copy. */
export function transferablesOf(result: TaskResult): ArrayBuffer[] {
  const arrays: (ArrayBufferView | undefined)[] = [];
  if (result.type === 'evaluate') arrays.push(result.partial.terms);
  if (result.type === 'statistics')
    for (const l of result.layers) arrays.push(l.sq, l.gram, l.grad);
  if (result.type === 'train-gradients') for (const g of result.grads) arrays.push(g ?? undefined);
  const seen = new Set<ArrayBuffer>();
  for (const a of arrays) if (a !== undefined) seen.add(a.buffer as ArrayBuffer);
  return [...seen];
}
