// Turning batches and samples into what crosses threads and back into tensors on the other side.
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Samples } from '../plugin-api/dataset.js';
import type { Batch } from '../plugin-api/task.js';
import type { WireBatch, WireSamples, WireTensor } from './protocol.js';

function wireTensor(t: tf.Tensor, start: number, end: number, shared?: Float32Array): WireTensor {
  if (t.dtype !== 'float32' && t.dtype !== 'int32') {
    throw new ScalpelError(
      ErrorCode.Internal,
      `a batch tensor of dtype ${t.dtype} cannot go to a worker thread`,
      { hint: 'threads: 1 runs the pass on the run’s thread' },
    );
  }
  const [n = 0, ...rest] = t.shape;
  const size = rest.reduce((a, b) => a * b, 1);
  if (shared !== undefined)
    return {
      values: shared.subarray(start * size, end * size),
      shape: [end - start, ...rest],
      dtype: t.dtype,
    };
  const all = t.dataSync() as Float32Array | Int32Array;
  if (start === 0 && end === n) return { values: all.slice(), shape: t.shape, dtype: t.dtype };
  return {
    values: all.slice(start * size, end * size),
    shape: [end - start, ...rest],
    dtype: t.dtype,
  };
}

/**
 * Samples [start, end) of a batch (the leading dimension of inputs and targets): copies, or views
 * of `sharedInputs` when the caller put the inputs in shared memory.
 */
export function wireBatch(
  batch: Batch,
  start: number,
  end: number,
  sharedInputs?: Float32Array,
): WireBatch {
  return {
    count: end - start,
    inputs: wireTensor(batch.inputs, start, end, sharedInputs),
    targets: wireTensor(batch.targets, start, end),
  };
}

/** The tensors of a wire batch (the caller disposes them, disposeBatch). */
export function batchFromWire(b: WireBatch): Batch {
  return {
    count: b.count,
    inputs: tf.tensor(b.inputs.values, [...b.inputs.shape], b.inputs.dtype),
    targets: tf.tensor(b.targets.values, [...b.targets.shape], b.targets.dtype),
  };
}

/**
 * Samples [start, end) for another thread: x as a view when it lies in shared memory (datasets
 * read from a stage artifact do, data/dataset-artifact.ts), else a copy (a view of an ordinary
 * buffer would carry its whole buffer); labels and ids are copied (small).
 */
export function wireSamples(samples: Samples, start: number, end: number): WireSamples {
  const size = samples.sampleShape.reduce((a, b) => a * b, 1);
  const shared = samples.x.buffer instanceof SharedArrayBuffer;
  return {
    count: end - start,
    sampleShape: [...samples.sampleShape],
    x: shared
      ? samples.x.subarray(start * size, end * size)
      : samples.x.slice(start * size, end * size),
    y: samples.y.slice(start, end),
    ids: samples.ids.slice(start, end),
  };
}

/** The buffers to transfer with wire samples or a wire batch (shared memory is not transferred). */
export function wireBuffers(s: WireSamples | WireBatch): ArrayBuffer[] {
  const arrays = 'x' in s ? [s.x, s.y, s.ids] : [s.inputs.values, s.targets.values];
  return arrays.flatMap((a) => (a.buffer instanceof ArrayBuffer ? [a.buffer] : []));
}
