// Turning batches and samples into what crosses threads and back into tensors on the other side.
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Samples } from '../plugin-api/dataset.js';
import type { Batch } from '../plugin-api/task.js';
import type { WireBatch, WireSamples, WireTensor } from './protocol.js';

function wireTensor(t: tf.Tensor, start: number, end: number): WireTensor {
  if (t.dtype !== 'float32' && t.dtype !== 'int32') {
    throw new ScalpelError(
      ErrorCode.Internal,
      `a batch tensor of dtype ${t.dtype} cannot go to a worker thread`,
      { hint: 'threads: 1 runs the pass on the run’s thread' },
    );
  }
  const [n = 0, ...rest] = t.shape;
  const size = rest.reduce((a, b) => a * b, 1);
  const all = t.dataSync() as Float32Array | Int32Array;
  if (start === 0 && end === n) return { values: all.slice(), shape: t.shape, dtype: t.dtype };
  return {
    values: all.slice(start * size, end * size),
    shape: [end - start, ...rest],
    dtype: t.dtype,
  };
}

/** Samples [start, end) of a batch, as copies (the leading dimension of inputs and targets). */
export function wireBatch(batch: Batch, start: number, end: number): WireBatch {
  return {
    count: end - start,
    inputs: wireTensor(batch.inputs, start, end),
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

/** Copies of samples [start, end) for another thread (copies: a view would carry its whole buffer). */
export function wireSamples(samples: Samples, start: number, end: number): WireSamples {
  const size = samples.sampleShape.reduce((a, b) => a * b, 1);
  return {
    count: end - start,
    sampleShape: [...samples.sampleShape],
    x: samples.x.slice(start * size, end * size),
    y: samples.y.slice(start, end),
    ids: samples.ids.slice(start, end),
  };
}

/** The buffers to transfer with wire samples or a wire batch. */
export function wireBuffers(s: WireSamples | WireBatch): ArrayBuffer[] {
  const arrays = 'x' in s ? [s.x, s.y, s.ids] : [s.inputs.values, s.targets.values];
  return arrays.map((a) => a.buffer as ArrayBuffer);
}
