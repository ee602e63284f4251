// tfjs-backend-wasm 4.22 multiplies a transposed operand (BatchMatMul with transposeA/transposeB)
// 10–15× slower than a plain product: measured 444 ms for xᵀ·dy [784×256]·[256×512] against 28 ms
// for x·w, and 47 ms for an explicit Transpose followed by the plain product. Every backward pass
// of a Dense layer needs two such products, so training ran ~8× slower than it should. This wraps
// the wasm BatchMatMul kernel so that a transposed operand is transposed explicitly first (same
// numbers: a transpose moves values, the product is the same XNNPACK kernel). initBackend('wasm')
// installs it, so every stage gets it.
import * as tf from '@tensorflow/tfjs-core';

let installed = false;

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** Install the faster BatchMatMul on the wasm backend (idempotent; a no-op if wasm is absent). */
export function installFastTransposedMatMul(): void {
  if (installed) return;
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (original === undefined || transpose === undefined) return;
  installed = true;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  const kernelFunc: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { transposeA, transposeB } = attrs as unknown as MatMulAttrs;
    if (!transposeA && !transposeB) return original.kernelFunc(args);
    const temps: tf.TensorInfo[] = [];
    const swapLast = (t: tf.TensorInfo): tf.TensorInfo => {
      const r = t.shape.length;
      const perm = [...Array(r - 2).keys(), r - 1, r - 2];
      const out = transpose.kernelFunc({
        inputs: { x: t },
        backend,
        attrs: { perm },
      }) as tf.TensorInfo;
      temps.push(out);
      return out;
    };
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const result = original.kernelFunc({
      inputs: { a: transposeA ? swapLast(a) : a, b: transposeB ? swapLast(b) : b },
      backend,
      attrs: { ...attrs, transposeA: false, transposeB: false },
    });
    for (const t of temps) (backend as tf.KernelBackend).disposeData(t.dataId);
    return result;
  };
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    kernelFunc,
    ...(original.setupFunc !== undefined ? { setupFunc: original.setupFunc } : {}),
    ...(original.disposeFunc !== undefined ? { disposeFunc: original.disposeFunc } : {}),
  });
}
