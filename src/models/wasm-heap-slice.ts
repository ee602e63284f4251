// tfjs-backend-wasm 4.22's Slice kernel reads its WHOLE input into a fresh JS array
// (backend.readSync, a copy) and then copies the slice out of that copy. For a small slice of a
// large tensor — a chunk of rows of GPT-2's 50 MB logits, one of q/k/v out of the fused c_attn
// output, the used rows of the 3 MB position table — that is a garbage array of the input's size
// per call, which piles up outside the wasm heap until V8 collects it (measured: +50 MB of peak
// RSS per logits chunk). This Slice copies straight from a view of the heap: the same values
// (a slice moves values, it computes nothing), no copy of the input. initBackend('wasm') installs it.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

let installed = false;

interface SliceAttrs {
  begin: number | number[];
  size?: number | number[];
}

/**
 * Copy the box `begin` + `size` of `x` (row-major, `shape`) into `out`, one innermost run at a
 * time: the outer index is counted like an odometer over the sliced box.
 */
export function copySlice(
  x: tf.TypedArray,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  out: tf.TypedArray,
): void {
  const rank = shape.length;
  if (rank === 0 || size.some((s) => s === 0)) {
    if (rank === 0) out[0] = x[0] as number;
    return;
  }
  const strides = tf.util.computeStrides([...shape]);
  const run = size[rank - 1] as number;
  const index = new Array<number>(rank - 1).fill(0);
  for (let o = 0; o < out.length; o += run) {
    let at = begin[rank - 1] as number;
    for (let d = 0; d < rank - 1; d++)
      at += ((begin[d] as number) + (index[d] as number)) * (strides[d] as number);
    out.set(x.subarray(at, at + run), o);
    for (let d = rank - 2; d >= 0; d--) {
      index[d] = (index[d] as number) + 1;
      if ((index[d] as number) < (size[d] as number)) break;
      index[d] = 0;
    }
  }
}

/** Install the copy-free Slice on the wasm backend (idempotent; a no-op if wasm is absent). */
export function installHeapSlice(): void {
  if (installed) return;
  const original = tf.getKernel('Slice', 'wasm');
  if (original === undefined) return;
  installed = true;
  tf.unregisterKernel('Slice', 'wasm');
  const kernelFunc: tf.KernelFunc = (args) => {
    const x = (args.inputs as { x: tf.TensorInfo }).x;
    if (x.dtype === 'string') return original.kernelFunc(args);
    const backend = args.backend as BackendWasm;
    const { begin, size } = args.attrs as unknown as SliceAttrs;
    const [b = [], s = []] = tf.slice_util.parseSliceParams(x, begin, size);
    const out = backend.makeOutput(s, x.dtype);
    // Views taken after makeOutput: an allocation may grow (and so replace) the heap's buffer.
    copySlice(backend.typedArrayFromHeap(x), x.shape, b, s, backend.typedArrayFromHeap(out));
    return out;
  };
  tf.registerKernel({
    kernelName: 'Slice',
    backendName: 'wasm',
    kernelFunc,
    ...(original.setupFunc !== undefined ? { setupFunc: original.setupFunc } : {}),
    ...(original.disposeFunc !== undefined ? { disposeFunc: original.disposeFunc } : {}),
  });
}
