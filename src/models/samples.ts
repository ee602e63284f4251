// Samples as flat arrays (a DatasetSplit or a subset of one) and batches of them as tensors.
import * as tf from '@tensorflow/tfjs-core';

export interface Samples {
  readonly count: number;
  /** Shape of one sample, e.g. [784]. */
  readonly sampleShape: readonly number[];
  /** count × prod(sampleShape), row-major. */
  readonly x: Float32Array;
  readonly y: Int32Array;
  /** Index of each sample in its source split. */
  readonly ids: Int32Array;
}

export function sampleSize(s: Pick<Samples, 'sampleShape'>): number {
  return s.sampleShape.reduce((a, b) => a * b, 1);
}

/** The samples at positions `rows` (in that order), copied. */
export function selectSamples(s: Samples, rows: ArrayLike<number>): Samples {
  const size = sampleSize(s);
  const x = new Float32Array(rows.length * size);
  const y = new Int32Array(rows.length);
  const ids = new Int32Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r] as number;
    x.set(s.x.subarray(i * size, (i + 1) * size), r * size);
    y[r] = s.y[i] as number;
    ids[r] = s.ids[i] as number;
  }
  return { count: rows.length, sampleShape: s.sampleShape, x, y, ids };
}

/** Positions [start, end) as a view (no copy). */
export function sliceSamples(s: Samples, start: number, end: number): Samples {
  const size = sampleSize(s);
  return {
    count: end - start,
    sampleShape: s.sampleShape,
    x: s.x.subarray(start * size, end * size),
    y: s.y.subarray(start, end),
    ids: s.ids.subarray(start, end),
  };
}

/** Tensors of one batch: x [n, ...sampleShape] float32 and y [n] int32. Caller disposes. */
export function batchTensors(
  s: Samples,
  rows: ArrayLike<number> | undefined,
): { x: tf.Tensor; y: tf.Tensor1D } {
  const b = rows === undefined ? s : selectSamples(s, rows);
  return {
    x: tf.tensor(b.x, [b.count, ...b.sampleShape], 'float32'),
    y: tf.tensor1d(b.y, 'int32'),
  };
}
