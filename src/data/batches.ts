// From a DatasetSplit (flat typed arrays) to tfjs tensors: contiguous slices (no copy), gathered
// index sets, and a cursor that hands out the next batch of a split forever, wrapping around at
// the end (iCBS takes "the next batch of the training split"), optionally reshuffled each epoch
// with a seeded Rng. Tensors come as the plugin API's `Batch` (what Task.batch returns too) and
// belong to the caller: dispose them with disposeBatch.
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Rng } from '../util/rng.js';
import type { DatasetSplit, SampleBlock, Samples } from '../plugin-api/dataset.js';
import type { Batch } from '../plugin-api/task.js';

export type { SampleBlock, Samples };

/** Samples with an optional name (a split's) for error messages. */
type SampleSource = Samples & { readonly name?: string };

function sampleSize(s: Samples): number {
  return s.sampleShape.reduce((a, b) => a * b, 1);
}

function outside(s: SampleSource): string {
  return s.name !== undefined
    ? `split '${s.name}' of ${s.count} samples`
    : `the ${s.count} samples`;
}

/** Samples [start, end) as views into the source's arrays (no copy). */
export function sliceSamples(s: SampleSource, start: number, end: number): Samples {
  if (!(
    Number.isInteger(start) &&
    Number.isInteger(end) &&
    0 <= start &&
    start <= end &&
    end <= s.count
  )) {
    throw new RangeError(`slice [${start}, ${end}) is outside ${outside(s)}`);
  }
  const size = sampleSize(s);
  return {
    count: end - start,
    sampleShape: s.sampleShape,
    x: s.x.subarray(start * size, end * size),
    y: s.y.subarray(start, end),
    ids: s.ids.subarray(start, end),
  };
}

/** Copies of the samples at `indices` (in that order, repeats allowed). */
export function gatherSamples(s: SampleSource, indices: ArrayLike<number>): Samples {
  const size = sampleSize(s);
  const n = indices.length;
  const x = new Float32Array(n * size);
  const y = new Int32Array(n);
  const ids = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = indices[k] as number;
    if (!(Number.isInteger(i) && i >= 0 && i < s.count)) {
      throw new RangeError(`sample index ${i} is outside ${outside(s)}`);
    }
    x.set(s.x.subarray(i * size, (i + 1) * size), k * size);
    y[k] = s.y[i] as number;
    ids[k] = s.ids[i] as number;
  }
  return { count: n, sampleShape: s.sampleShape, x, y, ids };
}

/** Throws E_DATA naming the first sample whose label is outside [0, numClasses). */
export function checkLabelRange(block: SampleBlock, numClasses: number): void {
  for (let k = 0; k < block.count; k++) {
    const c = block.y[k] as number;
    if (!(c >= 0 && c < numClasses)) {
      throw new ScalpelError(
        ErrorCode.Data,
        `sample id ${block.ids[k]} has label ${c}, outside [0, ${numClasses})`,
        {
          hint: 'the model has fewer outputs than the dataset has classes, or the labels are wrong',
        },
      );
    }
  }
}

/**
 * A block of samples of `sampleShape` as a classification batch: inputs [count, ...sampleShape]
 * float32, targets [count] int32 class indices, which must lie in [0, numClasses).
 */
export function blockToTensors(
  block: SampleBlock,
  sampleShape: readonly number[],
  numClasses: number,
): Batch {
  checkLabelRange(block, numClasses);
  return {
    count: block.count,
    inputs: tf.tensor(block.x, [block.count, ...sampleShape], 'float32'),
    targets: tf.tensor1d(block.y, 'int32'),
  };
}

/** Tensors for samples [start, end) of a split. */
export function sliceToTensors(
  split: DatasetSplit,
  start: number,
  end: number,
  numClasses: number,
): Batch {
  return blockToTensors(sliceSamples(split, start, end), split.sampleShape, numClasses);
}

/** Tensors for the samples at `indices`. */
export function gatherToTensors(
  split: DatasetSplit,
  indices: ArrayLike<number>,
  numClasses: number,
): Batch {
  return blockToTensors(gatherSamples(split, indices), split.sampleShape, numClasses);
}

/** Frees a batch's tensors (from these functions, a cursor or Task.batch). */
export function disposeBatch(b: Batch): void {
  tf.dispose([b.inputs, b.targets]);
}

/** Consecutive [start, end) ranges covering 0..count in steps of batchSize (the last may be short). */
export function* batchRanges(
  count: number,
  batchSize: number,
): Generator<{ start: number; end: number }> {
  if (!(Number.isInteger(batchSize) && batchSize > 0))
    throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  for (let start = 0; start < count; start += batchSize)
    yield { start, end: Math.min(count, start + batchSize) };
}

export interface BatchCursorOptions {
  batchSize: number;
  /** Visit samples in a fresh seeded permutation each epoch (needs `rng`). Default false: split order. */
  shuffle?: boolean;
  rng?: Rng;
}

/**
 * Hands out batches of exactly `batchSize` sample indices forever: when a batch runs past the end
 * of the split it continues from the start (of the next epoch's permutation when shuffling).
 */
export class BatchCursor {
  readonly batchSize: number;
  /** Completed passes over the split. */
  epoch = 0;
  /** Position inside the current epoch's order. */
  position = 0;
  private order: Int32Array;
  private readonly rng: Rng | undefined;

  constructor(
    readonly split: DatasetSplit,
    options: BatchCursorOptions,
  ) {
    if (!(Number.isInteger(options.batchSize) && options.batchSize > 0)) {
      throw new RangeError(`batch size must be a positive integer, got ${options.batchSize}`);
    }
    if (split.count === 0) {
      throw new ScalpelError(
        ErrorCode.Data,
        `split '${split.name}' is empty: there is nothing to draw batches from`,
      );
    }
    if (options.shuffle === true && options.rng === undefined)
      throw new RangeError('BatchCursor: shuffle needs an rng');
    this.batchSize = options.batchSize;
    this.rng = options.shuffle === true ? options.rng : undefined;
    this.order = this.newOrder();
  }

  private newOrder(): Int32Array {
    if (this.rng !== undefined) return this.rng.permutation(this.split.count);
    const o = new Int32Array(this.split.count);
    for (let i = 0; i < o.length; i++) o[i] = i;
    return o;
  }

  /** The next batchSize sample indices. */
  nextIndices(): Int32Array {
    const out = new Int32Array(this.batchSize);
    for (let k = 0; k < this.batchSize; k++) {
      if (this.position === this.order.length) {
        this.epoch++;
        this.position = 0;
        if (this.rng !== undefined) this.order = this.newOrder();
      }
      out[k] = this.order[this.position++] as number;
    }
    return out;
  }

  /** The next batch as tensors (the caller disposes them with disposeBatch). */
  next(numClasses: number): Batch {
    return gatherToTensors(this.split, this.nextIndices(), numClasses);
  }
}
