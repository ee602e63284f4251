// A float32 tensor's values where they already are, instead of a copy: on the wasm backend a
// view of the wasm heap, so loading a checkpoint reads each tensor straight into the tensor and
// saving one writes each tensor straight from it (a 124M-parameter model then never has a second,
// JavaScript-side copy of its largest tensors while it loads or saves). Other backends keep
// values in JavaScript arrays: a new tensor adopts its array (no copy on the cpu backend) and a
// view is what dataSync returns.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ErrorCode, ScalpelError } from '../errors.js';

function wasmBackend(): BackendWasm | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  return tf.backend() as BackendWasm;
}

/**
 * A float32 tensor of `shape` whose values `fill` writes into `dst` (every element). On wasm
 * `dst` is the tensor's own heap memory: it is valid only while `fill` runs synchronously, and
 * `fill` must not make tfjs tensors (an allocation may move the heap). If `fill` throws, the
 * tensor is disposed and the error passes through.
 */
export function tensorFilledInPlace(
  shape: readonly number[],
  fill: (dst: Float32Array) => void,
): tf.Tensor {
  const backend = wasmBackend();
  if (backend === undefined) {
    const values = new Float32Array(tf.util.sizeFromShape([...shape]));
    fill(values);
    return tf.tensor(values, [...shape], 'float32');
  }
  const info = backend.makeOutput([...shape], 'float32');
  const t = tf.engine().makeTensorFromTensorInfo(info);
  try {
    fill(backend.typedArrayFromHeap(info) as Float32Array);
  } catch (e) {
    t.dispose();
    throw e;
  }
  return t;
}

/**
 * The values of float32 tensor `t` without a copy where the backend allows (wasm: a view of the
 * heap). Read-only, and valid only until the next tfjs operation or `await`: use it at once (a
 * synchronous write, a hash), never keep it.
 */
export function valuesView(t: tf.Tensor): Float32Array {
  if (t.dtype !== 'float32')
    throw new ScalpelError(ErrorCode.Internal, `valuesView: tensor of dtype ${t.dtype}`);
  const backend = wasmBackend();
  if (backend === undefined) return t.dataSync() as Float32Array;
  return backend.typedArrayFromHeap(t) as Float32Array;
}
